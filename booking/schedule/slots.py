"""Pure slot arithmetic for one practitioner: which start times are free.

Standard library only (no Django, no database), so it can be tested and reused
on its own. Working hours are wall-clock times in the practitioner's zone; all
results are aware UTC datetimes.

Daylight-saving rules:

* a wall time that does not exist (spring-forward gap) never yields a slot;
* an ambiguous wall time (autumn fall-back) yields one slot, its first
  occurrence (``fold=0``);
* a range closes at the first instant the clock reads its end time or later,
  so an end inside a gap closes at the jump, and lengths are measured in real
  elapsed time, not as a wall-clock difference.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

K = TypeVar("K", bound=Hashable)

_ZERO = timedelta(0)
_TICK = timedelta(microseconds=1)


def free_starts(
    *,
    tz: ZoneInfo,
    first_day: date,
    last_day: date,
    weekly_hours: Mapping[int, Sequence[tuple[time, time]]],
    blocked: Iterable[tuple[datetime, datetime]],
    duration: timedelta,
    buffer: timedelta,
    step: timedelta,
    not_before: datetime,
    not_after: datetime,
) -> list[datetime]:
    """Sorted UTC datetimes at which an appointment may start.

    ``weekly_hours`` maps a weekday (Monday=0) to working ranges in local wall
    time. ``blocked`` holds aware half-open ``[start, end)`` busy intervals in
    any order. A start ``s`` is free when ``s + duration`` fits in its range,
    ``[s, s + duration + buffer)`` overlaps nothing blocked, and
    ``not_before <= s <= not_after``.
    """
    if step <= _ZERO:
        raise ValueError("step must be positive")
    if duration <= _ZERO:
        raise ValueError("duration must be positive")
    if buffer < _ZERO:
        raise ValueError("buffer must not be negative")
    busy = _merge((_utc(start), _utc(end)) for start, end in blocked)
    not_before, not_after = _utc(not_before), _utc(not_after)

    candidates: set[datetime] = set()
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        for opens, closes in weekly_hours.get(day.weekday(), ()):
            candidates.update(_range_starts(day, opens, closes, tz, duration, step))

    # Candidates and busy intervals are both sorted, so one pointer suffices.
    free, i, tail = [], 0, duration + buffer
    for start in sorted(candidates):
        if not not_before <= start <= not_after:
            continue
        while i < len(busy) and busy[i][1] <= start:
            i += 1
        if i == len(busy) or start + tail <= busy[i][0]:
            free.append(start)
    return free


def merge_starts(
    per_practitioner: Mapping[K, list[datetime]],
) -> list[tuple[datetime, list[K]]]:
    """Union several practitioners' starts into sorted ``(start, [keys])`` pairs.

    Keys keep the mapping's order within each pair.
    """
    by_start: dict[datetime, list[K]] = {}
    for key, starts in per_practitioner.items():
        for start in dict.fromkeys(starts):
            by_start.setdefault(start, []).append(key)
    return sorted(by_start.items(), key=lambda pair: pair[0])


def _range_starts(
    day: date,
    opens: time,
    closes: time,
    tz: ZoneInfo,
    duration: timedelta,
    step: timedelta,
) -> Iterator[datetime]:
    if opens >= closes:
        raise ValueError(f"working range {opens}-{closes} must end after it starts")
    wall, last_wall = datetime.combine(day, opens), datetime.combine(day, closes)
    closing = _closing_instant(last_wall, tz)
    while wall < last_wall:
        start = _first_instant(wall, tz)
        if start is not None:
            if start + duration > closing:
                return  # starts only grow from here on
            yield start
        wall += step  # naive arithmetic: the step is wall-clock time


def _first_instant(wall: datetime, tz: ZoneInfo) -> datetime | None:
    """First UTC instant the local clock reads ``wall``; None inside a gap."""
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return instant if instant.astimezone(tz).replace(tzinfo=None) == wall else None


def _closing_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """First UTC instant the local clock reads ``wall`` or later."""
    instant = _first_instant(wall, tz)
    if instant is not None:
        return instant
    # In a gap the two PEP 495 readings straddle the jump; bisect down to it so
    # no appointment ends at a wall time later than the range's end.
    low, high = sorted(wall.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1))
    while high - low > _TICK:
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high


def _merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[list[datetime]]:
    """Sort and coalesce intervals into disjoint, increasing ``[start, end]``."""
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _utc(value: datetime) -> datetime:
    # Comparing datetimes that share a ZoneInfo ignores fold, so normalise first.
    if value.utcoffset() is None:
        raise ValueError(f"{value!r} must be timezone-aware")
    return value.astimezone(UTC)
