"""Free times for a treatment, read from the database in a fixed number of queries.

The arithmetic lives in ``availability_core`` (pure, no database); this module gathers the
practitioners, their hours, closures and active appointments, and hands them over.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby

from django.db.models import Q
from django.utils import timezone

from booking.availability_core import free_starts, merge_starts
from booking.models import Appointment, Closure, Practitioner, WorkingHours
from clinic.cache import clinic_details


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, UTC
    practitioner_ids: tuple[int, ...]

    @property
    def local_start(self):
        return timezone.localtime(self.start)


def booking_window(*, rules, now):
    """The earliest and latest start a patient may book now."""
    return now + timedelta(hours=rules.min_notice_hours), now + timedelta(days=rules.booking_horizon_days)


def free_slots(*, treatment, first_day, last_day, practitioner=None, now=None, rules=None, ignore_appointment=None):
    """Free start times between two local days (inclusive), for one practitioner or any.

    ``ignore_appointment`` leaves one appointment's own time out of the busy times, for moving it.
    Two queries (hours, then closures and appointments together), three when ``rules`` is not given
    and the clinic's details are not in the cache; whatever the number of days, practitioners or
    appointments.
    """
    now = now or timezone.now()
    rules = rules or clinic_details()
    tz = timezone.get_default_timezone()
    not_before, not_after = booking_window(rules=rules, now=now)

    # The practitioners come with their hours: one without any hours has no free time anyway.
    giving = Practitioner.objects.giving(treatment)
    if practitioner is not None:
        giving = giving.filter(pk=practitioner.pk)
    hours_by_practitioner = {}
    for wh in WorkingHours.objects.filter(practitioner__in=giving).select_related("practitioner"):
        hours_by_practitioner.setdefault(wh.practitioner, []).append(wh)
    practitioners = list(hours_by_practitioner)
    if not practitioners or first_day > last_day:
        return []
    ids = [p.pk for p in practitioners]

    # A day's margin each side: the local days' edges in UTC, whatever the offset.
    window_start = datetime.combine(first_day - timedelta(days=1), time.min, tzinfo=tz)
    window_end = datetime.combine(last_day + timedelta(days=2), time.min, tzinfo=tz)
    closures = (
        Closure.objects.overlapping(window_start, window_end)
        .filter(Q(practitioner__isnull=True) | Q(practitioner__in=ids))
        .values_list("practitioner_id", "starts_at", "ends_at")
    )
    appointments = Appointment.objects.active().overlapping(window_start, window_end).filter(practitioner__in=ids)
    if ignore_appointment is not None:
        appointments = appointments.exclude(pk=ignore_appointment.pk)
    # One query for both: an appointment always has its practitioner, a closure may have none (everyone).
    blocked_times = list(
        closures.order_by().union(
            appointments.order_by().values_list("practitioner_id", "starts_at", "blocked_until"), all=True
        )
    )

    per_practitioner = {}
    for person in practitioners:
        hours = {}
        for wh in hours_by_practitioner[person]:
            hours.setdefault(wh.weekday, []).append((wh.start_time, wh.end_time))
        blocked = [(s, e) for owner, s, e in blocked_times if owner in (None, person.pk)]
        per_practitioner[person.pk] = free_starts(
            tz=tz,
            first_day=first_day,
            last_day=last_day,
            weekly_hours=hours,
            blocked=blocked,
            duration=treatment.duration,
            buffer=treatment.buffer,
            step=timedelta(minutes=rules.slot_step_minutes),
            not_before=not_before,
            not_after=not_after,
        )
    return [Slot(start, tuple(keys)) for start, keys in merge_starts(per_practitioner)]


def practitioners_free_at(*, treatment, start, practitioner=None, now=None, ignore_appointment=None):
    """Ids of the practitioners free for this treatment at exactly this start (empty if none)."""
    day = timezone.localtime(start).date()
    slots = free_slots(
        treatment=treatment,
        first_day=day,
        last_day=day,
        practitioner=practitioner,
        now=now,
        ignore_appointment=ignore_appointment,
    )
    return next((list(slot.practitioner_ids) for slot in slots if slot.start == start), [])


def nearest_free_slots(*, treatment, around, practitioner=None, count=6, now=None):
    """The free times closest to ``around``, before or after it, in time order."""
    day = timezone.localtime(around).date()
    slots = free_slots(
        treatment=treatment,
        first_day=day - timedelta(days=7),
        last_day=day + timedelta(days=14),
        practitioner=practitioner,
        now=now,
    )
    nearest = sorted(slots, key=lambda slot: abs(slot.start - around))[:count]
    return sorted(nearest, key=lambda slot: slot.start)


def slots_by_day(slots):
    """[(local date, [slots])] in order, for display."""
    return [(day, list(items)) for day, items in groupby(slots, key=lambda slot: slot.local_start.date())]


def first_day_today(now=None) -> date:
    return timezone.localtime(now or timezone.now()).date()
