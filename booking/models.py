from datetime import timedelta

from django.db import models
from django.urls import reverse

from clinic.images import WebImage


class TreatmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Treatment(WebImage):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True, help_text="Used in the page address.")
    summary = models.CharField(max_length=300, help_text="One or two sentences for lists and the home page.")
    description = models.TextField(help_text="Shown on the treatment's page. Blank lines make paragraphs.")
    duration_minutes = models.PositiveIntegerField(default=45, help_text="How long the visit takes.")
    buffer_minutes = models.PositiveIntegerField(
        default=15, help_text="Time kept free after the visit (cleaning, notes) before the next one."
    )
    before_visit = models.TextField(
        "before the visit", blank=True, help_text="What the patient should do before coming. Sent with the booking."
    )
    aftercare = models.TextField(blank=True, help_text="What the patient should do afterwards.")
    questions = models.ManyToManyField(
        "faq.Question", blank=True, related_name="treatments", help_text="FAQ questions about this treatment."
    )
    position = models.PositiveIntegerField(default=0, help_text="Lower numbers come first.")
    active = models.BooleanField(default=True, help_text="Only active treatments are shown and can be booked.")

    objects = TreatmentQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "treatment"
        verbose_name_plural = "treatments"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0),
                name="booking_treatment_duration_positive",
                violation_error_message="A treatment must last at least one minute.",
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
