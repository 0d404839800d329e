"""The emails the site sends, kept as an outbox the worker delivers from."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from booking.choices import (
    MessageKind,
    MessageStatus,
)
from booking.models.appointments import Appointment


class MessageQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=MessageStatus.PENDING, send_after__lte=now)


class Message(models.Model):
    """One email the site owes someone: written in the same transaction as the change it reports.
    Holds no address, and no text but the reason staff gave for a decline or cancellation
    (``context["note"]``): the rest is built when it is sent, from the appointment as it is then.
    Erasing a patient's data removes that reason too (``booking.privacy.anonymise``).
    """

    kind = models.CharField(_("kind"), max_length=32, choices=MessageKind.choices)
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("appointment"),
    )
    waitlist_entry = models.ForeignKey(
        "booking.WaitlistEntry",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("waitlist entry"),
    )
    # One row per thing to say: a repeated change finds the existing row instead of a second email.
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    context = models.JSONField(
        _("context"), default=dict, blank=True, help_text=_("What the message reports, e.g. the old time.")
    )
    send_after = models.DateTimeField(
        _("send after"),
    )
    status = models.CharField(_("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        indexes = [models.Index(fields=["status", "send_after"], name="booking_message_due_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display().lower()})"
