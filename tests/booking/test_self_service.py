"""The patient's own appointment page, reached through the signed link in every email: see, cancel, move, .ics."""

import re
import time as clock
from datetime import UTC, datetime, time, timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from booking.appointments import services
from booking.appointments.services import appointment_request, appointment_transition
from booking.links import MANAGE_SALT, confirmation_token, manage_token
from booking.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Message,
    MessageKind,
    Practitioner,
    Treatment,
)
from booking.requests import forms as booking_forms
from booking.requests.forms import start_format
from booking.selfservice.views import STATUS_WORDS
from clinic.models import ClinicDetails
from tests.factories import appointment_at
from tests.public_pages import PastSigner

pytestmark = pytest.mark.django_db

S = AppointmentStatus
PHONE = "020 7946 0999"


@pytest.fixture(autouse=True)
def _links_signed_in_one_second(monkeypatch):
    """A signed link names the second it was made; links a test compares must not straddle a second."""
    stamp = signing.b62_encode(int(clock.time()))
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: stamp)


@pytest.fixture
def clinic():
    details = ClinicDetails.objects.current()
    details.phone = PHONE
    details.self_service_cutoff_hours = 24
    details.save()
    return details


@pytest.fixture
def treatment():
    treatment = Treatment.objects.get(slug="hair-loss")
    treatment.before_visit = "Apply numbing cream thirty minutes before, if you want it."
    treatment.save()
    return treatment


@pytest.fixture
def practitioner(practitioner, clinic):
    """The shared one (tests/conftest.py), with this module's clinic settings in place."""
    return practitioner


def local(days_ahead, hour, minute=0):
    """A time in the clinic's zone, some days from today."""
    day = timezone.localdate() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


def shown(start):
    """The time as the pages show it."""
    start = timezone.localtime(start)
    return f"{start:%A} {start.day} {start:%B %Y} at {start:%H:%M}"


@pytest.fixture
def appointment(treatment, practitioner):
    """A request made online three days ahead: well outside the 24-hour cutoff."""
    return appointment_request(
        treatment=treatment,
        start=local(3, 10),
        practitioner=practitioner,
        patient={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "+442079460000",
            "message": "",
            "first_visit": True,
        },
    )


def url(name, appointment):
    return reverse(f"booking:{name}", kwargs={"token": manage_token(appointment=appointment)})


def state(appointment):
    """Everything a GET must leave alone."""
    fresh = Appointment.objects.get(pk=appointment.pk)
    return (
        fresh.status,
        fresh.starts_at,
        fresh.practitioner_id,
        fresh.sequence,
        fresh.updated_at,
        Message.objects.count(),
        AppointmentEvent.objects.count(),
    )


def kinds(appointment):
    return set(Message.objects.filter(appointment=appointment).values_list("kind", flat=True))


def radio_values(html):
    return re.findall(r'type="radio" name="start" id="[^"]+" value="([^"]+)"', html)


# --- the page -------------------------------------------------------------------------------------


def test_the_emailed_link_shows_the_appointment_and_the_choices(client, appointment, practitioner, treatment):
    response = client.get(url("manage", appointment))
    html = response.content.decode()

    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert appointment.reference in html
    assert "Requested: the clinic will confirm it by email" in html
    assert shown(appointment.starts_at) in html
    assert treatment.name in html
    assert practitioner.name in html
    assert "Apply numbing cream thirty minutes before" in html
    assert f'href="{url("manage_move", appointment)}"' in html
    assert f'href="{url("manage_cancel", appointment)}"' in html
    assert f'href="{url("manage_calendar", appointment)}"' in html
    assert "style=" not in html
    assert "<script" not in html


def test_the_page_is_never_cached_nor_its_address_passed_on(client, appointment):
    for name in ("manage", "manage_calendar"):
        response = client.get(url(name, appointment))
        assert response.status_code == 200, name
        assert response["Referrer-Policy"] == "no-referrer", name
        assert "no-store" in response["Cache-Control"], name
    # Pages with a form tell only this site where they are: under "no-referrer" the browser would
    # send "Origin: null" with the POST and the CSRF check would refuse it.
    for name in ("manage_cancel", "manage_move"):
        response = client.get(url(name, appointment))
        assert response.status_code == 200, name
        assert response["Referrer-Policy"] == "same-origin", name
        assert "no-store" in response["Cache-Control"], name


