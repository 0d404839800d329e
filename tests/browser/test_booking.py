import re

import pytest
from playwright.sync_api import expect

from booking.models import Appointment, AppointmentStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focused(locator):
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page, locator, limit=80):
    """Press Tab until ``locator`` has the focus, as a keyboard user would move through the page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(locator):
            return
    raise AssertionError(f"Tab never reached {locator}")


def test_new_patient_books_with_the_keyboard_only(page):
    page.goto("/book/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment")

    # Step 1: the treatment.
    tab_to(page, page.get_by_role("link", name="Hair loss"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a time for Hair loss")

    # Step 2: the first free time. Tab enters the radio group at its first time; Space chooses it.
    first_time = page.locator("input[name=start]").first
    tab_to(page, first_time)
    page.keyboard.press("Space")
    expect(first_time).to_be_checked()
    chosen = page.locator(f"label[for='{first_time.get_attribute('id')}']").inner_text()
    assert re.fullmatch(r"\d\d:\d\d", chosen)
    tab_to(page, page.get_by_role("button", name="Continue"))
    page.keyboard.press("Enter")

    # Step 3: the details.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    expect(page.locator("#time-choice")).to_contain_text(f"at {chosen}")
    tab_to(page, page.get_by_label("First name"))
    page.keyboard.type("Grace")
    page.keyboard.press("Tab")
    page.keyboard.type("Hopper")
    page.keyboard.press("Tab")
    page.keyboard.type("grace@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("020 7946 0000")
    first_visit = page.get_by_label("Yes, this is my first visit")
    tab_to(page, first_visit)
    page.keyboard.press("Space")
    expect(first_visit).to_be_checked()
    consent = page.get_by_role("checkbox", name=re.compile("I agree"))
    tab_to(page, consent)
    page.keyboard.press("Space")
    expect(consent).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Request this appointment"))
    page.keyboard.press("Enter")

    # Step 4: the reference.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment is requested")
    reference = page.locator(".booking-reference").inner_text()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", reference)
    expect(page.get_by_role("main")).to_contain_text(f"at {chosen}")

    appointment = Appointment.objects.get(reference=reference)
    assert appointment.status == AppointmentStatus.REQUESTED
    assert appointment.first_name == "Grace"
    assert appointment.phone == "+442079460000"
    assert appointment.treatment.slug == "hair-loss"
    assert appointment.consent_at is not None
