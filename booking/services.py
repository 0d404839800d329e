"""Actions on appointments. Every status change goes through ``appointment_transition``."""

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.availability import practitioners_free_at
from booking.models import Appointment, AppointmentEvent, AppointmentStatus

# No 0/O or 1/I: a reference is read aloud on the phone and typed from an email.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8

S = AppointmentStatus
ALLOWED_TRANSITIONS = {
    S.REQUESTED: {S.CONFIRMED, S.DECLINED, S.CANCELLED_BY_PATIENT, S.CANCELLED_BY_CLINIC},
    S.CONFIRMED: {S.COMPLETED, S.NO_SHOW, S.CANCELLED_BY_PATIENT, S.CANCELLED_BY_CLINIC},
    S.DECLINED: set(),
    S.CANCELLED_BY_PATIENT: set(),
    S.CANCELLED_BY_CLINIC: set(),
    S.COMPLETED: set(),
    S.NO_SHOW: set(),
}

NO_OVERLAP = "booking_appointment_no_overlap"


class SlotTaken(Exception):
    """The chosen time is no longer free."""


class TransitionNotAllowed(Exception):
    def __init__(self, appointment, to_status):
        self.appointment = appointment
        self.to_status = to_status
        super().__init__(
            f"{appointment.reference} is {appointment.get_status_display().lower()}; "
            f"it cannot become {S(to_status).label.lower()}."
        )


def reference_new():
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def constraint_name(error):
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def appointment_request(*, treatment, start, patient, practitioner=None, privacy_notice=None, submission_key=None):
    """Create a requested appointment at ``start`` or raise SlotTaken.

    ``patient`` holds first_name, last_name, email, phone (E.164), message, first_visit.
    The same ``submission_key`` twice returns the first appointment instead of a second one.
    The database's exclusion constraint is the final word on clashes, however many requests race.
    """
    if submission_key is not None:
        existing = Appointment.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing
    candidates = practitioners_free_at(treatment=treatment, start=start, practitioner=practitioner)
    now = timezone.now()
    for practitioner_id in candidates:
        for _attempt in range(5):  # a new reference if one ever collides
            try:
                with transaction.atomic():
                    appointment = Appointment.objects.create(
                        reference=reference_new(),
                        treatment=treatment,
                        practitioner_id=practitioner_id,
                        starts_at=start,
                        ends_at=start + treatment.duration,
                        blocked_until=start + treatment.duration + treatment.buffer,
                        consent_at=now,
                        privacy_notice=privacy_notice,
                        submission_key=submission_key,
                        **patient,
                    )
                    AppointmentEvent.objects.create(
                        appointment=appointment, to_status=S.REQUESTED, note="Requested online."
                    )
                return appointment
            except IntegrityError as error:
                name = constraint_name(error)
                if name == NO_OVERLAP:
                    break  # this practitioner was just taken; try the next one
                if name and "submission_key" in name:
                    return Appointment.objects.get(submission_key=submission_key)
                if name and "reference" in name:
                    continue
                raise
    raise SlotTaken


def appointment_transition(*, appointment, to_status, by=None, note=""):
    """Move an appointment to ``to_status`` if allowed, with a history row. Returns the fresh row."""
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if to_status not in ALLOWED_TRANSITIONS[S(locked.status)]:
            raise TransitionNotAllowed(locked, to_status)
        from_status = locked.status
        locked.status = to_status
        locked.save(update_fields=["status", "updated_at"])
        AppointmentEvent.objects.create(
            appointment=locked, by=by, from_status=from_status, to_status=to_status, note=note
        )
    return locked
