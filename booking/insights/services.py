"""The clinic's figures for a period, in a fixed number of aggregate queries whatever its length.

Appointments count in the period by when they were requested; busy days and hours by when the
visit is, in the clinic's zone.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Avg, CharField, Count, F, Q, Value
from django.db.models.functions import Coalesce, ExtractHour, ExtractIsoWeekDay, NullIf, TruncWeek
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname, get_language

from booking.models import Appointment, AppointmentEvent
from booking.models import AppointmentStatus as S

# The outcomes counted, each with the statuses that make it.
OUTCOMES = {
    "confirmed": [S.CONFIRMED, S.COMPLETED, S.NO_SHOW],
    "declined": [S.DECLINED],
    "cancelled": [S.CANCELLED_BY_PATIENT, S.CANCELLED_BY_CLINIC],
    "no_show": [S.NO_SHOW],
    "expired": [S.EXPIRED],
}
OUTCOME_LABELS = {
    "confirmed": _("Confirmed"),
    "declined": _("Declined"),
    "cancelled": _("Cancelled"),
    "no_show": _("No-show"),
    "expired": _("Expired"),
}


@dataclass
class Insights:
    total: int
    outcomes: dict
    average_to_confirm: timedelta | None
    weeks: list
    weekdays: list
    hours: list
    treatments: list
    practitioners: list


def outcome_counts():
    return {
        "total": Count("pk"),
        **{name: Count("pk", filter=Q(status__in=statuses)) for name, statuses in OUTCOMES.items()},
    }


def period_bounds(first_day, last_day):
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first_day, time.min), zone)
    end = timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min), zone)
    return start, end


def weeks_between(first_day, last_day):
    monday = first_day - timedelta(days=first_day.weekday())
    while monday <= last_day:
        yield monday
        monday += timedelta(days=7)


def counts_by(queryset, expression):
    """(value, count) for each value of ``expression`` over ``queryset``: one GROUP BY query."""
    rows = queryset.annotate(bucket=expression).values("bucket").annotate(count=Count("pk")).order_by()
    return [(row["bucket"], row["count"]) for row in rows]


def treatment_name():
    """The treatment's name in the active language, or the English one where that is blank (the site's
    fallback). Named by column: Appointment's queryset is not django-modeltranslation's, so
    "treatment__name" would read the untranslated column it leaves behind (docs/i18n.md)."""
    english = F(f"treatment__{build_localized_fieldname('name', settings.LANGUAGE_CODE)}")
    language = get_language()
    if language == settings.LANGUAGE_CODE:
        return english
    own = F(f"treatment__{build_localized_fieldname('name', language)}")
    return Coalesce(NullIf(own, Value("")), english, output_field=CharField())


def insights_for(*, first_day, last_day):
    """Everything the insights page shows for the days ``first_day`` to ``last_day`` (clinic dates)."""
    zone = timezone.get_current_timezone()
    start, end = period_bounds(first_day, last_day)
    requested = Appointment.objects.filter(created_at__gte=start, created_at__lt=end)

    totals = requested.aggregate(**outcome_counts())
    by_week = {week.date(): count for week, count in counts_by(requested, TruncWeek("created_at", tzinfo=zone))}
    by_weekday = dict(counts_by(requested, ExtractIsoWeekDay("starts_at", tzinfo=zone)))
    by_hour = dict(counts_by(requested, ExtractHour("starts_at", tzinfo=zone)))
    # A request is confirmed once (from "requested" to "confirmed"); later moves are other rows.
    to_confirm = AppointmentEvent.objects.filter(
        appointment__created_at__gte=start,
        appointment__created_at__lt=end,
        from_status=S.REQUESTED,
        to_status=S.CONFIRMED,
    ).aggregate(average=Avg(F("at") - F("appointment__created_at")))["average"]
    treatments = list(requested.values(name=treatment_name()).annotate(**outcome_counts()).order_by("-total", "name"))
    practitioners = list(
        requested.values(name=F("practitioner__name")).annotate(**outcome_counts()).order_by("-total", "name")
    )
    hours = sorted(by_hour) or []
    return Insights(
        total=totals.pop("total"),
        outcomes=totals,
        average_to_confirm=to_confirm,
        weeks=[(monday, by_week.get(monday, 0)) for monday in weeks_between(first_day, last_day)],
        # Django's names of the days (0 is Monday), in the admin's language.
        weekdays=[(str(WEEKDAYS[day - 1]), by_weekday.get(day, 0)) for day in range(1, 8)],
        hours=[(f"{hour:02d}:00", by_hour.get(hour, 0)) for hour in range(hours[0], hours[-1] + 1)] if hours else [],
        treatments=treatments,
        practitioners=practitioners,
    )
