from django.db import models


class ClinicDetailsQuerySet(models.QuerySet):
    def current(self):
        """The clinic's one record, or an unsaved blank one before staff fill it in."""
        return self.filter(pk=1).first() or ClinicDetails(pk=1)


class ClinicDetails(models.Model):
    """The clinic's own details, shown in the footer, the contact page and emails."""

    name = models.CharField(max_length=120, default="Mesotherapy Clinic")
    address = models.TextField(blank=True, help_text="Postal address, one line per row.")
    phone = models.CharField(max_length=40, blank=True, help_text="As patients should dial it.")
    email = models.EmailField(blank=True)
    opening_hours = models.TextField(
        blank=True, help_text="As patients should read it, e.g. 'Mon-Fri 9:00-18:00'. One line per row."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClinicDetailsQuerySet.as_manager()

    class Meta:
        verbose_name = "clinic details"
        verbose_name_plural = "clinic details"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=1),
                name="clinic_clinicdetails_single_row",
                violation_error_message="The clinic has one set of details; edit the existing one.",
            )
        ]

    def __str__(self):
        return self.name
