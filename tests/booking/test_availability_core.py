"""Tests for the pure slot arithmetic in booking.availability_core."""

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.schedule.slots import free_starts, merge_starts

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2025, 6, 2)
MIN = timedelta(minutes=1)
EVERY_DAY = range(7)


def at(day, hhmm, tz=LONDON, fold=0):
    hour, minute = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz).replace(fold=fold)


def slots(
    first_day=MONDAY,
    last_day=None,
    *,
    tz=LONDON,
    hours=((time(9), time(12)),),
    days=(0,),
    blocked=(),
    duration=30 * MIN,
    buffer=0 * MIN,
    step=30 * MIN,
    not_before=datetime(2000, 1, 1, tzinfo=UTC),
    not_after=datetime(2100, 1, 1, tzinfo=UTC),
):
    return free_starts(
        tz=tz,
        first_day=first_day,
        last_day=last_day or first_day,
        weekly_hours={weekday: list(hours) for weekday in days},
        blocked=blocked,
        duration=duration,
        buffer=buffer,
        step=step,
        not_before=not_before,
        not_after=not_after,
    )


def wall(starts, tz=LONDON):
    return [start.astimezone(tz).strftime("%H:%M") for start in starts]


def half_hours(first, last):
    first_minute, last_minute = (int(t[:2]) * 60 + int(t[3:]) for t in (first, last))
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(first_minute, last_minute + 1, 30)]


# --- ordinary days ---------------------------------------------------------


def test_slots_advance_by_step_until_the_last_start_that_fits():
    assert wall(slots()) == half_hours("09:00", "11:30")
    assert wall(slots(duration=60 * MIN)) == half_hours("09:00", "11:00")


def test_results_are_sorted_aware_utc_datetimes():
    starts = slots(last_day=MONDAY + timedelta(days=6), days=EVERY_DAY)
    assert starts == sorted(starts)
    assert all(start.tzinfo is UTC for start in starts)
    assert starts[0] == datetime(2025, 6, 2, 8, tzinfo=UTC)  # 09:00 BST


def test_step_is_counted_from_the_start_of_each_range():
    assert wall(slots(hours=[(time(9, 10), time(10, 30))], step=20 * MIN)) == [
        "09:10",
        "09:30",
        "09:50",
    ]


def test_lunch_break_has_no_slots():
    hours = [(time(9), time(12, 30)), (time(13, 30), time(18))]
    times = wall(slots(hours=hours))
    assert "12:30" not in times and "13:00" not in times
    assert times == half_hours("09:00", "12:00") + half_hours("13:30", "17:30")


def test_buffer_may_run_past_closing_time():
    assert wall(slots(hours=[(time(9), time(10))], buffer=15 * MIN)) == ["09:00", "09:30"]


def test_days_without_working_hours_contribute_nothing():
    starts = slots(last_day=MONDAY + timedelta(days=6), days=(0, 2))
    assert {start.astimezone(LONDON).date() for start in starts} == {
        MONDAY,
        MONDAY + timedelta(days=2),
    }


def test_working_range_that_ends_before_it_starts_is_rejected():
    with pytest.raises(ValueError, match="must end after it starts"):
        slots(hours=[(time(12), time(9))])


@pytest.mark.parametrize(
    "changes",
    [{"step": 0 * MIN}, {"step": -30 * MIN}, {"duration": 0 * MIN}, {"buffer": -MIN}],
)
def test_non_positive_step_or_duration_and_negative_buffer_are_rejected(changes):
    with pytest.raises(ValueError):
        slots(**changes)


def test_naive_blocked_interval_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        slots(blocked=[(datetime(2025, 6, 2, 9), datetime(2025, 6, 2, 10))])


# --- blocked intervals -----------------------------------------------------


def test_blocked_closure_day_removes_that_whole_day_only():
    tuesday = MONDAY + timedelta(days=1)
    closure = (at(tuesday, "00:00"), at(tuesday + timedelta(days=1), "00:00"))
    starts = slots(last_day=MONDAY + timedelta(days=2), days=(0, 1, 2), blocked=[closure])
    days = [start.astimezone(LONDON).date() for start in starts]
    assert tuesday not in days
    assert days.count(MONDAY) == days.count(MONDAY + timedelta(days=2)) == 6


def test_time_off_in_the_middle_of_a_day_removes_only_overlapping_slots():
    time_off = (at(MONDAY, "10:00"), at(MONDAY, "11:15"))
    assert wall(slots(blocked=[time_off])) == ["09:00", "09:30", "11:30"]


