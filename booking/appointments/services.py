"""An appointment's life: requested online or by phone, then every change of status, time or practitioner.

Every status change goes through ``appointment_transition``. The emails each change owes are queued
in the same transaction (booking.emails.outbox); background work is enqueued through
booking.background, so nothing here imports a task.
"""

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from booking.background import background_enqueue
from booking.emails.outbox import messages_for_move, messages_for_request, messages_for_transition
from booking.models import ACTIVE_STATUSES, Appointment, AppointmentEvent, AppointmentStatus
from booking.schedule.availability import practitioners_free_at
from clinic.models import ClinicDetails
from clinic.ratelimit import advisory_xact_lock, email_key

# No 0/O or 1/I: a reference is read aloud on the phone and typed from an email.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


REFERENCE_LENGTH = 8


S = AppointmentStatus


ALLOWED_TRANSITIONS = {
    S.REQUESTED: {S.CONFIRMED, S.DECLINED, S.CANCELLED_BY_PATIENT, S.CANCELLED_BY_CLINIC, S.EXPIRED},
    S.CONFIRMED: {S.COMPLETED, S.NO_SHOW, S.CANCELLED_BY_PATIENT, S.CANCELLED_BY_CLINIC},
    S.DECLINED: set(),
    S.CANCELLED_BY_PATIENT: set(),
    S.CANCELLED_BY_CLINIC: set(),
    S.COMPLETED: set(),
    S.NO_SHOW: set(),
    S.EXPIRED: set(),
}


NO_OVERLAP = "booking_appointment_no_overlap"


class SlotTaken(Exception):
    """The chosen time is no longer free."""


class TransitionNotAllowed(Exception):
    def __init__(self, appointment, to_status):
        self.appointment = appointment
        self.to_status = to_status
        super().__init__(
            gettext("%(reference)s is %(status)s; it cannot become %(to_status)s.")
            % {
                "reference": appointment.reference,
                "status": appointment.get_status_display().lower(),
                "to_status": S(to_status).label.lower(),
            }
        )


class TooManyOpenRequests(Exception):
    """The patient's mailbox holds as many requests waiting for the clinic's answer as it may."""

    def __init__(self, limit):
        self.limit = limit
        super().__init__(limit)


# First key of pg_advisory_xact_lock(int, int) for one mailbox's open requests.
OPEN_REQUESTS_LOCK = 0x6F72


def open_requests_check(*, email, limit, now):
    """Raise TooManyOpenRequests when ``email``'s mailbox holds ``limit`` requests still to be answered.

    Inside the caller's transaction, under a lock per mailbox held to its commit: two requests
    racing from one mailbox count one after the other, so the limit holds under any concurrency.
    """
    mailbox = email_key(email)
    advisory_xact_lock(lock_class=OPEN_REQUESTS_LOCK, key=mailbox)
    local, _, domain = mailbox.rpartition("@")
    waiting = Appointment.objects.filter(
        status=S.REQUESTED, starts_at__gt=now, email__iregex=rf"^{re.escape(local)}(\+[^@]*)?@{re.escape(domain)}$"
    )
    if waiting.count() >= limit:
        raise TooManyOpenRequests(limit)


def request_expires_at(*, start, now, email_confirmed):
    """When a request still waiting stops holding its time.

    Unconfirmed: CLINIC_REQUEST_CONFIRM_MINUTES, enough to open the email. Confirmed: staff have
    CLINIC_REQUEST_ANSWER_HOURS to answer. Never later than the visit itself.
    """
    if email_confirmed:
        hold = timedelta(hours=settings.CLINIC_REQUEST_ANSWER_HOURS)
    else:
        hold = timedelta(minutes=settings.CLINIC_REQUEST_CONFIRM_MINUTES)
    return min(now + hold, start)


def reference_new():
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def is_deadlock(error):
    """Two inserts that clash on the exclusion constraint can each wait for the other;
    PostgreSQL then aborts one of them (40P01). Retrying it finds the winner's row."""
    return getattr(error.__cause__, "pgcode", None) == "40P01"


def constraint_name(error):
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def appointment_request(
    *,
    treatment,
    start,
    patient,
    practitioner=None,
    privacy_notice=None,
    submission_key=None,
    rules=None,
    open_requests_limit=None,
    record=None,
    email_confirmed=True,
):
    """Create a requested appointment at ``start`` or raise SlotTaken (or TooManyOpenRequests).

    ``rules``: the booking rules the time must meet, the clinic's (the patients' notice and
    horizon) unless given; staff booking by phone pass their own (see booking.admin).
    ``open_requests_limit``: how many unanswered requests the patient's mailbox may hold (online
    bookings); None for staff, who book what the patient asks for on the phone.

    ``patient`` holds first_name, last_name, email, phone (E.164), message, first_visit.
    The same ``submission_key`` twice returns the first appointment instead of a second one.
    The database's exclusion constraint is the final word on clashes, however many requests race.
    ``record``: called with the new appointment inside its transaction (the health answers), so
    that what it writes is kept with the appointment or not at all.
    ``email_confirmed``: the address is known to be the patient's (staff took it on the phone, a
    waitlist link reached it, this device confirmed it before). Online requests pass False otherwise:
    the request then holds its time only briefly, until the patient follows the emailed link.
    """
    if submission_key is not None:
        existing = Appointment.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing
    details = {
        "treatment": treatment,
        "start": start,
        "patient": patient,
        "practitioner": practitioner,
        "privacy_notice": privacy_notice,
        "submission_key": submission_key,
        "rules": rules,
        "record": record,
        "email_confirmed": email_confirmed,
    }
    if open_requests_limit is None:
        return appointment_create(**details)
    with transaction.atomic():  # the mailbox's lock is held until the new request is committed
        open_requests_check(email=patient["email"], limit=open_requests_limit, now=timezone.now())
        return appointment_create(**details)