def test_opening_the_page_and_the_cancel_and_move_links_changes_nothing(
    client, appointment, django_capture_on_commit_callbacks
):
    before = state(appointment)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for name in ("manage", "manage_cancel", "manage_move", "manage_calendar"):
            assert client.get(url(name, appointment)).status_code == 200
            assert client.head(url(name, appointment)).status_code in (200, 405)

    assert state(appointment) == before
    assert callbacks == []


def test_a_post_without_the_csrf_token_cancels_nothing(appointment):
    before = state(appointment)
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(url("manage_cancel", appointment))
    assert response.status_code == 403
    assert state(appointment) == before


# --- cancel ---------------------------------------------------------------------------------------


def test_the_cancel_link_asks_before_cancelling(client, appointment):
    html = client.get(url("manage_cancel", appointment)).content.decode()
    assert "Are you sure?" in html
    assert 'method="post"' in html
    assert "csrfmiddlewaretoken" in html
    assert "Yes, cancel this appointment" in html


def test_pressing_cancel_cancels_and_queues_the_patients_and_the_clinics_emails(
    client, appointment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url("manage_cancel", appointment))

    assert response.status_code == 303
    assert response["Location"] == url("manage", appointment)
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED_BY_PATIENT
    event = appointment.events.last()
    assert (event.from_status, event.to_status) == (S.REQUESTED, S.CANCELLED_BY_PATIENT)
    assert {MessageKind.CANCELLED, MessageKind.CLINIC_CANCELLED} <= kinds(appointment)
    assert callbacks  # the emails are handed to the worker once the cancellation commits

    html = client.get(response["Location"]).content.decode()
    assert f"Your appointment on {shown(appointment.starts_at)} is cancelled" in html
    assert "Cancelled by you" in html
    assert "Cancel this appointment" not in html
    assert "Choose another time" not in html


def test_cancelling_twice_says_it_is_already_cancelled_and_changes_nothing(client, appointment):
    client.post(url("manage_cancel", appointment))
    before = state(appointment)

    response = client.post(url("manage_cancel", appointment))

    assert response.status_code == 409
    assert "cancelled by you, so it can no longer be moved or cancelled" in response.content.decode()
    assert state(appointment) == before


@pytest.mark.parametrize("status", [S.CANCELLED_BY_CLINIC, S.DECLINED, S.COMPLETED])
def test_an_appointment_that_is_over_shows_its_state_and_no_choices(client, treatment, practitioner, status):
    over = appointment_at(local(3, 10), treatment=treatment, practitioner=practitioner, status=status)
    html = client.get(url("manage", over)).content.decode()

    assert STATUS_WORDS[status] in html
    assert "Cancel this appointment" not in html
    assert "Choose another time" not in html
    for name in ("manage_cancel", "manage_move"):
        assert client.get(url(name, over)).status_code == 409
        assert client.post(url(name, over), {"start": start_format(local(4, 10))}).status_code == 409
    over.refresh_from_db()
    assert (over.status, over.starts_at) == (status, local(3, 10))


# --- links that do not work -----------------------------------------------------------------------


def altered(token):
    """The same token with one character of its signature changed."""
    last = "A" if token[-1] != "A" else "B"
    return token[:-1] + last


@pytest.mark.parametrize("name", ["manage", "manage_cancel", "manage_move", "manage_calendar"])
def test_an_altered_or_garbled_link_is_not_valid(client, appointment, name):
    before = state(appointment)
    token = manage_token(appointment=appointment)
    for bad in (altered(token), "nonsense", token.split(":")[0], confirmation_token(appointment=appointment)):
        response = client.get(reverse(f"booking:{name}", kwargs={"token": bad}))
        assert response.status_code == 404, bad
        assert "This link is not valid" in response.content.decode()
        assert response["Referrer-Policy"] == "no-referrer"
    assert client.post(reverse(f"booking:{name}", kwargs={"token": altered(token)})).status_code in (404, 405)
    assert state(appointment) == before


