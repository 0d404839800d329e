from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    """Health questions before the visit, and the answers: health data, in tables of their own."""

    name = "booking.intake"
    label = "intake"
    verbose_name = _("Health questions")
