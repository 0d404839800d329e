from django.db import models
from django.utils.translation import gettext_lazy as _


class Insights(models.Model):
    """No table: the holder of the permission to see the clinic's figures."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_insights", "Can see the clinic's insights (requests, outcomes, busy times)")]
        verbose_name = _("insights")
        verbose_name_plural = _("insights")

    def __str__(self):
        return "Insights"