def test_an_expired_link_says_so_with_the_clinics_phone(client, appointment):
    before = state(appointment)
    old = PastSigner(salt=MANAGE_SALT, days_ago=settings.CLINIC_PATIENT_LINK_DAYS + 1).sign_object(
        appointment.reference
    )
    recent = PastSigner(salt=MANAGE_SALT, days_ago=settings.CLINIC_PATIENT_LINK_DAYS - 1).sign_object(
        appointment.reference
    )

    for name in ("manage", "manage_cancel", "manage_move", "manage_calendar"):
        response = client.get(reverse(f"booking:{name}", kwargs={"token": old}))
        assert response.status_code == 410, name
        html = response.content.decode()
        assert "This link has expired" in html
        assert PHONE in html
    assert client.post(reverse("booking:manage_cancel", kwargs={"token": old})).status_code == 410
    assert state(appointment) == before
    assert client.get(reverse("booking:manage", kwargs={"token": recent})).status_code == 200


# --- the cutoff -----------------------------------------------------------------------------------


def booked_a_while_ago(start, **fields):
    """An appointment booked an hour ago, past the minutes in which any booking may be cancelled."""
    appointment = appointment_at(start, **fields)
    Appointment.objects.filter(pk=appointment.pk).update(created_at=timezone.now() - timedelta(hours=1))
    appointment.refresh_from_db()
    return appointment


def test_within_the_cutoff_the_page_gives_the_phone_instead_of_the_buttons(client, treatment, practitioner):
    soon = booked_a_while_ago(timezone.now() + timedelta(hours=2), treatment=treatment, practitioner=practitioner)
    html = client.get(url("manage", soon)).content.decode()
    assert "less than 24 hours away" in html
    assert PHONE in html
    assert "Cancel this appointment" not in html
    assert "Choose another time" not in html


def test_cancel_within_the_cutoff_is_refused_and_changes_nothing(client, treatment, practitioner):
    soon = booked_a_while_ago(timezone.now() + timedelta(hours=2), treatment=treatment, practitioner=practitioner)
    before = state(soon)

    response = client.post(url("manage_cancel", soon))

    assert response.status_code == 403
    html = response.content.decode()
    assert "less than 24 hours away" in html
    assert PHONE in html
    assert state(soon) == before


def test_move_within_the_cutoff_is_refused_and_changes_nothing(client, treatment, practitioner):
    soon = booked_a_while_ago(timezone.now() + timedelta(hours=2), treatment=treatment, practitioner=practitioner)
    before = state(soon)

    assert client.get(url("manage_move", soon)).status_code == 403
    response = client.post(url("manage_move", soon), {"start": start_format(local(4, 10)), "practitioner": "any"})

    assert response.status_code == 403
    assert PHONE in response.content.decode()
    assert state(soon) == before


def test_the_cutoff_follows_the_clinics_setting(client, clinic, treatment, practitioner):
    clinic.self_service_cutoff_hours = 1
    clinic.save()
    soon = booked_a_while_ago(timezone.now() + timedelta(hours=2), treatment=treatment, practitioner=practitioner)

    response = client.post(url("manage_cancel", soon))

    assert response.status_code == 303
    soon.refresh_from_db()
    assert soon.status == S.CANCELLED_BY_PATIENT


def test_a_booking_made_minutes_ago_can_be_cancelled_inside_the_cutoff_but_not_moved(client, treatment, practitioner):
    """A typo or a wrong day: cancelling right after booking is always open, whatever the cutoff."""
    just_booked = appointment_at(timezone.now() + timedelta(hours=2), treatment=treatment, practitioner=practitioner)

    html = client.get(url("manage", just_booked)).content.decode()
    assert "Cancel this appointment" in html
    assert "Choose another time" not in html
    assert "a moment ago" in html
    assert client.get(url("manage_move", just_booked)).status_code == 403

    response = client.post(url("manage_cancel", just_booked))

    assert response.status_code == 303
    just_booked.refresh_from_db()
    assert just_booked.status == S.CANCELLED_BY_PATIENT


