from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import Func, Q
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking.choices import (  # noqa: F401  (re-exported: the models' own names)
    ACTIVE_STATUSES,
    CLINIC_KINDS,
    AppointmentStatus,
    MessageKind,
    MessageStatus,
    WaitlistStatus,
    Weekday,
)
from clinic.images import WebImage


class TreatmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Treatment(WebImage):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True, help_text=_("Used in the page address."))
    summary = models.CharField(max_length=300, help_text=_("One or two sentences for lists and the home page."))
    description = models.TextField(help_text=_("Shown on the treatment's page. Blank lines make paragraphs."))
    duration_minutes = models.PositiveIntegerField(default=45, help_text=_("How long the visit takes."))
    buffer_minutes = models.PositiveIntegerField(
        default=15, help_text=_("Time kept free after the visit (cleaning, notes) before the next one.")
    )
    before_visit = models.TextField(
        _("before the visit"),
        blank=True,
        help_text=_("What the patient should do before coming. Sent with the booking."),
    )
    aftercare = models.TextField(blank=True, help_text=_("What the patient should do afterwards."))
    questions = models.ManyToManyField(
        "faq.Question", blank=True, related_name="treatments", help_text=_("FAQ questions about this treatment.")
    )
    position = models.PositiveIntegerField(default=0, help_text=_("Lower numbers come first."))
    active = models.BooleanField(default=True, help_text=_("Only active treatments are shown and can be booked."))

    objects = TreatmentQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("treatment")
        verbose_name_plural = _("treatments")
        # Texts and pictures are content (change_treatment); duration, address and bookability are the manager's.
        permissions = [("change_treatment_booking", "Can change how a treatment is booked")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0),
                name="booking_treatment_duration_positive",
                violation_error_message=_("A treatment must last at least one minute."),
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("booking:treatment", kwargs={"slug": self.slug})

    @property
    def duration(self):
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer(self):
        return timedelta(minutes=self.buffer_minutes)


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PractitionerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def giving(self, treatment):
        return self.active().filter(treatments=treatment)


class Practitioner(WebImage):
    name = models.CharField(max_length=120, help_text=_("As patients see it, e.g. 'Dr Anna Rossi'."))
    bio = models.TextField(blank=True, help_text=_("A few sentences shown to patients."))
    treatments = models.ManyToManyField(Treatment, related_name="practitioners", blank=True)
    position = models.PositiveIntegerField(default=0, help_text=_("Lower numbers come first."))
    active = models.BooleanField(default=True, help_text=_("Only active practitioners can be booked."))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practitioner",
        help_text=_("The staff login of this practitioner: in the Practitioners group they see their own agenda."),
    )

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("practitioner")
        verbose_name_plural = _("practitioners")

    def __str__(self):
        return self.name


class WorkingHours(models.Model):
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.IntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text=_("Clinic time."))
    end_time = models.TimeField(help_text=_("Clinic time. Add a second range on the same day for a lunch break."))

    class Meta:
        ordering = ["practitioner", "weekday", "start_time"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="booking_workinghours_end_after_start",
                violation_error_message=_("The working hours must end after they start."),
            )
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class ClosureQuerySet(models.QuerySet):
    def overlapping(self, start, end):
        return self.filter(starts_at__lt=end, ends_at__gt=start)


class Closure(models.Model):
    """Time nobody (or one practitioner) can be booked: holidays, training, time off."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        help_text=_("Leave empty when the whole clinic is closed."),
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True, help_text=_("For staff; patients do not see it."))

    objects = ClosureQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("closure or time off")
        verbose_name_plural = _("closures and time off")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="booking_closure_end_after_start",
                violation_error_message=_("A closure must end after it starts."),
            )
        ]

    def __str__(self):
        who = self.practitioner or gettext("Whole clinic")
        return f"{who}: {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"


class Course(models.Model):
    """A course of sessions planned by staff from a confirmed appointment (mesotherapy takes about ten)."""

    first_appointment = models.ForeignKey(
        "booking.Appointment",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The visit the course starts from."),
    )
    sessions = models.PositiveIntegerField(help_text=_("How many sessions in all, the first visit included."))
    interval_weeks = models.PositiveIntegerField(default=1, help_text=_("Weeks between sessions."))
    weekday = models.IntegerField(choices=Weekday.choices, help_text=_("Preferred weekday."))
    preferred_time = models.TimeField(help_text=_("Preferred start, clinic time."))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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
    reference = models.CharField(max_length=12, unique=True, editable=False)
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="appointments")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    blocked_until = models.DateTimeField(help_text=_("End of the visit plus the treatment's buffer."))
    status = models.CharField(max_length=24, choices=AppointmentStatus.choices, default=AppointmentStatus.REQUESTED)

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=20, help_text=_("E.164, e.g. +442079460000."))
    message = models.TextField(blank=True, max_length=2000)
    first_visit = models.BooleanField(default=True)
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The patient's language: emails, calendar files and their own page use it."),
    )
    consent_at = models.DateTimeField(null=True, blank=True)
    privacy_notice = models.ForeignKey(
        "clinic.PrivacyNotice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    staff_notes = models.TextField(blank=True, help_text=_("For staff only; the patient never sees it."))
    course = models.ForeignKey(
        "booking.Course", on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments"
    )
    # Bumped on every move, so calendar apps replace the event they already hold (iCalendar SEQUENCE).
    sequence = models.PositiveIntegerField(default=0, editable=False)
    # The form's one-time key: a resubmitted form finds its appointment instead of making another.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # An online request waiting past expires_at (address unconfirmed, or unanswered) expires: booking.requests.
    email_confirmed_at = models.DateTimeField(_("email address confirmed"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("request expires"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    from_status = models.CharField(max_length=24, choices=AppointmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=AppointmentStatus.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("history entry")
        verbose_name_plural = _("history")

    def __str__(self):
        return f"{self.from_status or gettext('new')} → {self.to_status}"


class MessageQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=MessageStatus.PENDING, send_after__lte=now)


class Message(models.Model):
    """One email the site owes someone: written in the same transaction as the change it reports.
    Holds no address, and no text but the reason staff gave for a decline or cancellation
    (``context["note"]``): the rest is built when it is sent, from the appointment as it is then.
    Erasing a patient's data removes that reason too (``booking.privacy.anonymise``).
    """

    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    waitlist_entry = models.ForeignKey(
        "booking.WaitlistEntry", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    # One row per thing to say: a repeated change finds the existing row instead of a second email.
    dedupe_key = models.CharField(max_length=200, unique=True)
    context = models.JSONField(default=dict, blank=True, help_text=_("What the message reports, e.g. the old time."))
    send_after = models.DateTimeField()
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        indexes = [models.Index(fields=["status", "send_after"], name="booking_message_due_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display().lower()})"


class WaitlistQuerySet(models.QuerySet):
    def open(self, today):  # entries that may still be offered a time
        return self.filter(status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED], date_to__gte=today)


class WaitlistEntry(models.Model):
    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="waitlist_entries")
    date_from = models.DateField()
    date_to = models.DateField()
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=20, help_text=_("E.164."))
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The patient's language: the offer email uses it."),
    )
    status = models.CharField(max_length=16, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING)
    offered_start = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    consent_at = models.DateTimeField(null=True, blank=True)
    privacy_notice = models.ForeignKey(
        "clinic.PrivacyNotice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The random key of the form that made the entry: the same form sent again joins once.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

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
