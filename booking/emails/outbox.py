"""The emails each change owes, written as Message rows in the caller's transaction and handed to
the worker once it commits (booking.background).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking.background import background_enqueue
from booking.models import AppointmentStatus as S
from booking.models import Message, MessageKind, MessageStatus
from clinic.models import ClinicDetails

K = MessageKind


# What each new status tells the patient.
TRANSITION_MESSAGES = {
    S.CONFIRMED: [K.CONFIRMED],
    S.DECLINED: [K.DECLINED],
    S.CANCELLED_BY_PATIENT: [K.CANCELLED, K.CLINIC_CANCELLED],
    S.CANCELLED_BY_CLINIC: [K.CANCELLED],
    S.COMPLETED: [K.AFTERCARE],
    S.EXPIRED: [K.REQUEST_EXPIRED],
}


def message_queue(*, kind, key, appointment=None, waitlist_entry=None, send_after=None, context=None):
    """Owe an email, in the caller's transaction; the worker is told only once it commits.

    The same key twice is one email: repeating a change never repeats its message.
    """
    send_after = send_after or timezone.now()
    message, created = Message.objects.get_or_create(
        dedupe_key=key,
        defaults={
            "kind": kind,
            "appointment": appointment,
            "waitlist_entry": waitlist_entry,
            "send_after": send_after,
            "context": context or {},
        },
    )
    if created:
        background_enqueue("message_send", message.pk, run_after=send_after)
    return message


def messages_for_request(*, appointment):
    """The patient's "request received" (with the link that confirms their address, if it is not
    confirmed yet); the clinic hears of the request once the address is confirmed."""
    message_queue(kind=K.REQUEST_RECEIVED, key=f"{K.REQUEST_RECEIVED}:{appointment.pk}", appointment=appointment)
    if appointment.email_confirmed_at is not None:
        messages_for_email_confirmed(appointment=appointment)


def messages_for_email_confirmed(*, appointment):
    message_queue(kind=K.CLINIC_NEW_REQUEST, key=f"{K.CLINIC_NEW_REQUEST}:{appointment.pk}", appointment=appointment)


def messages_for_transition(*, appointment, note=""):
    for kind in TRANSITION_MESSAGES.get(appointment.status, []):
        message_queue(
            kind=kind,
            key=f"{kind}:{appointment.pk}:{appointment.sequence}",
            appointment=appointment,
            context={"note": note},
        )
    if appointment.status == S.CONFIRMED:
        reminder_queue(appointment=appointment)


def reminder_queue(*, appointment):
    """The reminder before a confirmed visit; none if that moment has already passed."""
    rules = ClinicDetails.objects.current()
    send_after = appointment.starts_at - timedelta(hours=rules.reminder_hours)
    if send_after <= timezone.now():
        return None
    return message_queue(
        kind=K.REMINDER,
        key=f"{K.REMINDER}:{appointment.pk}:{appointment.sequence}",
        appointment=appointment,
        send_after=send_after,
        context={"starts_at": appointment.starts_at.isoformat()},
    )


def messages_for_move(*, appointment, old_start, by_patient):
    context = {"old_starts_at": old_start.isoformat()}
    key = f"{appointment.pk}:{appointment.sequence}"
    message_queue(kind=K.MOVED, key=f"{K.MOVED}:{key}", appointment=appointment, context=context)
    if by_patient:
        message_queue(kind=K.CLINIC_MOVED, key=f"{K.CLINIC_MOVED}:{key}", appointment=appointment, context=context)
    if appointment.status == S.CONFIRMED:
        reminder_queue(appointment=appointment)


def message_resend(*, message_id):
    """Send a failed email again, through the worker's usual send; True if this call queued it.

    The row lock makes a second press (another member of staff, the same form sent twice) wait,
    then find the email pending again and queue nothing: one press, one email.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != MessageStatus.FAILED:
            return False
        message.status = MessageStatus.PENDING
        # A fresh run of retries: the mail server that refused it has presumably been fixed.
        message.attempts = 0
        message.send_after = timezone.now()
        message.save(update_fields=["status", "attempts", "send_after"])
        background_enqueue("message_send", message.pk)
    return True


def messages_give_up(*, messages):
    """Failed emails staff have dealt with some other way (a phone call): no longer shown as failed."""
    return messages.filter(status=MessageStatus.FAILED).update(status=MessageStatus.OBSOLETE)


def messages_prune(*, older_than_days, now=None):
    """Delete emails and finished task rows older than the retention period; returns (emails, tasks).

    An email still owed is kept whatever its age. The task rows go too: their arguments name the
    email, and a failed task's traceback may quote the mail server's answer about an address.
    """
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    with transaction.atomic():
        emails, _ = Message.objects.filter(created_at__lt=cutoff).exclude(status=MessageStatus.PENDING).delete()
        tasks, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return emails, tasks