def test_the_minutes_to_cancel_any_booking_follow_the_setting(client, treatment, practitioner, settings):
    settings.CLINIC_CANCEL_GRACE_MINUTES = 30
    booked = appointment_at(timezone.now() + timedelta(hours=2), treatment=treatment, practitioner=practitioner)
    Appointment.objects.filter(pk=booked.pk).update(created_at=timezone.now() - timedelta(minutes=31))

    assert client.post(url("manage_cancel", booked)).status_code == 403
    Appointment.objects.filter(pk=booked.pk).update(created_at=timezone.now() - timedelta(minutes=29))
    assert client.post(url("manage_cancel", booked)).status_code == 303


# --- move -----------------------------------------------------------------------------------------


def test_the_move_page_offers_free_times_and_shows_the_current_one(client, appointment):
    response = client.get(url("manage_move", appointment))
    html = response.content.decode()

    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert "Your current time" in html
    assert shown(appointment.starts_at) in html
    values = radio_values(html)
    assert start_format(appointment.starts_at) not in values
    # The appointment's own time does not block the times around it: it is the one being moved.
    assert start_format(appointment.starts_at + timedelta(minutes=15)) in values
    assert 'method="post"' in html
    assert "csrfmiddlewaretoken" in html


def test_moving_to_a_free_time_moves_it_and_the_old_link_shows_the_new_time(
    client, appointment, django_capture_on_commit_callbacks
):
    old_link = url("manage", appointment)
    new_start = local(3, 14)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("manage_move", appointment), {"start": start_format(new_start), "practitioner": "any"}
        )

    assert response.status_code == 303
    assert response["Location"] == old_link
    appointment.refresh_from_db()
    assert appointment.starts_at == new_start
    assert appointment.ends_at == new_start + appointment.treatment.duration
    assert appointment.sequence == 1
    assert appointment.status == S.REQUESTED
    assert {MessageKind.MOVED, MessageKind.CLINIC_MOVED} <= kinds(appointment)

    html = client.get(old_link).content.decode()
    assert f"Your appointment has moved to {shown(new_start)}" in html
    assert shown(new_start) in html
    assert shown(local(3, 10)) not in html


def test_moving_to_a_taken_time_changes_nothing_and_offers_the_nearest_free_times(
    client, appointment, treatment, practitioner
):
    taken = local(3, 14)
    appointment_at(taken, treatment=treatment, practitioner=practitioner)
    before = state(appointment)

    response = client.post(url("manage_move", appointment), {"start": start_format(taken), "practitioner": "any"})

    assert response.status_code == 409
    html = response.content.decode()
    assert "that time was just taken" in html
    assert "Your appointment has not changed" in html
    values = radio_values(html)
    assert values
    assert start_format(taken) not in values
    assert state(appointment) == before
    assert MessageKind.MOVED not in kinds(appointment)


def test_a_move_that_loses_the_race_in_the_database_changes_nothing(
    client, appointment, treatment, practitioner, monkeypatch
):
    """Both checks read the time as free, then another booking lands: the exclusion constraint refuses the move."""
    taken = local(3, 14)
    appointment_at(taken, treatment=treatment, practitioner=practitioner)
    before = state(appointment)
    monkeypatch.setattr(booking_forms, "practitioners_free_at", lambda **kwargs: [practitioner.pk])
    monkeypatch.setattr(services, "practitioners_free_at", lambda **kwargs: [practitioner.pk])

    response = client.post(url("manage_move", appointment), {"start": start_format(taken), "practitioner": "any"})

    assert response.status_code == 409
    assert "that time was just taken" in response.content.decode()
    assert state(appointment) == before


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("", "Choose a time."),
        ("tomorrow at ten", "We could not read the chosen time"),
        ("2001-01-01T10:00:00Z", "That time has already passed"),
        ("same", "That is already the time of your appointment"),
        ("outside-hours", "That time is not available"),
    ],
)
def test_a_time_that_cannot_be_used_is_refused_with_a_message(client, appointment, start, message):
    if start == "same":
        start = start_format(appointment.starts_at)
    elif start == "outside-hours":
        start = start_format(local(3, 22))
    before = state(appointment)

    response = client.post(url("manage_move", appointment), {"start": start, "practitioner": "any"})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert state(appointment) == before


