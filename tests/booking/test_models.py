"""The database's own rules: whatever writes the row (form, admin, shell), PostgreSQL refuses a clash."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from booking.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Practitioner, Treatment
from clinic.models import ClinicDetails
from tests.factories import appointment_at

pytestmark = pytest.mark.django_db

TEN = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)  # 10:00 in London
INACTIVE_STATUSES = [status for status in AppointmentStatus.values if status not in ACTIVE_STATUSES]


@pytest.fixture
def treatment():
    return Treatment.objects.create(
        name="Face mesotherapy", slug="face-test", summary="s", description="d", duration_minutes=45, buffer_minutes=15
    )


@pytest.fixture
def anna():
    return Practitioner.objects.create(name="Dr Anna Rossi")


@pytest.fixture
def ben():
    return Practitioner.objects.create(name="Dr Ben Okafor")


def refused(create, *args, **kwargs):
    """Run one write in its own savepoint; return the name of the constraint PostgreSQL cited."""
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        create(*args, **kwargs)
    return error.value.__cause__.diag.constraint_name


# --- no overlap -----------------------------------------------------------


@pytest.mark.parametrize("first", ACTIVE_STATUSES)
@pytest.mark.parametrize("second", ACTIVE_STATUSES)
def test_an_overlapping_active_appointment_for_the_same_practitioner_is_refused(anna, treatment, first, second):
    appointment_at(TEN, treatment=treatment, practitioner=anna, status=first)

    assert (
        refused(appointment_at, TEN + timedelta(minutes=30), treatment=treatment, practitioner=anna, status=second)
        == "booking_appointment_no_overlap"
    )
    assert Appointment.objects.count() == 1


def test_the_same_time_with_another_practitioner_is_fine(anna, ben, treatment):
    appointment_at(TEN, treatment=treatment, practitioner=anna, status=AppointmentStatus.CONFIRMED)
    appointment_at(TEN, treatment=treatment, practitioner=ben, status=AppointmentStatus.CONFIRMED)

    assert Appointment.objects.active().count() == 2


@pytest.mark.parametrize("status", INACTIVE_STATUSES)
def test_a_cancelled_or_finished_appointment_does_not_block_its_time(anna, treatment, status):
    appointment_at(TEN, treatment=treatment, practitioner=anna, status=status)
    appointment_at(TEN, treatment=treatment, practitioner=anna, status=status)

    appointment_at(TEN, treatment=treatment, practitioner=anna)

    assert Appointment.objects.filter(practitioner=anna, starts_at=TEN).count() == 3


def test_touching_appointments_are_fine(anna, treatment):
    middle = appointment_at(TEN, treatment=treatment, practitioner=anna)
    after = appointment_at(middle.blocked_until, treatment=treatment, practitioner=anna)
    before = appointment_at(TEN - timedelta(minutes=60), treatment=treatment, practitioner=anna)

    assert before.blocked_until == middle.starts_at
    assert middle.blocked_until == after.starts_at
    assert Appointment.objects.active().count() == 3


def test_starting_inside_the_previous_appointments_buffer_is_refused(anna, treatment):
    first = appointment_at(TEN, treatment=treatment, practitioner=anna)  # visit until 10:45, buffer until 11:00
    assert first.ends_at < first.blocked_until

    assert (
        refused(appointment_at, first.ends_at + timedelta(minutes=5), treatment=treatment, practitioner=anna)
        == "booking_appointment_no_overlap"
    )


def test_a_buffer_running_into_the_next_appointment_is_refused(anna, treatment):
    appointment_at(TEN, treatment=treatment, practitioner=anna)
    # The visit would end at 10:00 exactly, but its buffer would run until 10:15.
    start = TEN - treatment.duration

    assert refused(appointment_at, start, treatment=treatment, practitioner=anna) == "booking_appointment_no_overlap"


def test_a_cancelled_appointment_cannot_come_back_over_a_taken_time(anna, treatment):
    cancelled = appointment_at(
        TEN, treatment=treatment, practitioner=anna, status=AppointmentStatus.CANCELLED_BY_PATIENT
    )
    appointment_at(TEN, treatment=treatment, practitioner=anna, status=AppointmentStatus.CONFIRMED)

    def confirm_by_update():
        Appointment.objects.filter(pk=cancelled.pk).update(status=AppointmentStatus.CONFIRMED)

    def confirm_by_save():
        cancelled.status = AppointmentStatus.CONFIRMED
        cancelled.save()

    assert refused(confirm_by_update) == "booking_appointment_no_overlap"
    assert refused(confirm_by_save) == "booking_appointment_no_overlap"
    cancelled.refresh_from_db()
    assert cancelled.status == AppointmentStatus.CANCELLED_BY_PATIENT


def test_moving_an_appointment_onto_a_taken_time_is_refused(anna, treatment):
    appointment_at(TEN, treatment=treatment, practitioner=anna)
    later = appointment_at(TEN + timedelta(hours=2), treatment=treatment, practitioner=anna)

    def move():
        Appointment.objects.filter(pk=later.pk).update(
            starts_at=TEN, ends_at=TEN + treatment.duration, blocked_until=TEN + treatment.duration + treatment.buffer
        )

    assert refused(move) == "booking_appointment_no_overlap"


def test_model_validation_gives_the_patient_facing_message_for_a_clash(anna, treatment):
    appointment_at(TEN, treatment=treatment, practitioner=anna)
    clash = Appointment(
        reference="VALIDATE",
        treatment=treatment,
        practitioner=anna,
        starts_at=TEN + timedelta(minutes=15),
        ends_at=TEN + timedelta(minutes=60),
        blocked_until=TEN + timedelta(minutes=75),
        first_name="Pat",
        last_name="Ient",
        email="pat@example.com",
        phone="+447700900000",
    )

    with pytest.raises(ValidationError) as error:
        clash.validate_constraints()

    assert "This time has just been taken. Please choose another time." in error.value.messages
    clash.status = AppointmentStatus.DECLINED
    clash.validate_constraints()  # an inactive row clashes with nothing


# --- times in order ---------------------------------------------------------


def test_an_appointment_must_end_after_it_starts(anna, treatment):
    assert (
        refused(appointment_at, TEN, treatment=treatment, practitioner=anna, ends_at=TEN, blocked_until=TEN)
        == "booking_appointment_times_ordered"
    )
    assert (
        refused(
            appointment_at,
            TEN,
            treatment=treatment,
            practitioner=anna,
            ends_at=TEN - timedelta(minutes=30),
            blocked_until=TEN + timedelta(hours=1),
        )
        == "booking_appointment_times_ordered"
    )


def test_the_blocked_time_cannot_end_before_the_visit(anna, treatment):
    assert (
        refused(
            appointment_at,
            TEN,
            treatment=treatment,
            practitioner=anna,
            ends_at=TEN + timedelta(minutes=45),
            blocked_until=TEN + timedelta(minutes=30),
        )
        == "booking_appointment_times_ordered"
    )


def test_an_appointment_without_a_buffer_is_fine(anna, treatment):
    saved = appointment_at(
        TEN,
        treatment=treatment,
        practitioner=anna,
        ends_at=TEN + timedelta(minutes=45),
        blocked_until=TEN + timedelta(minutes=45),
    )
    assert saved.pk is not None


def test_a_reference_is_used_once(anna, ben, treatment):
    first = appointment_at(TEN, treatment=treatment, practitioner=anna)

    def same_reference():
        appointment_at(
            TEN,
            treatment=treatment,
            practitioner=ben,
            reference=first.reference,
            blocked_until=TEN + treatment.duration,
        )

    assert "reference" in refused(same_reference)


# --- the clinic's one set of details -----------------------------------------


def test_the_clinic_has_a_single_details_row(db):
    assert ClinicDetails.objects.count() == 1

    assert refused(ClinicDetails.objects.create, pk=2, name="Second clinic") == "clinic_clinicdetails_single_row"
    assert ClinicDetails.objects.count() == 1
    assert ClinicDetails.objects.current().pk == 1


def test_the_slot_step_must_be_positive(db):
    details = ClinicDetails.objects.current()
    details.slot_step_minutes = 0

    assert refused(details.save) == "clinic_clinicdetails_slot_step_positive"
