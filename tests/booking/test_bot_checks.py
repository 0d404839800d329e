"""Bots on the public forms: a honeypot field and a minimum fill time store nothing and say nothing
useful, while a person at a person's speed books as before; an oversized request never reaches a view."""

import re
import time
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from booking.links import appointment_from_confirmation_token
from booking.models import Appointment, Message, Treatment, WaitlistEntry
from booking.requests import views as booking_views
from booking.requests.botcheck import TRY_AGAIN_MESSAGE, form_token, form_token_read
from booking.requests.forms import start_format
from booking.schedule.availability import first_day_today, free_slots
from tests.factories import answers_fine

pytestmark = pytest.mark.django_db

TYPED = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "020 7946 0000",
    "message": "Please call after 5pm.",
    "first_visit": "yes",
    "consent": "on",
}
WAITLIST_TYPED = {name: TYPED[name] for name in ("first_name", "last_name", "email", "phone", "consent")}


@pytest.fixture(autouse=True)
def _min_fill_time(settings):
    """The site's own default, which the other tests turn off."""
    settings.CLINIC_FORM_MIN_SECONDS = 3


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


@pytest.fixture
def slot(treatment, practitioner):
    today = first_day_today()
    return free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(days=7))[0]


def details_url(treatment):
    return reverse("booking:details", kwargs={"treatment_slug": treatment.slug})


def join_url(treatment):
    return reverse("booking:waitlist_join", kwargs={"treatment_slug": treatment.slug})


