"""Requesting an appointment and moving it through its statuses."""

import uuid
from datetime import datetime, time, timedelta
from itertools import product

import pytest
from django.utils import timezone

from booking.appointments import services
from booking.appointments.services import (
    REFERENCE_ALPHABET,
    SlotTaken,
    TransitionNotAllowed,
    appointment_request,
    appointment_transition,
    reference_new,
)
from booking.models import Appointment, AppointmentEvent, AppointmentStatus, Practitioner, Treatment
from booking.schedule.availability import practitioners_free_at
from clinic.models import ClinicDetails
from tests.factories import appointment_at

pytestmark = pytest.mark.django_db

S = AppointmentStatus
# Written out here, not read from the code under test, so a wrong table there fails these tests.
ALLOWED = [
    (S.REQUESTED, S.CONFIRMED),
    (S.REQUESTED, S.DECLINED),
    (S.REQUESTED, S.CANCELLED_BY_PATIENT),
    (S.REQUESTED, S.CANCELLED_BY_CLINIC),
    (S.REQUESTED, S.EXPIRED),  # by the schedule only (booking.requests.services); no staff action offers it
    (S.CONFIRMED, S.COMPLETED),
    (S.CONFIRMED, S.NO_SHOW),
    (S.CONFIRMED, S.CANCELLED_BY_PATIENT),
    (S.CONFIRMED, S.CANCELLED_BY_CLINIC),
]
DISALLOWED = [pair for pair in product(S.values, S.values) if pair not in ALLOWED]
PATIENT = {
    "first_name": "Maria",
    "last_name": "Bianchi",
    "email": "maria@example.com",
    "phone": "+447700900123",
    "message": "First time trying this.",
    "first_visit": True,
}


@pytest.fixture(autouse=True)
def rules():
    details = ClinicDetails.objects.current()
    details.min_notice_hours = 12
    details.booking_horizon_days = 60
    details.slot_step_minutes = 15
    details.save()
    return details


@pytest.fixture
def treatment():
    return Treatment.objects.create(
        name="Face mesotherapy", slug="face-test", summary="s", description="d", duration_minutes=45, buffer_minutes=15
    )


def practitioner(name, treatment, position):
    person = Practitioner.objects.create(name=name, position=position)
    person.treatments.add(treatment)
    for weekday in range(7):
        person.working_hours.create(weekday=weekday, start_time=time(9), end_time=time(17))
    return person


@pytest.fixture
def anna(treatment):
    return practitioner("Dr Anna Rossi", treatment, 0)


@pytest.fixture
def ben(treatment):
    return practitioner("Dr Ben Okafor", treatment, 1)


@pytest.fixture
def day():
    """A day comfortably inside notice and horizon, whatever the real clock says."""
    return timezone.localdate() + timedelta(days=3)


def at(day, hhmm):
    hour, minute = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


def request(treatment, start, **kwargs):
    return appointment_request(treatment=treatment, start=start, patient=dict(PATIENT), **kwargs)


# --- requesting -----------------------------------------------------------


def test_a_request_holds_the_time_with_a_readable_reference_and_a_history_row(treatment, anna, day):
    start = at(day, "10:00")

    appointment = request(treatment, start)

    saved = Appointment.objects.get()
    assert saved == appointment
    assert saved.status == S.REQUESTED
    assert saved.practitioner == anna
    assert saved.treatment == treatment
    assert (saved.starts_at, saved.ends_at, saved.blocked_until) == (
        start,
        start + timedelta(minutes=45),
        start + timedelta(minutes=60),
    )
    assert (saved.first_name, saved.last_name, saved.email, saved.phone) == (
        "Maria",
        "Bianchi",
        "maria@example.com",
        "+447700900123",
    )
    assert saved.consent_at is not None
    assert len(saved.reference) == 8
    assert set(saved.reference) <= set(REFERENCE_ALPHABET)
    assert not set(saved.reference) & set("0O1I")
    event = saved.events.get()
    assert (event.from_status, event.to_status, event.by) == ("", S.REQUESTED, None)
    assert practitioners_free_at(treatment=treatment, start=start) == []


