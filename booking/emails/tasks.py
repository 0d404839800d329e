"""The worker's task that sends one email, retried with growing delays while the mail server refuses."""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from booking.background import background_enqueue, background_task
from booking.emails.compose import email_build, message_is_current
from booking.models import Message, MessageStatus

logger = logging.getLogger(__name__)


# Errors worth another try later: the mail server is down, busy or refusing for now.
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)


def retry_delay(attempts):
    """5, 15, 45, 135 minutes, then every six hours: the default eight attempts cover about a day."""
    return timedelta(minutes=min(5 * 3 ** (attempts - 1), 360))


def error_summary(error):
    """The error's class and SMTP codes only: the server's text may quote an address."""
    codes = {getattr(error, "smtp_code", None)}
    # SMTPRecipientsRefused keeps its codes per address, not on the exception itself.
    codes |= {code for code, _text in getattr(error, "recipients", {}).values()}
    codes.discard(None)
    return " ".join([type(error).__name__, *sorted(str(code) for code in codes)])[:200]


def email_deliver(email):
    """Hand the email to the mail server; once it has accepted the message, the email counts as sent.

    An error while saying goodbye (QUIT) after the server took the message must not make us
    send it again, so the connection is closed here with such errors only logged.
    """
    connection = get_connection()
    connection.open()
    try:
        connection.send_messages([email])
    finally:
        try:
            connection.close()
        except TRANSIENT_ERRORS as error:
            logger.warning("Closing the mail connection failed after sending: %s", error_summary(error))


@background_task
def message_send(message_id):
    """Send one queued email, once.

    The row lock makes a second run (a repeated task, or another worker) wait, then find
    the message already sent. A failure to reach the mail server leaves it pending with a
    later retry; nothing is lost.
    """
    with transaction.atomic():
        message = (
            # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins.
            Message.objects.select_for_update(of=("self",))
            .select_related("appointment__treatment", "appointment__practitioner", "waitlist_entry__treatment")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != MessageStatus.PENDING:
            return "not pending"
        if not message_is_current(message=message):
            message.status = MessageStatus.OBSOLETE
            message.save(update_fields=["status"])
            return "obsolete"
        if message.send_after > timezone.now():
            # Run early (e.g. by hand): a reminder must not go out before its time.
            background_enqueue("message_send", message_id, run_after=message.send_after)
            return "not due"
        email = email_build(message=message)
        if email is None:
            message.status = MessageStatus.OBSOLETE
            message.last_error = "No recipient address."
            message.save(update_fields=["status", "last_error"])
            return "no recipient"
        try:
            email_deliver(email)
        except TRANSIENT_ERRORS as error:
            message.attempts += 1
            message.last_error = error_summary(error)
            if message.attempts >= settings.CLINIC_EMAIL_MAX_ATTEMPTS:
                message.status = MessageStatus.FAILED
                logger.error("Email %s (%s) failed %s times; giving up.", message.pk, message.kind, message.attempts)
            else:
                run_after = timezone.now() + retry_delay(message.attempts)
                background_enqueue("message_send", message_id, run_after=run_after)
                logger.warning(
                    "Email %s (%s) not sent (%s); retry at %s.", message.pk, message.kind, message.last_error, run_after
                )
            message.save(update_fields=["attempts", "last_error", "status"])
            return "retry" if message.status == MessageStatus.PENDING else "failed"
        message.status = MessageStatus.SENT
        message.sent_at = timezone.now()
        message.attempts += 1
        message.save(update_fields=["status", "sent_at", "attempts"])
    return "sent"
