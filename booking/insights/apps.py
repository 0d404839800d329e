from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """The clinic's figures over a period, for staff with ``insights.view_insights``."""

    name = "booking.insights"
    label = "insights"
    verbose_name = _("Insights")
