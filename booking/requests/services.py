"""An online request's hold on its time: the patient confirms the email address, staff answer, or it expires.

A request made online with an address this device has not confirmed before holds its time for
CLINIC_REQUEST_CONFIRM_MINUTES; the emailed link (GET shows a button, POST acts) confirms it, and
the request then waits up to CLINIC_REQUEST_ANSWER_HOURS for staff. Either wait that runs out
frees the time and tells the patient; the worker's task runs at the moment, and
``manage.py requests_expire`` catches any it missed.
"""

from django.db import transaction
from django.utils import timezone

from booking.appointments.services import appointment_transition, request_expires_at
from booking.background import background_enqueue
from booking.emails.outbox import messages_for_email_confirmed
from booking.models import ACTIVE_STATUSES, Appointment, AppointmentEvent, AppointmentStatus

S = AppointmentStatus


class RequestExpired(Exception):
    """The request is no longer waiting: it expired before the address was confirmed, or it ended."""


def request_is_lapsed(*, appointment, now):
    return appointment.status == S.REQUESTED and (
        (appointment.expires_at is not None and appointment.expires_at <= now) or appointment.starts_at <= now
    )


def request_confirmable(*, appointment, now):
    """The emailed link may still confirm the address: the visit is going ahead and no hold ran out."""
    return appointment.status in ACTIVE_STATUSES and not request_is_lapsed(appointment=appointment, now=now)


def request_email_confirm(*, appointment, now=None):
    """The patient followed the emailed link: the address is theirs. Returns (appointment, newly confirmed).

    The request now holds its time until staff answer, and the clinic is told of it. A second
    use of the link changes nothing.
    """
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        now = now or timezone.now()
        if locked.email_confirmed_at is not None:
            return locked, False
        if not request_confirmable(appointment=locked, now=now):
            raise RequestExpired
        locked.email_confirmed_at = now
        fields = ["email_confirmed_at", "updated_at"]
        if locked.status == S.REQUESTED:
            locked.expires_at = request_expires_at(start=locked.starts_at, now=now, email_confirmed=True)
            fields.append("expires_at")
        locked.save(update_fields=fields)
        AppointmentEvent.objects.create(
            appointment=locked,
            from_status=locked.status,
            to_status=locked.status,
            note="Email address confirmed by the patient.",
        )
        if locked.status == S.REQUESTED:
            messages_for_email_confirmed(appointment=locked)
            background_enqueue("request_expire", locked.pk, run_after=locked.expires_at)
    return locked, True


def request_expire(*, appointment_id, now=None):
    """Expire the request if it is still waiting past its hold; returns the expired appointment or None.

    Safe to run early, late or twice: a request confirmed, answered or already expired is left alone.
    """
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().filter(pk=appointment_id).first()
        now = now or timezone.now()
        if locked is None or not request_is_lapsed(appointment=locked, now=now):
            return None
        if locked.email_confirmed_at is None:
            note = "Expired: the patient did not confirm their email address in time."
        else:
            note = "Expired: not answered in time."
        return appointment_transition(appointment=locked, to_status=S.EXPIRED, note=note)


def requests_expire_due(*, now=None):
    """Expire every request whose hold has run out (the schedule's sweep); returns how many."""
    now = now or timezone.now()
    due = Appointment.objects.expiry_due(now).values_list("pk", flat=True)
    return sum(request_expire(appointment_id=pk, now=now) is not None for pk in list(due))
