"""Patients waiting for a time to come free."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from booking.choices import (
    WaitlistStatus,
)
from booking.models.appointments import Appointment
from booking.models.treatments import Treatment


class WaitlistQuerySet(models.QuerySet):
    def open(self, today):  # entries that may still be offered a time
        return self.filter(status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED], date_to__gte=today)


class WaitlistEntry(models.Model):
    treatment = models.ForeignKey(
        Treatment, on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name=_("treatment")
    )
    date_from = models.DateField(
        _("date from"),
    )
    date_to = models.DateField(
        _("date to"),
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    phone = models.CharField(_("phone"), max_length=20, help_text=_("E.164."))
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The patient's language: the offer email uses it."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    offered_start = models.DateTimeField(_("offered start"), null=True, blank=True)
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("appointment")
    )
    consent_at = models.DateTimeField(_("consent at"), null=True, blank=True)
    privacy_notice = models.ForeignKey(
        "clinic.PrivacyNotice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("privacy notice"),
    )
    # The random key of the form that made the entry: the same form sent again joins once.
    submission_key = models.UUIDField(_("submission key"), null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = WaitlistQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_to__gte=models.F("date_from")),
                name="booking_waitlistentry_dates_ordered",
                violation_error_message=_("The last day must be on or after the first day."),
            )
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name} – {self.treatment} ({self.date_from}–{self.date_to})"
