import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from booking.emails.tasks import message_send
from booking.models import Appointment, AppointmentStatus, Message, MessageStatus
from tests.browser.test_booking import answer_no_to_all, details_fill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def send_pending_emails():
    """What the worker does: send every email that is due."""
    for pk in Message.objects.filter(status=MessageStatus.PENDING).values_list("pk", flat=True):
        message_send.call(pk)


def choose_a_time_days_ahead(page):
    """The first time on the last day shown: well beyond the cutoff for changing online. Returns "HH:MM"."""
    label = page.locator("fieldset.time-day").last.locator("label").first
    chosen = label.inner_text()
    label.click()
    return chosen


def test_patient_books_then_moves_and_cancels_through_the_emailed_link(page, mailoutbox):
    # Book.
    page.goto("/book/")
    page.get_by_role("link", name="Hair loss").click()
    booked_at = choose_a_time_days_ahead(page)
    page.get_by_role("button", name="Continue").click()
    details_fill(page)
    answer_no_to_all(page)
    page.get_by_role("button", name="Request this appointment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment is requested")
    reference = page.locator(".booking-reference").inner_text()

    # The request-received email carries the patient's own link.
    send_pending_emails()
    (email,) = [m for m in mailoutbox if m.to == ["grace@example.com"]]
    assert reference in email.subject
    link = re.search(r"https?://\S+/appointment/\S+/", email.body).group(0)

    page.goto(urlsplit(link).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment")
    expect(page.locator(".booking-reference")).to_have_text(reference)
    expect(page.locator(".appointment-status")).to_contain_text("Requested")
    expect(page.locator(".appointment-time")).to_contain_text(f"at {booked_at}")

    # Move.
    page.get_by_role("link", name="Choose another time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose another time")
    expect(page.locator(".current-time")).to_contain_text(f"at {booked_at}")
    day = page.locator("fieldset.time-day").last.locator("legend").inner_text()
    moved_at = choose_a_time_days_ahead(page)
    page.get_by_role("button", name="Move to this time").click()
    expect(page.locator(".messages")).to_contain_text("Your appointment has moved to")
    expect(page.locator(".appointment-time")).to_contain_text(f"{day} ")
    expect(page.locator(".appointment-time")).to_contain_text(f"at {moved_at}")

    # The old link still leads to the appointment, at its new time.
    page.goto(urlsplit(link).path)
    expect(page.locator(".appointment-time")).to_contain_text(f"at {moved_at}")

    # Cancel, after saying so twice.
    page.get_by_role("link", name="Cancel this appointment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your appointment?")
    page.get_by_role("button", name="Yes, cancel this appointment").click()
    expect(page.locator(".messages")).to_contain_text("is cancelled")
    expect(page.locator(".appointment-status")).to_have_text("Cancelled by you")
    expect(page.get_by_role("link", name="Cancel this appointment")).to_have_count(0)
    expect(page.get_by_role("link", name="Choose another time")).to_have_count(0)

    appointment = Appointment.objects.get(reference=reference)
    assert appointment.status == AppointmentStatus.CANCELLED_BY_PATIENT
    assert appointment.sequence == 2  # the move and the cancellation: each a new revision of the calendar entry
    send_pending_emails()
    subjects = [m.subject for m in mailoutbox if m.to == ["grace@example.com"]]
    assert any("has moved" in subject for subject in subjects)
    assert any("is cancelled" in subject for subject in subjects)
