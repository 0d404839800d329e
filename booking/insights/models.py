from django.db import models


class Insights(models.Model):
    """No table: the holder of the permission to see the clinic's figures."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_insights", "Can see the clinic's insights (requests, outcomes, busy times)")]
        verbose_name = "insights"
        verbose_name_plural = "insights"

    def __str__(self):
        return "Insights"