def test_existing_appointment_blocks_its_time_and_its_buffer():
    appointment = (at(MONDAY, "10:00"), at(MONDAY, "10:45"))  # 30 min + 15 min buffer
    times = wall(slots(blocked=[appointment], step=15 * MIN))
    assert times[:4] == ["09:00", "09:15", "09:30", "10:45"]


def test_candidates_own_buffer_must_not_reach_the_next_appointment():
    appointment = (at(MONDAY, "10:00"), at(MONDAY, "10:30"))
    without_buffer = wall(slots(blocked=[appointment], step=15 * MIN))
    with_buffer = wall(slots(blocked=[appointment], step=15 * MIN, buffer=15 * MIN))
    assert "09:30" in without_buffer
    assert "09:30" not in with_buffer and "09:15" in with_buffer


def test_touching_blocked_intervals_are_allowed_on_both_sides():
    before = (at(MONDAY, "09:00"), at(MONDAY, "09:30"))
    after = (at(MONDAY, "10:00"), at(MONDAY, "10:30"))
    assert wall(slots(blocked=[before, after])) == ["09:30", "10:30", "11:00", "11:30"]


def test_unsorted_overlapping_blocked_input_acts_like_its_union():
    scattered = [
        (at(MONDAY, "10:30"), at(MONDAY, "11:00")),
        (at(MONDAY, "09:30"), at(MONDAY, "10:00")),
        (at(MONDAY, "10:00").astimezone(UTC), at(MONDAY, "10:40").astimezone(UTC)),
        (at(MONDAY, "09:45"), at(MONDAY, "10:15")),
        (at(MONDAY, "09:50"), at(MONDAY, "09:55")),
        (at(MONDAY, "11:00"), at(MONDAY, "11:00")),  # empty
    ]
    union = [(at(MONDAY, "09:30"), at(MONDAY, "11:00"))]
    assert slots(blocked=scattered) == slots(blocked=union)
    assert wall(slots(blocked=scattered)) == ["09:00", "11:00", "11:30"]


def test_sweep_matches_a_brute_force_overlap_check():
    rng = random.Random(20250602)
    week = MONDAY + timedelta(days=6)
    hours = [(time(8), time(12, 30)), (time(13), time(19))]
    open_starts = slots(last_day=week, days=EVERY_DAY, hours=hours, step=10 * MIN)
    base = at(MONDAY, "07:00")
    blocked = []
    for _ in range(60):
        start = base + rng.randrange(7 * 24 * 6) * 10 * MIN
        blocked.append((start, start + rng.randrange(1, 30) * 10 * MIN))
    tail = 30 * MIN + 10 * MIN
    expected = [s for s in open_starts if not any(b < s + tail and s < e for b, e in blocked)]
    actual = slots(
        last_day=week,
        days=EVERY_DAY,
        hours=hours,
        step=10 * MIN,
        buffer=10 * MIN,
        blocked=blocked,
    )
    assert actual == expected
    assert 0 < len(actual) < len(open_starts)


# --- notice and horizon ----------------------------------------------------


def test_minimum_notice_hides_starts_before_not_before():
    assert wall(slots(not_before=at(MONDAY, "10:10"))) == ["10:30", "11:00", "11:30"]
    assert wall(slots(not_before=at(MONDAY, "10:30"))) == ["10:30", "11:00", "11:30"]


def test_horizon_hides_starts_after_not_after_but_keeps_it():
    starts = slots(last_day=MONDAY + timedelta(days=1), days=(0, 1), not_after=at(MONDAY, "10:30"))
    assert wall(starts) == ["09:00", "09:30", "10:00", "10:30"]


# --- daylight-saving changes -----------------------------------------------

NIGHT = [(time(0), time(4))]
SPRING = {LONDON: date(2025, 3, 30), NEW_YORK: date(2025, 3, 9)}
AUTUMN = {LONDON: date(2025, 10, 26), NEW_YORK: date(2025, 11, 2)}
GAP = {LONDON: ["01:00", "01:30"], NEW_YORK: ["02:00", "02:30"]}
BOTH_ZONES = pytest.mark.parametrize("tz", [LONDON, NEW_YORK], ids=str)


def night_slots(day, tz, **kwargs):
    return slots(day, tz=tz, days=(day.weekday(),), hours=NIGHT, **kwargs)


@BOTH_ZONES
def test_spring_forward_skips_the_missing_wall_times(tz):
    starts = night_slots(SPRING[tz], tz)
    expected = [t for t in half_hours("00:00", "03:30") if t not in GAP[tz]]
    assert wall(starts, tz) == expected
    assert len(set(starts)) == len(starts) == 6
    assert all(start.astimezone(tz).strftime("%H:%M") not in GAP[tz] for start in starts)
    # Every slot must be a real wall time: it survives a round trip unchanged.
    for start in starts:
        local = start.astimezone(tz)
        assert local.replace(tzinfo=None).replace(tzinfo=tz).astimezone(UTC) == start


