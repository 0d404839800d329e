"""Appointments, their history, and the courses of sessions they belong to."""

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking.choices import (
    ACTIVE_STATUSES,
    AppointmentStatus,
    Weekday,
)
from booking.models.treatments import Practitioner, Treatment, TsTzRange


class Course(models.Model):
    """A course of sessions planned by staff from a confirmed appointment (mesotherapy takes about ten)."""

    first_appointment = models.ForeignKey(
        "booking.Appointment",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The visit the course starts from."),
        verbose_name=_("first appointment"),
    )
    sessions = models.PositiveIntegerField(
        _("sessions"), help_text=_("How many sessions in all, the first visit included.")
    )
    interval_weeks = models.PositiveIntegerField(_("interval weeks"), default=1, help_text=_("Weeks between sessions."))
    weekday = models.IntegerField(_("weekday"), choices=Weekday.choices, help_text=_("Preferred weekday."))
    preferred_time = models.TimeField(_("preferred time"), help_text=_("Preferred start, clinic time."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("course of treatment")
        verbose_name_plural = _("courses of treatment")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sessions__gte=2, sessions__lte=30),
                name="booking_course_sessions_range",
                violation_error_message=_("A course has between 2 and 30 sessions."),
            ),
            models.CheckConstraint(
                condition=models.Q(interval_weeks__gte=1, interval_weeks__lte=12),
                name="booking_course_interval_range",
                violation_error_message=_("Sessions are 1 to 12 weeks apart."),
            ),
        ]

    def __str__(self):
        return gettext("Course of %(sessions)s from %(reference)s") % {
            "sessions": self.sessions,
            "reference": self.first_appointment.reference,
        }


class AppointmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def overlapping(self, start, end):
        return self.filter(starts_at__lt=end, blocked_until__gt=start)

    def expiry_due(self, now):  # requests still waiting past their hold, or their visit
        return self.filter(Q(expires_at__lte=now) | Q(starts_at__lte=now), status=AppointmentStatus.REQUESTED)


class Appointment(models.Model):
    reference = models.CharField(_("reference"), max_length=12, unique=True, editable=False)
    treatment = models.ForeignKey(
        Treatment, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("treatment")
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("practitioner")
    )
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(
        _("ends at"),
    )
    blocked_until = models.DateTimeField(
        _("blocked until"), help_text=_("End of the visit plus the treatment's buffer.")
    )
    status = models.CharField(
        _("status"), max_length=24, choices=AppointmentStatus.choices, default=AppointmentStatus.REQUESTED
    )

    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    phone = models.CharField(_("phone"), max_length=20, help_text=_("E.164, e.g. +442079460000."))
    message = models.TextField(_("message"), blank=True, max_length=2000)
    first_visit = models.BooleanField(_("first visit"), default=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The patient's language: emails, calendar files and their own page use it."),
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

    staff_notes = models.TextField(
        _("staff notes"), blank=True, help_text=_("For staff only; the patient never sees it.")
    )
    course = models.ForeignKey(
        "booking.Course",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("course"),
    )
    # Bumped on every move, so calendar apps replace the event they already hold (iCalendar SEQUENCE).
    sequence = models.PositiveIntegerField(_("sequence"), default=0, editable=False)
    # The form's one-time key: a resubmitted form finds its appointment instead of making another.
    submission_key = models.UUIDField(_("submission key"), null=True, blank=True, unique=True, editable=False)
    # An online request waiting past expires_at (address unconfirmed, or unanswered) expires: booking.requests.
    email_confirmed_at = models.DateTimeField(_("email address confirmed"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("request expires"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        permissions = [
            ("export_appointment", "Can export appointments to CSV"),
            # Given to nobody by default (superusers have every permission): export and erase by email.
            ("manage_patient_data", "Can export and erase a patient's personal data"),
        ]
        constraints = [
            ExclusionConstraint(
                name="booking_appointment_no_overlap",
                expressions=[
                    (TsTzRange("starts_at", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("practitioner", RangeOperators.EQUAL),
                ],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                violation_error_message=_("This time has just been taken. Please choose another time."),
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at"))
                & models.Q(blocked_until__gte=models.F("ends_at")),
                name="booking_appointment_times_ordered",
                violation_error_message=_("An appointment must end after it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.reference} – {self.first_name} {self.last_name}"

    @property
    def patient_name(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def is_active(self):
        return self.status in ACTIVE_STATUSES


class AppointmentEvent(models.Model):
    """One row per status change: who, when, from, to, why."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="events", verbose_name=_("appointment")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_status = models.CharField(_("from status"), max_length=24, choices=AppointmentStatus.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=24, choices=AppointmentStatus.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("history entry")
        verbose_name_plural = _("history")

    def __str__(self):
        # As staff read it in the history: the statuses' labels in the admin's language.
        before = self.get_from_status_display() if self.from_status else gettext("New")
        return f"{before} → {self.get_to_status_display()}"
