"""The clinic's offer and its hours: treatments, practitioners, working hours and closures."""

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import models
from django.db.models import Func
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking.choices import (
    Weekday,
)
from clinic.images import WebImage


class TreatmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Treatment(WebImage):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, help_text=_("Used in the page address."))
    summary = models.CharField(
        _("summary"), max_length=300, help_text=_("One or two sentences for lists and the home page.")
    )
    description = models.TextField(
        _("description"), help_text=_("Shown on the treatment's page. Blank lines make paragraphs.")
    )
    duration_minutes = models.PositiveIntegerField(
        _("duration minutes"), default=45, help_text=_("How long the visit takes.")
    )
    buffer_minutes = models.PositiveIntegerField(
        _("buffer minutes"),
        default=15,
        help_text=_("Time kept free after the visit (cleaning, notes) before the next one."),
    )
    before_visit = models.TextField(
        _("before the visit"),
        blank=True,
        help_text=_("What the patient should do before coming. Sent with the booking."),
    )
    aftercare = models.TextField(_("aftercare"), blank=True, help_text=_("What the patient should do afterwards."))
    questions = models.ManyToManyField(
        "faq.Question",
        blank=True,
        related_name="treatments",
        help_text=_("FAQ questions about this treatment."),
        verbose_name=_("questions"),
    )
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Lower numbers come first."))
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active treatments are shown and can be booked.")
    )

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
    name = models.CharField(_("name"), max_length=120, help_text=_("As patients see it, e.g. 'Dr Anna Rossi'."))
    bio = models.TextField(_("bio"), blank=True, help_text=_("A few sentences shown to patients."))
    treatments = models.ManyToManyField(
        Treatment, related_name="practitioners", blank=True, verbose_name=_("treatments")
    )
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Lower numbers come first."))
    active = models.BooleanField(_("active"), default=True, help_text=_("Only active practitioners can be booked."))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practitioner",
        help_text=_("The staff login of this practitioner: in the Practitioners group they see their own agenda."),
        verbose_name=_("user"),
    )

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("practitioner")
        verbose_name_plural = _("practitioners")

    def __str__(self):
        return self.name


class WorkingHours(models.Model):
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("practitioner")
    )
    weekday = models.IntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("start time"), help_text=_("Clinic time."))
    end_time = models.TimeField(
        _("end time"), help_text=_("Clinic time. Add a second range on the same day for a lunch break.")
    )

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
        verbose_name=_("practitioner"),
    )
    starts_at = models.DateTimeField(
        _("starts at"),
    )
    ends_at = models.DateTimeField(
        _("ends at"),
    )
    reason = models.CharField(
        _("reason"), max_length=200, blank=True, help_text=_("For staff; patients do not see it.")
    )

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