def booking_data(slot, *, seconds_ago=5, **changes):
    data = {
        "start": start_format(slot.start),
        "practitioner": "any",
        "started": form_token(at=time.time() - seconds_ago),
        "website": "",
        **TYPED,
        **answers_fine(),
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def waitlist_data(*, seconds_ago=5, **changes):
    day = first_day_today() + timedelta(days=2)
    data = {
        **WAITLIST_TYPED,
        "date_from": day.isoformat(),
        "date_to": (day + timedelta(days=3)).isoformat(),
        "started": form_token(at=time.time() - seconds_ago),
        "website": "",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def nothing_stored():
    return not Appointment.objects.exists() and not WaitlistEntry.objects.exists() and not Message.objects.exists()


def assert_says_only_try_again(response):
    html = response.content.decode()
    assert response.status_code == 400
    assert TRY_AGAIN_MESSAGE in html
    assert not re.search(r"\b(honeypot|bots?|automated|too fast|too quickly|seconds|website)\b", text_of(html), re.I)


def text_of(html):
    """What a reader sees: the page without its tags."""
    return re.sub(r"<[^>]+>", " ", html)


def hidden_value(html, name):
    return re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html).group(1)


# --- the fields ------------------------------------------------------------------------------------


def test_the_booking_form_hides_the_honeypot_from_sight_screen_readers_and_the_tab_key(client, treatment, slot):
    response = client.get(details_url(treatment), {"start": start_format(slot.start), "practitioner": "any"})
    html = response.content.decode()

    wrapper = re.search(r'<div[^>]*class="form-extra"[^>]*>.*?</div>\s*</div>', html, re.S).group(0)
    assert 'aria-hidden="true"' in wrapper
    assert "Leave this field empty" in wrapper
    field = re.search(r'<input[^>]*name="website"[^>]*>', wrapper).group(0)
    assert 'tabindex="-1"' in field
    assert 'autocomplete="off"' in field
    assert "value=" not in field


def test_the_booking_and_waitlist_forms_carry_the_signed_time_they_were_shown(client, treatment, slot):
    booking = client.get(details_url(treatment), {"start": start_format(slot.start), "practitioner": "any"})
    waitlist = client.get(join_url(treatment))

    for response in (booking, waitlist):
        token = form_token_read(hidden_value(response.content.decode(), "started"))
        assert token is not None
        assert abs(time.time() - token.shown_at) < 60
    forged = hidden_value(booking.content.decode(), "started").replace(":", "0:", 1)
    assert form_token_read(forged) is None


# --- tripped checks: nothing stored, nothing said --------------------------------------------------


def test_a_filled_honeypot_stores_nothing_queues_no_email_and_only_asks_to_try_again(
    client, treatment, slot, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(details_url(treatment), booking_data(slot, website="https://cheap-pills.example"))

    assert_says_only_try_again(response)
    assert nothing_stored()
    assert mailoutbox == []
    html = response.content.decode()
    assert "cheap-pills" not in html  # never shown back
    assert 'value="Ada"' in html  # a person caught by mistake keeps what they typed


def test_a_booking_sent_back_faster_than_a_person_could_stores_nothing(
    client, treatment, slot, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(details_url(treatment), booking_data(slot, seconds_ago=0.5))

    assert_says_only_try_again(response)
    assert nothing_stored()
    assert mailoutbox == []


@pytest.mark.parametrize("started", [None, "", "1700000000.000", "1700000000.000:forged-signature", str(uuid.uuid4())])
def test_a_booking_without_a_genuine_start_time_stores_nothing(client, treatment, slot, started):
    response = client.post(details_url(treatment), booking_data(slot, started=started))

    assert_says_only_try_again(response)
    assert nothing_stored()


def test_a_person_taking_five_seconds_books_as_before(client, treatment, slot):
    response = client.post(details_url(treatment), booking_data(slot, seconds_ago=5))

    assert response.status_code == 303
    appointment = Appointment.objects.get()
    assert appointment.email == "ada@example.com"
    assert Message.objects.filter(appointment=appointment).exists()


def test_a_person_caught_by_the_clock_books_by_simply_sending_again(client, treatment, slot, monkeypatch):
    """The form shown again keeps its first time, so a second press a few seconds later goes through."""
    first = client.post(details_url(treatment), booking_data(slot, seconds_ago=1))
    assert first.status_code == 400
    html = first.content.decode()

    again = {**booking_data(slot), "started": hidden_value(html, "started")}
    later = time.time() + 5
    monkeypatch.setattr("booking.requests.botcheck.time.time", lambda: later)
    second = client.post(details_url(treatment), again)

    assert second.status_code == 303
    assert Appointment.objects.count() == 1


def test_a_waited_form_replayed_for_other_patients_books_only_once(client, treatment, slot, practitioner):
    """A bot waits once and sends the same form again and again with other details: one booking."""
    token = form_token(at=time.time() - 5)
    later = free_slots(treatment=treatment, first_day=first_day_today(), last_day=first_day_today() + timedelta(7))
    responses = [
        client.post(
            details_url(treatment),
            booking_data(other, started=token, email=f"bot{n}@example{n}.com", first_name=f"Bot{n}"),
        )
        for n, other in enumerate(later[2:6])
    ]

    assert Appointment.objects.count() == 1
    # Each replay is answered with the one booking the form made, not a new one (the signed link
    # carries its own time, so two answers a second apart differ in text, not in what they open).
    opened = {appointment_from_confirmation_token(response["Location"].split("/")[-2]) for response in responses}
    assert opened == {Appointment.objects.get()}


def test_a_form_older_than_its_maximum_age_is_shown_again_with_everything_kept(client, treatment, slot, settings):
    settings.CLINIC_FORM_MAX_AGE_HOURS = 1
    response = client.post(details_url(treatment), booking_data(slot, seconds_ago=2 * 3600))

    assert_says_only_try_again(response)
    assert nothing_stored()
    html = response.content.decode()
    assert 'value="Ada"' in html
    # The form shown again carries a fresh token, so sending it once more books.
    fresh = form_token_read(hidden_value(html, "started"))
    assert fresh is not None and time.time() - fresh.shown_at < 60


def test_a_waitlist_form_replayed_with_other_details_joins_once(client, treatment):
    token = form_token(at=time.time() - 5)
    for n in range(3):
        client.post(join_url(treatment), waitlist_data(started=token, email=f"bot{n}@example{n}.com"))

    assert WaitlistEntry.objects.count() == 1


def test_the_waitlist_ignores_a_filled_honeypot_and_a_too_fast_form(client, treatment):
    honeypot = client.post(join_url(treatment), waitlist_data(website="spam"))
    too_fast = client.post(join_url(treatment), waitlist_data(seconds_ago=0))

    assert_says_only_try_again(honeypot)
    assert_says_only_try_again(too_fast)
    assert nothing_stored()


def test_a_person_joins_the_waitlist_at_a_persons_speed(client, treatment):
    response = client.post(join_url(treatment), waitlist_data(seconds_ago=5))

    assert response.status_code == 303
    assert WaitlistEntry.objects.get().email == "ada@example.com"


def test_the_check_message_links_to_the_form(client, treatment, slot):
    response = client.post(details_url(treatment), booking_data(slot, website="x"))

    assert f'<a href="#details-form">{TRY_AGAIN_MESSAGE}</a>' in response.content.decode()


# --- size limits -----------------------------------------------------------------------------------


def test_a_3_mb_booking_post_is_refused_by_the_size_limit_before_the_view(treatment, slot, monkeypatch):
    """With CSRF enforced, as in production, the middleware reads the body first and hits the limit."""

    def view_reached(*args, **kwargs):
        raise AssertionError("the view read the oversized request")

    monkeypatch.setattr(booking_views, "DetailsForm", view_reached)
    browser = Client(enforce_csrf_checks=True)
    token = "a" * 32
    browser.cookies["csrftoken"] = token
    body = booking_data(slot, csrfmiddlewaretoken=token, message="x" * (3 * 1024 * 1024))

    response = browser.post(details_url(treatment), body)

    assert response.status_code in (400, 413)
    assert "We could not accept that request" in response.content.decode()
    assert nothing_stored()


def test_the_page_source_never_names_the_trap(client, treatment, slot):
    """Crispy writes each widget's class name into the page: it must not say "honeypot"."""
    html = client.get(details_url(treatment), {"start": start_format(slot.start), "practitioner": "any"}).content
    assert b"honeypot" not in html.lower()


def test_a_request_for_an_unknown_host_gets_the_sites_400_page_not_a_500(client):
    response = client.get("/", HTTP_HOST="attacker.example")

    assert response.status_code == 400
    assert "We could not accept that request" in response.content.decode()