@BOTH_ZONES
def test_fall_back_offers_each_repeated_wall_time_once_at_its_first_occurrence(tz):
    day = AUTUMN[tz]
    starts = night_slots(day, tz)
    assert wall(starts, tz) == half_hours("00:00", "03:30")
    assert len(set(starts)) == len(starts) == 8
    summer_offset = at(day, "00:00", tz).utcoffset()
    repeated = [s.astimezone(tz) for s in starts if s.astimezone(tz).hour == 1]
    assert [local.utcoffset() for local in repeated] == [summer_offset] * 2
    assert at(day, "01:00", tz, fold=1).astimezone(UTC) not in starts


@BOTH_ZONES
def test_spring_forward_range_is_an_hour_shorter_in_real_time(tz):
    day = SPRING[tz]
    assert wall(night_slots(day, tz, duration=3 * 60 * MIN), tz) == ["00:00"]
    assert night_slots(day, tz, duration=3 * 60 * MIN + MIN) == []


@BOTH_ZONES
def test_fall_back_range_is_an_hour_longer_in_real_time(tz):
    day = AUTUMN[tz]
    assert wall(night_slots(day, tz, duration=5 * 60 * MIN), tz) == ["00:00"]
    assert night_slots(day, tz, duration=5 * 60 * MIN + MIN) == []


@BOTH_ZONES
def test_step_counts_wall_clock_time_even_across_the_gap(tz):
    day = SPRING[tz]
    times = wall(night_slots(day, tz, step=45 * MIN, duration=45 * MIN), tz)
    expected = {LONDON: ["00:00", "00:45", "02:15", "03:00"], NEW_YORK: ["00:00", "00:45", "01:30", "03:00"]}
    assert times == expected[tz]


def test_range_ending_inside_the_gap_closes_when_the_clocks_jump():
    day = SPRING[LONDON]
    hours = [(time(0), time(1, 30))]  # 01:30 never happens; the clock jumps 01:00 -> 02:00
    short = slots(day, tz=LONDON, days=(6,), hours=hours)
    long = slots(day, tz=LONDON, days=(6,), hours=hours, duration=60 * MIN)
    assert wall(short) == ["00:00", "00:30"]
    assert wall(long) == ["00:00"]  # 00:30 + 1h would end at 02:30 BST, past closing


def test_range_ending_in_the_repeated_hour_closes_at_its_first_occurrence():
    day = AUTUMN[LONDON]
    hours = [(time(0), time(1, 30))]
    assert wall(slots(day, tz=LONDON, days=(6,), hours=hours)) == ["00:00", "00:30", "01:00"]
    assert wall(slots(day, tz=LONDON, days=(6,), hours=hours, duration=90 * MIN)) == ["00:00"]


@BOTH_ZONES
@pytest.mark.parametrize("change", [SPRING, AUTUMN], ids=["spring", "autumn"])
def test_ordinary_office_hours_keep_their_local_times_across_the_change(tz, change):
    saturday = change[tz] - timedelta(days=1)
    monday = change[tz] + timedelta(days=1)
    starts = slots(saturday, monday, tz=tz, days=EVERY_DAY, hours=[(time(9), time(17))])
    by_day = {}
    for start in starts:
        local = start.astimezone(tz)
        by_day.setdefault(local.date(), []).append(local.strftime("%H:%M"))
    assert list(by_day) == [saturday, change[tz], monday]
    assert all(times == half_hours("09:00", "16:30") for times in by_day.values())
    assert len(set(starts)) == len(starts) == 48
    # The same 09:00 opening is an hour nearer (spring) or further (autumn) in UTC.
    shift = timedelta(hours=-1 if change is SPRING else 1)
    saturday_open, sunday_open, monday_open = starts[0], starts[16], starts[32]
    assert sunday_open - saturday_open == timedelta(days=1) + shift
    assert monday_open - sunday_open == timedelta(days=1)


# --- merge_starts ----------------------------------------------------------


def test_merge_starts_unions_sorted_starts_with_keys_in_input_order():
    t1, t2, t3 = (datetime(2025, 6, 2, h, tzinfo=UTC) for h in (8, 9, 10))
    merged = merge_starts({"bob": [t2, t1], "alice": [t1, t3], "carol": [t2, t2]})
    assert merged == [(t1, ["bob", "alice"]), (t2, ["bob", "carol"]), (t3, ["alice"])]


def test_merge_starts_of_nobody_is_empty():
    assert merge_starts({}) == []
    assert merge_starts({"bob": []}) == []