def test_a_patients_own_move_keeps_the_minimum_notice_that_staff_may_skip(client, clinic, treatment, practitioner):
    clinic.min_notice_hours = 48
    clinic.save()
    appointment = appointment_at(local(3, 10), treatment=treatment, practitioner=practitioner)
    tomorrow = local(1, 10)  # free, and well outside the self-service cutoff, but inside the notice
    before = state(appointment)

    response = client.post(url("manage_move", appointment), {"start": start_format(tomorrow), "practitioner": "any"})

    assert response.status_code == 400
    assert "Appointments must be booked at least 48 hours ahead" in response.content.decode()
    assert state(appointment) == before
    with pytest.raises(services.SlotTaken):
        services.appointment_move(appointment=appointment, start=tomorrow)
    assert state(appointment) == before


def test_a_practitioner_who_does_not_give_the_treatment_is_refused(client, appointment):
    stranger = Practitioner.objects.create(name="Dr Stranger")
    before = state(appointment)
    response = client.post(
        url("manage_move", appointment), {"start": start_format(local(3, 14)), "practitioner": str(stranger.pk)}
    )
    assert response.status_code == 400
    assert state(appointment) == before
    assert client.get(url("manage_move", appointment), {"practitioner": "999999"}).status_code == 400
    assert client.get(url("manage_move", appointment), {"from": "not-a-date"}).status_code == 400


# --- the calendar file ----------------------------------------------------------------------------


def calendar_of(response):
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_the_calendar_file_downloads_with_a_stable_uid_the_sequence_and_utc_times(client, appointment):
    response = client.get(url("manage_calendar", appointment))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == f'attachment; filename="appointment-{appointment.reference}.ics"'
    calendar, event = calendar_of(response)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert appointment.reference in str(event["UID"])
    assert int(event["SEQUENCE"]) == 0
    start = event.decoded("DTSTART")
    assert start.utcoffset() == timedelta(0)
    assert start == appointment.starts_at
    assert event.decoded("DTEND") == appointment.ends_at
    assert b"DTSTART:" in response.content and re.search(rb"DTSTART:\d{8}T\d{6}Z", response.content)

    client.post(url("manage_move", appointment), {"start": start_format(local(3, 14)), "practitioner": "any"})
    _, moved = calendar_of(client.get(url("manage_calendar", appointment)))
    assert str(moved["UID"]) == str(event["UID"])
    assert int(moved["SEQUENCE"]) == 1
    assert moved.decoded("DTSTART") == local(3, 14).astimezone(UTC)


def test_the_calendar_file_of_a_cancelled_appointment_removes_the_event(client, appointment):
    client.post(url("manage_cancel", appointment))

    calendar, event = calendar_of(client.get(url("manage_calendar", appointment)))

    assert str(calendar["METHOD"]) == "CANCEL"
    assert appointment.reference in str(event["UID"])
    assert "Remove from calendar" in client.get(url("manage", appointment)).content.decode()


def test_the_confirmation_page_offers_the_calendar_file_and_the_patients_page(client, appointment):
    response = client.get(reverse("booking:done", kwargs={"token": confirmation_token(appointment=appointment)}))
    html = response.content.decode()
    assert f'href="{url("manage_calendar", appointment)}"' in html
    assert f'href="{url("manage", appointment)}"' in html


def test_a_clinic_cancellation_leaves_the_link_working(client, appointment):
    appointment_transition(appointment=appointment, to_status=S.CANCELLED_BY_CLINIC, note="Practitioner ill.")
    response = client.get(url("manage", appointment))
    assert response.status_code == 200
    assert "Cancelled by the clinic" in response.content.decode()