def appointment_create(
    *, treatment, start, patient, practitioner, privacy_notice, submission_key, rules, record=None, email_confirmed=True
):
    now = timezone.now()
    expires_at = request_expires_at(start=start, now=now, email_confirmed=email_confirmed)
    candidates = practitioners_free_at(
        treatment=treatment, start=start, practitioner=practitioner, now=now, rules=rules
    )
    for practitioner_id in candidates:
        for _attempt in range(5):  # after a reference collision or a deadlock, try again
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
                        email_confirmed_at=now if email_confirmed else None,
                        expires_at=expires_at,
                        **patient,
                    )
                    AppointmentEvent.objects.create(
                        appointment=appointment, to_status=S.REQUESTED, note="Requested online."
                    )
                    messages_for_request(appointment=appointment)
                    background_enqueue("request_expire", appointment.pk, run_after=expires_at)
                    if record is not None:
                        record(appointment=appointment)
                return appointment
            except OperationalError as error:
                if is_deadlock(error):
                    continue
                raise
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
        # Every change is a new revision of the patient's calendar entry (booking.emails.calendar).
        locked.sequence += 1
        locked.save(update_fields=["status", "sequence", "updated_at"])
        AppointmentEvent.objects.create(
            appointment=locked, by=by, from_status=from_status, to_status=to_status, note=note
        )
        messages_for_transition(appointment=locked, note=note)
        if to_status not in ACTIVE_STATUSES and from_status in ACTIVE_STATUSES:
            waitlist_notify_freed(appointment=locked)
    return locked


class OutsideSelfServiceWindow(Exception):
    """Too close to the visit to cancel or move online: the patient phones the clinic."""


def self_service_open(*, appointment, now=None, rules=None, cancel=False):
    """The patient may still change the appointment online: up to the clinic's cutoff before the
    visit, and (``cancel``) cancel it within CLINIC_CANCEL_GRACE_MINUTES of booking it, whatever
    the cutoff: a typo, a wrong day."""
    rules = rules or ClinicDetails.objects.current()
    now = now or timezone.now()
    if cancel and now - appointment.created_at <= timedelta(minutes=settings.CLINIC_CANCEL_GRACE_MINUTES):
        return True
    return appointment.starts_at - now >= timedelta(hours=rules.self_service_cutoff_hours)


def appointment_cancel_by_patient(*, appointment, now=None):
    if not self_service_open(appointment=appointment, now=now, cancel=True):
        raise OutsideSelfServiceWindow
    return appointment_transition(
        appointment=appointment, to_status=S.CANCELLED_BY_PATIENT, note="Cancelled by the patient online."
    )


def appointment_move(*, appointment, start, practitioner=None, by=None, by_patient=True, now=None, rules=None):
    """Move an active appointment to a new free time in one transaction, or raise SlotTaken.

    The new time is taken and the old one freed together; the exclusion constraint refuses a
    clash however the race goes, and then nothing changes. ``rules`` are the booking rules the new
    time must meet: the clinic's, with the patients' notice and horizon, unless given (a move by
    staff passes ``courses.planning_rules``: no notice, no horizon, the past still out).
    """
    if by_patient and not self_service_open(appointment=appointment, now=now):
        raise OutsideSelfServiceWindow
    treatment = appointment.treatment
    candidates = practitioners_free_at(
        treatment=treatment,
        start=start,
        practitioner=practitioner,
        now=now,
        rules=rules,
        ignore_appointment=appointment,
    )
    # Keep the same practitioner when they are free at the new time.
    candidates.sort(key=lambda pk: pk != appointment.practitioner_id)
    for practitioner_id in candidates:
        for _attempt in range(3):  # again after a deadlock
            try:
                with transaction.atomic():
                    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
                    if locked.status not in ACTIVE_STATUSES:
                        raise TransitionNotAllowed(locked, locked.status)
                    old_start = locked.starts_at
                    locked.practitioner_id = practitioner_id
                    locked.starts_at = start
                    locked.ends_at = start + treatment.duration
                    locked.blocked_until = start + treatment.duration + treatment.buffer
                    locked.sequence += 1
                    locked.save()
                    old_local = timezone.localtime(old_start)
                    AppointmentEvent.objects.create(
                        appointment=locked,
                        by=by,
                        from_status=locked.status,
                        to_status=locked.status,
                        note=f"Moved {'by the patient' if by_patient else 'by staff'} from {old_local:%Y-%m-%d %H:%M}.",
                    )
                    messages_for_move(appointment=locked, old_start=old_start, by_patient=by_patient)
                    waitlist_notify_freed(
                        appointment=locked, start=old_start, practitioner_id=appointment.practitioner_id
                    )
                return locked
            except OperationalError as error:
                if is_deadlock(error):
                    continue
                raise
            except IntegrityError as error:
                if constraint_name(error) == NO_OVERLAP:
                    break
                raise
    raise SlotTaken


def waitlist_notify_freed(*, appointment, start=None, practitioner_id=None):
    """After commit, offer the freed time to the waitlist (in the background)."""
    start = start or appointment.starts_at
    practitioner_id = practitioner_id or appointment.practitioner_id
    background_enqueue("waitlist_match", start.isoformat(), practitioner_id)
