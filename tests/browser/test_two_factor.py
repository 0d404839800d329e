"""A new staff member sets up two-factor sign-in in a real browser, and later signs in with a recovery code."""

import re
from base64 import b32decode
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.browser.test_accessibility import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long and unguessable passphrase"


@pytest.fixture
def newcomer():
    return get_user_model().objects.create_user("nadia", "nadia@example.com", PASSWORD, is_staff=True)


def sign_in(page, code=None):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("nadia")
    page.get_by_label("Password").fill(PASSWORD)
    if code is not None:
        page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name=re.compile("Log in", re.I)).click()


def test_a_new_member_sets_up_the_authenticator_then_signs_in_with_a_recovery_code(page, newcomer):
    sign_in(page)  # no code yet: nothing to take it from
    expect(page).to_have_url(re.compile(r"/admin/two-factor/set-up/$"))
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('.two-factor-qr img').naturalWidth") > 100  # drawn, CSP allows it
    enrol_problems = violations(page)

    # What the staff member types into the app by hand, and the code the app then shows.
    secret = "".join(page.locator(".two-factor-secret").inner_text().split())
    key = b32decode(secret + "=" * (-len(secret) % 8))
    wrong = f"{(totp(key) + 1) % 1_000_000:06d}"
    page.get_by_label("Code from your authenticator app").fill(wrong)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    page.wait_for_timeout(1100)  # django-otp makes the next try wait a second after a wrong code
    page.get_by_label("Code from your authenticator app").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".two-factor-codes li").all_inner_texts()
    assert len(codes) >= 8
    expect(page.get_by_role("button", name="Print the codes")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the codes").click()
    assert codes[0] in Path(download.value.path()).read_text()
    codes_problems = violations(page)
    page.get_by_role("button", name="I have kept my codes").click()
    expect(page.locator(".messagelist")).to_contain_text("Two-factor sign-in is set up")
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_role("main")).to_contain_text(f"You have {len(codes)} unused recovery codes")
    manage_problems = violations(page)
    page.get_by_role("button", name=re.compile("Log out", re.I)).click()

    # A lost phone: a recovery code signs in, once.
    sign_in(page, code=codes[0])
    expect(page).to_have_url(re.compile(r"/admin/$"))
    page.get_by_role("button", name=re.compile("Log out", re.I)).click()
    sign_in(page, code=codes[0])
    expect(page.locator(".errornote")).to_contain_text("used already")
    assert {"enrol": enrol_problems, "codes": codes_problems, "manage": manage_problems} == {
        "enrol": [],
        "codes": [],
        "manage": [],
    }