def test_references_never_use_characters_that_are_misread():
    references = {reference_new() for _ in range(2000)}

    assert len(references) == 2000
    assert all(len(reference) == 8 for reference in references)
    assert not set("".join(references)) & set("0O1Il")
    assert set("".join(references)) == set(REFERENCE_ALPHABET)


def test_a_reference_that_is_already_used_is_drawn_again(treatment, anna, day, monkeypatch):
    drawn = iter(["ABCDEFGH", "ABCDEFGH", "JKLMNPQR"])
    monkeypatch.setattr(services, "reference_new", lambda: next(drawn))

    first = request(treatment, at(day, "10:00"))
    second = request(treatment, at(day, "14:00"))

    assert (first.reference, second.reference) == ("ABCDEFGH", "JKLMNPQR")
    assert AppointmentEvent.objects.count() == 2


def test_any_practitioner_means_the_first_free_one_then_the_next(treatment, anna, ben, day):
    start = at(day, "10:00")

    first = request(treatment, start)
    second = request(treatment, start)

    assert first.practitioner == anna
    assert second.practitioner == ben
    with pytest.raises(SlotTaken):
        request(treatment, start)
    assert Appointment.objects.count() == 2


def test_any_practitioner_falls_over_when_the_database_refuses_the_first(treatment, anna, ben, day, monkeypatch):
    start = at(day, "10:00")
    request(treatment, start, practitioner=anna)
    # As if Anna's time was taken between reading the free times and writing the row.
    monkeypatch.setattr(services, "practitioners_free_at", lambda **kwargs: [anna.pk, ben.pk])

    appointment = request(treatment, start)

    assert appointment.practitioner == ben
    assert Appointment.objects.filter(practitioner=anna).count() == 1


def test_a_race_lost_with_every_practitioner_is_slot_taken(treatment, anna, day, monkeypatch):
    start = at(day, "10:00")
    request(treatment, start)
    monkeypatch.setattr(services, "practitioners_free_at", lambda **kwargs: [anna.pk])

    with pytest.raises(SlotTaken):
        request(treatment, start)
    assert Appointment.objects.count() == 1


def test_a_named_practitioner_who_is_taken_means_slot_taken_even_if_another_is_free(treatment, anna, ben, day):
    start = at(day, "10:00")
    request(treatment, start, practitioner=anna)

    with pytest.raises(SlotTaken):
        request(treatment, start, practitioner=anna)
    assert request(treatment, start, practitioner=ben).practitioner == ben


def test_the_buffer_counts_when_requesting(treatment, anna, day):
    request(treatment, at(day, "10:00"))  # held until 11:00

    with pytest.raises(SlotTaken):
        request(treatment, at(day, "10:45"))
    assert request(treatment, at(day, "11:00")).practitioner == anna


@pytest.mark.parametrize(
    "hhmm",
    [
        pytest.param("20:00", id="after hours"),
        pytest.param("08:45", id="before hours"),
        pytest.param("16:30", id="visit would outlast the day"),
        pytest.param("10:05", id="off the slot step"),
    ],
)
def test_a_time_outside_hours_is_slot_taken_and_creates_nothing(treatment, anna, day, hhmm):
    with pytest.raises(SlotTaken):
        request(treatment, at(day, hhmm))
    assert not Appointment.objects.exists()
    assert not AppointmentEvent.objects.exists()


def test_a_past_time_is_slot_taken(treatment, anna):
    with pytest.raises(SlotTaken):
        request(treatment, at(timezone.localdate() - timedelta(days=1), "10:00"))
    assert not Appointment.objects.exists()


def test_a_time_inside_the_minimum_notice_is_slot_taken(treatment, anna, day, rules):
    rules.min_notice_hours = 24 * 5
    rules.save()

    with pytest.raises(SlotTaken):
        request(treatment, at(day, "10:00"))
    assert not Appointment.objects.exists()


def test_a_time_beyond_the_horizon_is_slot_taken(treatment, anna, day, rules):
    rules.booking_horizon_days = 1
    rules.save()

    with pytest.raises(SlotTaken):
        request(treatment, at(day, "10:00"))
    assert not Appointment.objects.exists()


def test_nobody_giving_the_treatment_is_slot_taken(treatment, day):
    with pytest.raises(SlotTaken):
        request(treatment, at(day, "10:00"))


