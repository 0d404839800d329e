"""A member of staff switches the admin to French and back in a real browser, with the keyboard."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.signin import admin_sign_in
from tests.browser.test_accessibility import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long and unguessable passphrase"


@pytest.fixture
def manager():
    return get_user_model().objects.create_superuser("maya", "maya@example.com", PASSWORD)


def test_staff_switch_the_admin_to_french_and_back_with_the_keyboard(page, manager):
    # Before signing in, too: the sign-in page offers the switch.
    page.goto("/admin/login/")
    switch = page.get_by_role("group", name="Language")
    expect(switch.get_by_role("button", name="Français")).to_be_visible()

    admin_sign_in(page, manager, PASSWORD, path="/admin/faq/question/")
    expect(page.get_by_role("heading", name="Select question to change")).to_be_visible()
    page.get_by_role("group", name="Language").get_by_role("button", name="Français").focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/admin/faq/question/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Sélectionnez l’objet question à changer")).to_be_visible()
    expect(page.get_by_role("link", name="Authentification à deux facteurs")).to_be_visible()
    switch = page.get_by_role("group", name="Langue")
    expect(switch.get_by_role("button", name="Français")).to_have_attribute("aria-current", "true")

    # The admin keeps the choice from page to page (the language cookie).
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Rendez-vous")).to_be_visible()
    assert violations(page) == []
    page.get_by_role("group", name="Langue").get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", name="Appointments")).to_be_visible()
    page.goto("/admin/faq/question/")
    expect(page.get_by_role("heading", name="Select question to change")).to_be_visible()
