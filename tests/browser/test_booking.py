import re

import pytest
from playwright.sync_api import expect

from booking.emails.compose import email_build
from booking.intake.models import Enquiry
from booking.models import Appointment, AppointmentStatus, MessageKind

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


def answer_all_with_the_keyboard(page, *, no_to_all):
    """Each yes-or-no question: Tab into its group (on "Yes"), the arrow key moves to and picks "No"."""
    for group in page.get_by_role("radiogroup").all() or page.locator("fieldset:has(input[type=radio])").all():
        first = group.locator("input[type=radio]").first
        tab_to(page, first)
        page.keyboard.press("ArrowDown" if no_to_all else "Space")
        expect(group.locator("input[type=radio]:checked")).to_have_count(1)


def details_fill(page, email="grace@example.com"):
    """The details step filled in as a new patient would, then on to the health questions."""
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Phone number").fill("020 7946 0000")
    page.get_by_label("Yes, this is my first visit").check()
    page.get_by_role("checkbox", name=re.compile("I agree")).check()
    page.get_by_role("button", name="Continue to the health questions").click()


def answer_no_to_all(page):
    """Each yes-or-no health question answered "No" with the mouse; the text question left empty."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Health questions")
    for group in page.locator("fieldset:has(input[type=radio])").all():
        group.get_by_label("No").check()


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
    tab_to(page, page.get_by_role("button", name="Continue to the health questions"))
    page.keyboard.press("Enter")

    # Step 4: the health questions, each a radio group (or a text box) of its own.
    expect(page.get_by_role("heading", level=1)).to_have_text("Health questions")
    answer_all_with_the_keyboard(page, no_to_all=True)
    tab_to(page, page.get_by_role("button", name="Request this appointment"))
    page.keyboard.press("Enter")

    # Step 5: the reference.
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
    answers = list(appointment.health_answers.values_list("answer", flat=True))
    assert answers == ["No", "No", "No", "No", ""]


def test_an_answer_that_needs_a_talk_first_leads_to_a_message_not_a_booking(page):
    page.goto("/book/hair-loss/")
    page.locator("label.time-option").first.click()
    page.get_by_role("button", name="Continue").click()
    details_fill(page)

    # Sent without an answer: the same step, the question named, nothing lost.
    page.get_by_role("button", name="Request this appointment").click()
    expect(page.get_by_role("alert")).to_contain_text("Answer the question")
    pregnant = page.get_by_role("group", name=re.compile("pregnant"))
    pregnant.get_by_label("Yes").check()
    for question in ("blood thinners", "allergic", "skin infection"):
        page.get_by_role("group", name=re.compile(question)).get_by_label("No").check()
    page.get_by_role("button", name="Request this appointment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Please talk to us before booking")
    expect(page.get_by_role("main")).to_contain_text("Nothing has been booked")
    expect(page.get_by_label("Phone number to call you on")).to_have_value("020 7946 0000")
    page.get_by_label("Message for the clinic (optional)").fill("Mornings are best.")
    page.get_by_role("button", name="Send my message").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, your message has reached us")
    assert Appointment.objects.count() == 0
    enquiry = Enquiry.objects.get()
    assert (enquiry.first_name, enquiry.message, enquiry.treatment.slug) == ("Grace", "Mornings are best.", "hair-loss")
    assert enquiry.health_answers.filter(talk_first=True).count() == 1


def book_with_the_mouse(page, email):
    page.goto("/book/hair-loss/")
    page.locator("label.time-option").first.click()
    page.get_by_role("button", name="Continue").click()
    details_fill(page, email)
    answer_no_to_all(page)
    page.get_by_role("button", name="Request this appointment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment is requested")
    return Appointment.objects.get(reference=page.locator(".booking-reference").inner_text())


def test_a_new_patient_confirms_the_address_from_the_email_and_this_browser_is_not_asked_again(page):
    appointment = book_with_the_mouse(page, "grace@example.com")
    expect(page.get_by_role("main")).to_contain_text("Please check your inbox now.")

    email = email_build(message=appointment.messages.get(kind=MessageKind.REQUEST_RECEIVED))
    link = re.search(r"https?://\S+(/book/confirm-email/\S+/)", email.body).group(1)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    page.get_by_role("button", name="Confirm my email address").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment is requested")
    expect(page.get_by_role("main")).to_contain_text("The clinic's staff will check your request")
    expect(page.get_by_role("main")).not_to_contain_text("Please check your inbox")
    appointment.refresh_from_db()
    assert appointment.email_confirmed_at is not None

    # Back on the site later for another visit: the same address on this browser is trusted.
    again = book_with_the_mouse(page, "grace@example.com")
    expect(page.get_by_role("main")).to_contain_text("The clinic's staff will check your request")
    assert again.email_confirmed_at is not None