def test_the_same_submission_twice_makes_one_appointment(treatment, anna, day):
    # One practitioner: the resubmission's time is no longer free, yet it still finds its request.
    key = uuid.uuid4()

    first = request(treatment, at(day, "10:00"), submission_key=key)
    again = request(treatment, at(day, "10:00"), submission_key=key)
    # A resubmitted form with another time still finds the first request.
    changed = request(treatment, at(day, "14:00"), submission_key=key)

    assert first.pk == again.pk == changed.pk
    assert Appointment.objects.count() == 1
    assert AppointmentEvent.objects.count() == 1
    assert Appointment.objects.get().submission_key == key


def test_different_submissions_make_different_appointments(treatment, anna, ben, day):
    first = request(treatment, at(day, "10:00"), submission_key=uuid.uuid4())
    second = request(treatment, at(day, "10:00"), submission_key=uuid.uuid4())

    assert first.pk != second.pk
    assert first.reference != second.reference


# --- status changes ---------------------------------------------------------


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="reception", password="a-long-enough-password")


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_every_allowed_transition_changes_the_status_and_writes_history(treatment, anna, day, staff, source, target):
    appointment = appointment_at(at(day, "10:00"), treatment=treatment, practitioner=anna, status=source, **PATIENT)

    changed = appointment_transition(appointment=appointment, to_status=target, by=staff, note="Phoned the patient.")

    assert changed.status == target
    appointment.refresh_from_db()
    assert appointment.status == target
    event = AppointmentEvent.objects.get(appointment=appointment)
    assert (event.from_status, event.to_status, event.by, event.note) == (source, target, staff, "Phoned the patient.")
    assert event.at is not None


@pytest.mark.parametrize(("source", "target"), DISALLOWED, ids=[f"{a}->{b}" for a, b in DISALLOWED])
def test_every_other_transition_is_refused_and_changes_nothing(treatment, anna, day, staff, source, target):
    appointment = appointment_at(at(day, "10:00"), treatment=treatment, practitioner=anna, status=source, **PATIENT)
    before = Appointment.objects.get(pk=appointment.pk)

    with pytest.raises(TransitionNotAllowed) as error:
        appointment_transition(appointment=appointment, to_status=target, by=staff, note="Should not happen.")

    after = Appointment.objects.get(pk=appointment.pk)
    assert after.status == source
    assert after.updated_at == before.updated_at
    assert not AppointmentEvent.objects.exists()
    assert appointment.reference in str(error.value)


def test_the_transition_rule_reads_the_database_not_a_stale_copy(treatment, anna, day, staff):
    appointment = request(treatment, at(day, "10:00"))
    stale = Appointment.objects.get(pk=appointment.pk)
    appointment_transition(appointment=appointment, to_status=S.DECLINED, by=staff)

    with pytest.raises(TransitionNotAllowed):
        appointment_transition(appointment=stale, to_status=S.CONFIRMED, by=staff)

    stale.refresh_from_db()
    assert stale.status == S.DECLINED


def test_a_request_confirmed_then_completed_keeps_its_whole_history(treatment, anna, day, staff):
    appointment = request(treatment, at(day, "10:00"))

    appointment_transition(appointment=appointment, to_status=S.CONFIRMED, by=staff, note="Confirmed by phone.")
    appointment_transition(appointment=appointment, to_status=S.COMPLETED, by=staff)

    history = [(e.from_status, e.to_status, e.by, e.note) for e in appointment.events.all()]
    assert history == [
        ("", S.REQUESTED, None, "Requested online."),
        (S.REQUESTED, S.CONFIRMED, staff, "Confirmed by phone."),
        (S.CONFIRMED, S.COMPLETED, staff, ""),
    ]


def test_a_cancelled_request_frees_its_time_for_the_next_patient(treatment, anna, day):
    start = at(day, "10:00")
    appointment = request(treatment, start)

    appointment_transition(appointment=appointment, to_status=S.CANCELLED_BY_PATIENT, note="Patient emailed.")

    assert practitioners_free_at(treatment=treatment, start=start) == [anna.pk]
    assert request(treatment, start).practitioner == anna
