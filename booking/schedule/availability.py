"""Free times for a treatment, read from the database in a fixed number of queries.

The arithmetic lives in ``availability_core`` (pure, no database); this module gathers the
practitioners, their hours, closures and active appointments, and hands them over.

The patient's free-times page reads them through ``availability_computed()``: each worker keeps
what it computed (the free times, and the page a visitor without a session gets) under an
availability version held in the shared cache. Every saved or deleted appointment, closure,
working-hours row, practitioner, treatment or booking rule writes a new version once its
transaction commits (``booking.signals``), so the next page computes afresh; a change made around
the ORM (raw SQL) is picked up within CACHED_SECONDS. Whatever a kept list says, the details step
and the database's exclusion constraint check the time again.
"""

import time as clock
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby

from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from booking.models import Appointment, Closure, Practitioner, WorkingHours
from booking.schedule.slots import free_starts, merge_starts
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


def free_slots(
    *,
    treatment,
    first_day,
    last_day,
    practitioner=None,
    now=None,
    rules=None,
    ignore_appointment=None,
    horizon_margin=timedelta(0),
):
    """Free start times between two local days (inclusive), for one practitioner or any.

    ``ignore_appointment`` leaves one appointment's own time out of the busy times, for moving it.
    ``horizon_margin`` reaches past the booking horizon, for a list kept a while (see Computed.free_slots).
    Two queries (hours, then closures and appointments together), three when ``rules`` is not given
    and the clinic's details are not in the cache; whatever the number of days, practitioners or
    appointments.
    """
    now = now or timezone.now()
    rules = rules or clinic_details()
    tz = timezone.get_default_timezone()
    not_before, not_after = booking_window(rules=rules, now=now)
    not_after += horizon_margin

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


AVAILABILITY_VERSION_KEY = "booking:availability-version"
# A safety net only: a change saved through the ORM writes a new version at once.
CACHED_SECONDS = 300
CACHED_MAX_ENTRIES = 512


class Computed:
    """This worker's free-time lists (and what they are shown with), for one availability version."""

    def __init__(self):
        self.reset()

    def reset(self, version=None):
        self.version = version
        self.entries = {}

    def get(self, key):
        """What was kept under ``key`` for this version (within CACHED_SECONDS), else None."""
        entry = self.entries.get(key)
        if entry is None or clock.monotonic() - entry[0] > CACHED_SECONDS:
            return None
        return entry[1]

    def keep(self, key, value):
        if len(self.entries) >= CACHED_MAX_ENTRIES:
            self.entries.clear()
        self.entries[key] = (clock.monotonic(), value)
        return value

    def remember(self, key, compute):
        """What ``compute()`` gives, kept for this version (and CACHED_SECONDS at most)."""
        value = self.get(key)
        return self.keep(key, compute()) if value is None else value

    def free_slots(self, *, treatment, first_day, last_day, practitioner=None, now=None, rules=None):
        """``free_slots`` for the patient's pages, computed once for this version.

        A kept list reaches CACHED_SECONDS past the horizon and is cut to the booking window of
        the moment it is served, so minimum notice and horizon hold to the second.
        """
        return self.free_slots_until(
            treatment=treatment, first_day=first_day, last_day=last_day, practitioner=practitioner, now=now, rules=rules
        )[0]

    def free_slots_until(self, *, treatment, first_day, last_day, practitioner=None, now=None, rules=None):
        """``(free_slots, until)``: the list as ``free_slots`` gives it, and the first moment at which
        the passing of time alone changes it (a shown time falls inside the minimum notice, a kept
        one comes within the horizon, or the kept list reaches CACHED_SECONDS)."""
        now = now or timezone.now()
        rules = rules or clinic_details()
        key = ("slots", treatment.pk, treatment.duration, treatment.buffer, getattr(practitioner, "pk", None))
        key += (first_day, last_day, rules.min_notice_hours, rules.booking_horizon_days, rules.slot_step_minutes)
        entry = self.entries.get(key)
        if entry is None or clock.monotonic() - entry[0] > CACHED_SECONDS:
            slots = free_slots(
                treatment=treatment,
                first_day=first_day,
                last_day=last_day,
                practitioner=practitioner,
                now=now,
                rules=rules,
                horizon_margin=timedelta(seconds=CACHED_SECONDS),
            )
            self.keep(key, slots)
            entry = self.entries[key]
        kept_at, slots = entry
        not_before, not_after = booking_window(rules=rules, now=now)
        shown = [slot for slot in slots if not_before <= slot.start <= not_after]
        changes = [now + timedelta(seconds=CACHED_SECONDS - (clock.monotonic() - kept_at))]
        if shown:
            changes.append(shown[0].start - (not_before - now))
        coming = next((slot for slot in slots if slot.start > not_after), None)
        if coming is not None:
            changes.append(coming.start - (not_after - now))
        return shown, min(changes)


computed = Computed()


@receiver(setting_changed)
def _computed_reset(*, setting, **kwargs):
    # Tests swap the cache for each test; lists computed under the previous one must not survive it.
    if setting == "CACHES":
        computed.reset()


def availability_version():
    """The shared availability version: one small cache read."""
    version = cache.get(AVAILABILITY_VERSION_KEY)
    if version is None:
        # Never set (or evicted): a fresh one, so that no list computed before can match it.
        cache.add(AVAILABILITY_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(AVAILABILITY_VERSION_KEY)
    return version


def availability_computed():
    """This worker's lists for the current availability version (read once: call it once per request).

    The version is read before the database, so nothing is ever kept under a version newer than
    what it was computed from.
    """
    version = availability_version()
    if computed.version != version:
        computed.reset(version)
    return computed


def availability_changed():
    """Something free times depend on changed: every worker computes its lists afresh.

    This worker forgets its lists at once (also inside a transaction that may still roll back: that
    only costs a recomputation); the others see the new version once the transaction commits.
    """
    computed.entries.clear()

    def publish():
        cache.set(AVAILABILITY_VERSION_KEY, uuid.uuid4().hex, None)
        computed.reset()

    transaction.on_commit(publish)


def practitioners_free_at(*, treatment, start, practitioner=None, now=None, rules=None, ignore_appointment=None):
    """Ids of the practitioners free for this treatment at exactly this start (empty if none).

    ``rules`` as for ``free_slots``: the clinic's, with the patients' booking window, unless given.
    """
    day = timezone.localtime(start).date()
    slots = free_slots(
        treatment=treatment,
        first_day=day,
        last_day=day,
        practitioner=practitioner,
        now=now,
        rules=rules,
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
