"""Moments as the admin shows them: in the clinic's time, with the day and month in the admin's language."""

from django.utils import timezone
from django.utils.dateformat import format as date_format


def clinic_time(moment, format="D d M Y H:i"):
    """ "Tue 15 Dec 2026 10:00" (« mar 15 déc 2026 10:00 »); a dash for no moment."""
    return date_format(timezone.localtime(moment), format) if moment else "–"
