"""Calendar files (.ics): times that calendar apps read correctly, and one event per appointment."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from icalendar import Calendar

from booking.appointments.services import (
    appointment_cancel_by_patient,
    appointment_move,
    appointment_request,
    appointment_transition,
)
from booking.emails.calendar import calendar_for
from booking.emails.compose import email_build
from booking.emails.tasks import message_send
from booking.models import AppointmentStatus, Message, MessageKind, Treatment
from booking.schedule.availability import first_day_today, free_slots
from clinic.models import ClinicDetails
from tests.factories import appointment_at

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def clinic():
    clinic = ClinicDetails.objects.current()
    clinic.name = "Harley Mesotherapy"
    clinic.phone = "020 7946 0123"
    clinic.email = "hello@clinic.example"
    clinic.address = "1 Harley Street\nLondon W1G 9QD"
    clinic.save()
    return clinic


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


def event_of(ics):
    calendar = Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    return calendar, event


@pytest.mark.parametrize(
    ("local_start", "utc_start"),
    [
        # Spring: the clocks go forward on Sunday 28 March 2027.
        (datetime(2027, 3, 27, 10, 0, tzinfo=LONDON), datetime(2027, 3, 27, 10, 0, tzinfo=UTC)),
        (datetime(2027, 3, 29, 10, 0, tzinfo=LONDON), datetime(2027, 3, 29, 9, 0, tzinfo=UTC)),
        # Autumn: they go back on Sunday 31 October 2027.
        (datetime(2027, 10, 30, 10, 0, tzinfo=LONDON), datetime(2027, 10, 30, 9, 0, tzinfo=UTC)),
        (datetime(2027, 11, 1, 10, 0, tzinfo=LONDON), datetime(2027, 11, 1, 10, 0, tzinfo=UTC)),
    ],
)
def test_calendar_file_holds_the_visit_in_utc_on_either_side_of_a_clock_change(
    local_start, utc_start, clinic, treatment, practitioner
):
    appointment = appointment_at(local_start, treatment=treatment, practitioner=practitioner, reference="CLKCHNG2")
    ics = calendar_for(appointments=[appointment], clinic=clinic)

    _calendar, event = event_of(ics)
    assert event.decoded("dtstart") == utc_start
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtend") == utc_start + treatment.duration
    # Written with a trailing Z, which every calendar app reads as UTC.
    assert f"DTSTART:{utc_start:%Y%m%dT%H%M%S}Z" in ics.decode()


def test_confirmation_email_after_the_clocks_go_forward_invites_for_the_right_hour(clinic, treatment, practitioner):
    appointment = appointment_at(
        datetime(2027, 3, 29, 10, 0, tzinfo=LONDON),
        treatment=treatment,
        practitioner=practitioner,
        reference="SPRNG234",
    )
    appointment_transition(appointment=appointment, to_status=AppointmentStatus.CONFIRMED)
    message = Message.objects.get(appointment=appointment, kind=MessageKind.CONFIRMED)

    message_send.call(message.pk)

    [email] = mail.outbox
    [ics] = [
        part.get_payload(decode=True) for part in email.message().walk() if part.get_content_type() == "text/calendar"
    ]
    _calendar, event = event_of(ics)
    assert event.decoded("dtstart") == datetime(2027, 3, 29, 9, 0, tzinfo=UTC)
    assert "Monday 29 March 2027, 10:00" in email.body


def test_an_appointment_keeps_one_uid_and_two_appointments_have_two(clinic, treatment, practitioner):
    first = appointment_at(
        datetime(2027, 3, 27, 10, 0, tzinfo=LONDON),
        treatment=treatment,
        practitioner=practitioner,
        reference="FIRST234",
    )
    second = appointment_at(
        datetime(2027, 3, 27, 14, 0, tzinfo=LONDON),
        treatment=treatment,
        practitioner=practitioner,
        reference="SECND234",
    )

    _c, invitation = event_of(calendar_for(appointments=[first], clinic=clinic))
    _c, again = event_of(calendar_for(appointments=[first], clinic=clinic))
    first.starts_at += timedelta(days=1)
    first.ends_at += timedelta(days=1)
    first.sequence += 1
    _c, moved = event_of(calendar_for(appointments=[first], clinic=clinic))
    _c, cancellation = event_of(calendar_for(appointments=[first], clinic=clinic, cancel=True))
    _c, other = event_of(calendar_for(appointments=[second], clinic=clinic))

    assert invitation["uid"] == again["uid"] == moved["uid"] == cancellation["uid"]
    assert other["uid"] != invitation["uid"]


def test_an_invitation_is_a_request_and_a_cancellation_a_cancel(clinic, treatment, practitioner):
    appointment = appointment_at(
        datetime(2027, 3, 27, 10, 0, tzinfo=LONDON),
        treatment=treatment,
        practitioner=practitioner,
        reference="METHD234",
    )

    _r, requested_event = event_of(calendar_for(appointments=[appointment], clinic=clinic))
    appointment.status = AppointmentStatus.CONFIRMED
    request, request_event = event_of(calendar_for(appointments=[appointment], clinic=clinic))
    cancel, cancel_event = event_of(calendar_for(appointments=[appointment], clinic=clinic, cancel=True))

    assert requested_event["status"] == "TENTATIVE"  # not confirmed by the clinic yet
    assert request["method"] == "REQUEST"
    assert request_event["status"] == "CONFIRMED"
    assert cancel["method"] == "CANCEL"
    assert cancel_event["status"] == "CANCELLED"
    assert str(request_event["organizer"]) == "mailto:hello@clinic.example"


def test_sequence_follows_the_appointment_and_a_cancellation_outranks_the_last_invitation(
    clinic, treatment, practitioner
):
    appointment = appointment_at(
        datetime(2027, 3, 27, 10, 0, tzinfo=LONDON),
        treatment=treatment,
        practitioner=practitioner,
        reference="SEQNC234",
    )
    _c, original = event_of(calendar_for(appointments=[appointment], clinic=clinic))
    appointment.sequence = 3
    _c, after_three_moves = event_of(calendar_for(appointments=[appointment], clinic=clinic))
    _c, cancellation = event_of(calendar_for(appointments=[appointment], clinic=clinic, cancel=True))

    assert original["sequence"] == 0
    assert after_three_moves["sequence"] == 3
    assert cancellation["sequence"] == 4


def test_calendar_file_gives_the_reference_and_the_clinic_but_not_the_treatment(clinic, treatment, practitioner):
    appointment = appointment_at(
        datetime(2027, 3, 27, 10, 0, tzinfo=LONDON),
        treatment=treatment,
        practitioner=practitioner,
        reference="PRIVT234",
    )

    _c, event = event_of(calendar_for(appointments=[appointment], clinic=clinic))

    assert "PRIVT234" in str(event["description"])
    assert "020 7946 0123" in str(event["description"])
    assert str(event["summary"]) == "Appointment at Harley Mesotherapy"
    assert str(event["location"]) == "1 Harley Street, London W1G 9QD"
    assert treatment.name.lower() not in calendar_for(appointments=[appointment], clinic=clinic).decode().lower()


def calendar_files_sent(appointment, sent):
    """The .ics files of the emails queued about one visit since the last call, built as the worker
    sends them, right after the change."""
    files = []
    for message in Message.objects.filter(appointment=appointment).exclude(pk__in=sent).order_by("pk"):
        sent.add(message.pk)
        email = email_build(message=message)
        for part in email.attachments if email else []:
            if getattr(part, "get_content_type", lambda: "")() == "text/calendar":
                files.append(Calendar.from_ical(part.get_payload(decode=True)))
    return files


def test_every_calendar_file_of_one_visit_updates_the_same_entry(clinic, treatment, working_every_day):
    working_every_day(treatment)
    today = first_day_today()
    slots = free_slots(treatment=treatment, first_day=today + timedelta(days=3), last_day=today + timedelta(days=9))
    patient = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "phone": "+442079460000",
        "message": "",
        "first_visit": True,
    }
    sent = set()
    appointment = appointment_request(treatment=treatment, start=slots[0].start, patient=patient)
    files = calendar_files_sent(appointment, sent)
    appointment = appointment_transition(appointment=appointment, to_status=AppointmentStatus.CONFIRMED)
    files += calendar_files_sent(appointment, sent)
    appointment = appointment_move(appointment=appointment, start=slots[-1].start)
    files += calendar_files_sent(appointment, sent)
    appointment_cancel_by_patient(appointment=appointment)
    files += calendar_files_sent(appointment, sent)

    events = [next(iter(calendar.walk("VEVENT"))) for calendar in files]
    methods = [str(calendar["method"]) for calendar in files]

    assert methods[-1] == "CANCEL" and "REQUEST" in methods
    assert len(events) >= 3  # confirmed, moved, cancelled
    assert len({str(event["uid"]) for event in events}) == 1
    sequences = [int(event["sequence"]) for event in events]
    assert sequences == sorted(set(sequences)), sequences  # each file newer than the one before
    for event in events:
        assert str(event["attendee"]) == "mailto:grace@example.com"
        assert event["attendee"].params["CN"] == "Grace Hopper"
        assert str(event["organizer"]) == "mailto:hello@clinic.example"
    assert events[-1]["attendee"].params["PARTSTAT"] == "DECLINED"
