"""Free times read from the database: hours, breaks, closures, notice, horizon, buffers, clock changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Closure, Practitioner, Treatment
from booking.schedule.availability import free_slots, nearest_free_slots, practitioners_free_at, slots_by_day
from clinic.models import ClinicDetails
from tests.factories import appointment_at

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# A summer week (BST, UTC+1), so a mix-up between local and UTC times shows.
MONDAY = date(2027, 6, 7)
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)
NOW = datetime(2027, 5, 31, 8, 0, tzinfo=LONDON)
WORKDAY = [(time(9), time(12, 30)), (time(13, 30), time(17))]


@pytest.fixture(autouse=True)
def london():
    with override_settings(TIME_ZONE="Europe/London"), timezone.override(LONDON):
        yield


@pytest.fixture
def rules():
    details = ClinicDetails.objects.current()
    details.min_notice_hours = 12
    details.booking_horizon_days = 60
    details.slot_step_minutes = 30
    details.save()
    return details


@pytest.fixture
def treatment():
    return Treatment.objects.create(
        name="Face mesotherapy", slug="face-test", summary="s", description="d", duration_minutes=45, buffer_minutes=15
    )


def practitioner_with_hours(name, treatment, *, weekdays=range(5), ranges=WORKDAY, position=0, **fields):
    person = Practitioner.objects.create(name=name, position=position, **fields)
    person.treatments.add(treatment)
    for weekday in weekdays:
        for start, end in ranges:
            person.working_hours.create(weekday=weekday, start_time=start, end_time=end)
    return person


@pytest.fixture
def anna(treatment):
    return practitioner_with_hours("Dr Anna Rossi", treatment, position=0)


@pytest.fixture
def ben(treatment):
    return practitioner_with_hours("Dr Ben Okafor", treatment, position=1)


def local(day, hhmm, fold=0):
    hour, minute = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).replace(fold=fold)


def wall_times(slots, day=None):
    """The local clock times offered, optionally on one local day only."""
    local_starts = [slot.start.astimezone(LONDON) for slot in slots]
    return [start.strftime("%H:%M") for start in local_starts if day is None or start.date() == day]


def slots_on(day, **kwargs):
    return free_slots(first_day=day, last_day=day, now=kwargs.pop("now", NOW), **kwargs)


def every(first, last, minutes):
    start = datetime.combine(MONDAY, time.fromisoformat(first))
    end = datetime.combine(MONDAY, time.fromisoformat(last))
    times = []
    while start <= end:
        times.append(start.strftime("%H:%M"))
        start += timedelta(minutes=minutes)
    return times


# --- hours and breaks ------------------------------------------------------


def test_a_day_offers_every_step_that_fits_before_and_after_the_lunch_break(rules, treatment, anna):
    slots = slots_on(MONDAY, treatment=treatment, practitioner=anna)

    # 45 minutes must fit before 12:30 and before 17:00; nothing starts in the break.
    assert wall_times(slots) == every("09:00", "11:30", 30) + every("13:30", "16:00", 30)
    assert all(slot.practitioner_ids == (anna.pk,) for slot in slots)
    assert all(slot.start.tzinfo is not None and slot.start.utcoffset() == timedelta(0) for slot in slots)
    assert slots[0].start == datetime(2027, 6, 7, 8, 0, tzinfo=UTC)


def test_no_visit_starts_or_runs_into_the_lunch_break(rules, treatment, anna):
    rules.slot_step_minutes = 5
    rules.save()

    starts = [slot.start.astimezone(LONDON) for slot in slots_on(MONDAY, treatment=treatment, practitioner=anna)]

    break_start, break_end = local(MONDAY, "12:30"), local(MONDAY, "13:30")
    assert starts
    assert not [s for s in starts if s < break_end and s + treatment.duration > break_start]
    assert max(s for s in starts if s < break_start).strftime("%H:%M") == "11:45"
    assert min(s for s in starts if s >= break_start).strftime("%H:%M") == "13:30"


def test_a_day_without_working_hours_offers_nothing(rules, treatment, anna):
    saturday = MONDAY + timedelta(days=5)
    assert slots_on(saturday, treatment=treatment) == []


# --- closures and time off -------------------------------------------------


def test_a_whole_clinic_closure_removes_the_day_for_everyone(rules, treatment, anna, ben):
    Closure.objects.create(starts_at=local(TUESDAY, "00:00"), ends_at=local(WEDNESDAY, "00:00"), reason="Training")

    slots = free_slots(treatment=treatment, first_day=MONDAY, last_day=WEDNESDAY, now=NOW)

    assert wall_times(slots, TUESDAY) == []
    assert wall_times(slots, MONDAY) == wall_times(slots, WEDNESDAY) != []
    assert all(set(slot.practitioner_ids) == {anna.pk, ben.pk} for slot in slots)


def test_a_closure_of_part_of_a_day_removes_only_the_times_it_touches(rules, treatment, anna):
    Closure.objects.create(starts_at=local(MONDAY, "10:00"), ends_at=local(MONDAY, "11:00"))

    slots = slots_on(MONDAY, treatment=treatment)

    # 09:00 ends with its buffer exactly as the closure starts; 11:00 starts as it ends.
    assert wall_times(slots)[:3] == ["09:00", "11:00", "11:30"]


def test_one_practitioners_time_off_removes_only_their_times(rules, treatment, anna, ben):
    Closure.objects.create(practitioner=anna, starts_at=local(MONDAY, "09:00"), ends_at=local(MONDAY, "12:30"))

    annas = slots_on(MONDAY, treatment=treatment, practitioner=anna)
    bens = slots_on(MONDAY, treatment=treatment, practitioner=ben)
    anyone = slots_on(MONDAY, treatment=treatment)

    assert wall_times(annas) == every("13:30", "16:00", 30)
    assert wall_times(bens) == every("09:00", "11:30", 30) + every("13:30", "16:00", 30)
    # With "any", Ben still offers the morning; the afternoon has both.
    assert wall_times(anyone) == wall_times(bens)
    by_time = {wall: slot.practitioner_ids for wall, slot in zip(wall_times(anyone), anyone, strict=True)}
    assert by_time["09:00"] == (ben.pk,)
    assert set(by_time["13:30"]) == {anna.pk, ben.pk}


# --- notice and horizon ----------------------------------------------------


def test_minimum_notice_hides_times_too_soon(rules, treatment, anna):
    rules.min_notice_hours = 3
    rules.save()

    slots = slots_on(MONDAY, treatment=treatment, now=local(MONDAY, "08:00"))

    # Exactly three hours ahead (11:00) may still be booked; 10:30 may not.
    assert wall_times(slots) == ["11:00", "11:30", *every("13:30", "16:00", 30)]


def test_minimum_notice_reaches_into_the_next_day(rules, treatment, anna):
    rules.min_notice_hours = 24
    rules.save()

    slots = free_slots(treatment=treatment, first_day=MONDAY, last_day=TUESDAY, now=local(MONDAY, "14:00"))

    assert wall_times(slots, MONDAY) == []
    assert wall_times(slots, TUESDAY) == every("14:00", "16:00", 30)


def test_booking_horizon_hides_times_too_far_ahead(rules, treatment, anna):
    rules.min_notice_hours = 0
    rules.booking_horizon_days = 2
    rules.save()

    slots = free_slots(treatment=treatment, first_day=MONDAY, last_day=WEDNESDAY, now=local(MONDAY, "10:00"))

    assert wall_times(slots, MONDAY) == ["10:00", "10:30", "11:00", "11:30", *every("13:30", "16:00", 30)]
    assert wall_times(slots, TUESDAY) == every("09:00", "11:30", 30) + every("13:30", "16:00", 30)
    # Two days from Monday 10:00 is Wednesday 10:00, which is still offered.
    assert wall_times(slots, WEDNESDAY) == ["09:00", "09:30", "10:00"]


def test_times_already_past_are_never_offered(rules, treatment, anna):
    rules.min_notice_hours = 0
    rules.save()

    assert slots_on(MONDAY, treatment=treatment, now=local(MONDAY, "18:00")) == []


# --- existing appointments, durations and buffers ---------------------------


@pytest.mark.parametrize("status", AppointmentStatus.values)
def test_only_requested_and_confirmed_appointments_block_their_time_and_buffer(rules, treatment, anna, status):
    rules.slot_step_minutes = 15
    rules.save()
    # Blocks 10:00 until 11:00.
    appointment_at(local(MONDAY, "10:00"), treatment=treatment, practitioner=anna, status=status)

    morning = [t for t in wall_times(slots_on(MONDAY, treatment=treatment)) if t < "12:00"]

    if status in ACTIVE_STATUSES:
        # 09:00 ends its own buffer at 10:00 exactly; 11:00 starts as the booking's buffer ends.
        assert morning == ["09:00", "11:00", "11:15", "11:30", "11:45"]
    else:
        assert morning == every("09:00", "11:45", 15)


def test_the_existing_appointments_buffer_stays_free(rules, treatment, anna):
    rules.slot_step_minutes = 15
    rules.save()
    # The visit ends at 10:45, its buffer at 11:00.
    appointment_at(local(MONDAY, "10:00"), treatment=treatment, practitioner=anna)

    offered = wall_times(slots_on(MONDAY, treatment=treatment))

    assert "10:45" not in offered
    assert "11:00" in offered


def test_a_new_visits_own_buffer_cannot_run_into_the_next_appointment(rules, treatment, anna):
    rules.slot_step_minutes = 15
    rules.save()
    other = Treatment.objects.create(
        name="Hair", slug="hair-test", summary="s", description="d", duration_minutes=30, buffer_minutes=0
    )
    anna.treatments.add(other)
    appointment_at(local(MONDAY, "11:00"), treatment=other, practitioner=anna)

    offered = wall_times(slots_on(MONDAY, treatment=treatment))

    # 10:15 + 45 minutes ends at 11:00 exactly, but its 15-minute buffer would not.
    assert "10:00" in offered
    assert "10:15" not in offered
    assert "11:30" in offered


def test_an_appointment_with_another_practitioner_blocks_only_them(rules, treatment, anna, ben):
    appointment_at(local(MONDAY, "10:00"), treatment=treatment, practitioner=anna)

    slots = slots_on(MONDAY, treatment=treatment)

    by_time = {wall: slot.practitioner_ids for wall, slot in zip(wall_times(slots), slots, strict=True)}
    assert by_time["10:00"] == (ben.pk,)
    assert set(by_time["11:00"]) == {anna.pk, ben.pk}


def test_moving_an_appointment_can_ignore_its_own_time(rules, treatment, anna):
    booked = appointment_at(local(MONDAY, "10:00"), treatment=treatment, practitioner=anna)

    offered = wall_times(slots_on(MONDAY, treatment=treatment, ignore_appointment=booked))

    assert "10:00" in offered
    assert "10:30" in offered


@pytest.mark.parametrize(
    ("step", "expected_morning"), [(20, every("09:00", "11:40", 20)), (60, every("09:00", "11:00", 60))]
)
def test_start_times_follow_the_slot_step(rules, treatment, anna, step, expected_morning):
    rules.slot_step_minutes = step
    rules.save()

    offered = wall_times(slots_on(MONDAY, treatment=treatment))

    assert [t for t in offered if t < "12:30"] == expected_morning
    assert [t for t in offered if t >= "12:30"][0] == "13:30"


# --- who can be booked -----------------------------------------------------


def test_an_inactive_practitioner_offers_nothing(rules, treatment, anna, ben):
    ben.active = False
    ben.save()

    assert slots_on(MONDAY, treatment=treatment, practitioner=ben) == []
    assert all(slot.practitioner_ids == (anna.pk,) for slot in slots_on(MONDAY, treatment=treatment))


def test_a_practitioner_not_giving_the_treatment_offers_nothing_for_it(rules, treatment, anna, ben):
    ben.treatments.remove(treatment)

    assert slots_on(MONDAY, treatment=treatment, practitioner=ben) == []
    assert all(slot.practitioner_ids == (anna.pk,) for slot in slots_on(MONDAY, treatment=treatment))


def test_a_treatment_nobody_gives_has_no_free_times(rules, treatment):
    assert slots_on(MONDAY, treatment=treatment) == []


def test_a_reversed_day_range_offers_nothing(rules, treatment, anna):
    assert free_slots(treatment=treatment, first_day=TUESDAY, last_day=MONDAY, now=NOW) == []


# --- clock changes (Europe/London) -------------------------------------------


@pytest.fixture
def short_visit():
    return Treatment.objects.create(
        name="Quick check", slug="quick-test", summary="s", description="d", duration_minutes=30, buffer_minutes=0
    )


@pytest.fixture
def night_owl(short_visit):
    """Works Sunday 00:00-04:00 (across the clock change) and ordinary days Saturday to Monday."""
    person = practitioner_with_hours("Dr Night", short_visit, weekdays=[6], ranges=[(time(0), time(4))])
    for weekday in (5, 6, 0):
        person.working_hours.create(weekday=weekday, start_time=time(9), end_time=time(17))
    return person


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def stored_utc(appointment):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT starts_at AT TIME ZONE 'UTC', ends_at AT TIME ZONE 'UTC' FROM booking_appointment WHERE id = %s",
            [appointment.pk],
        )
        return cursor.fetchone()


def test_spring_forward_day_skips_the_missing_hour_and_shifts_nothing(rules, short_visit, night_owl):
    saturday, sunday, monday = date(2027, 3, 27), date(2027, 3, 28), date(2027, 3, 29)
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

    slots = free_slots(treatment=short_visit, first_day=saturday, last_day=monday, now=now)
    starts = [slot.start for slot in slots]

    assert len(starts) == len(set(starts))
    assert starts == sorted(starts)
    assert wall_times(slots, sunday) == [
        "00:00",
        "00:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
        *every("09:00", "16:30", 30),
    ]
    assert not [t for t in wall_times(slots, sunday) if t.startswith("01:")]
    # Before the change local time is UTC; after it, UTC+1.
    assert starts[:16] == [utc(2027, 3, 27, 9, 0) + timedelta(minutes=30 * i) for i in range(16)]
    sunday_starts = [slot.start for slot in slots if slot.start.astimezone(LONDON).date() == sunday]
    assert sunday_starts[:6] == [
        utc(2027, 3, 28, 0, 0),
        utc(2027, 3, 28, 0, 30),
        utc(2027, 3, 28, 1, 0),
        utc(2027, 3, 28, 1, 30),
        utc(2027, 3, 28, 2, 0),
        utc(2027, 3, 28, 2, 30),
    ]
    assert sunday_starts[6] == utc(2027, 3, 28, 8, 0)
    assert wall_times(slots, monday) == every("09:00", "16:30", 30)
    assert [slot.start for slot in slots][-16] == utc(2027, 3, 29, 8, 0)
    assert [day for day, _ in slots_by_day(slots)] == [saturday, sunday, monday]

    # A visit booked at 02:00 BST is stored as 01:00 UTC and takes exactly that time.
    first_after_jump = next(slot for slot in slots if slot.start == utc(2027, 3, 28, 1, 0))
    booked = appointment_at(first_after_jump.start, treatment=short_visit, practitioner=night_owl)
    assert stored_utc(booked) == (datetime(2027, 3, 28, 1, 0), datetime(2027, 3, 28, 1, 30))
    again = wall_times(free_slots(treatment=short_visit, first_day=sunday, last_day=sunday, now=now))
    assert again[:5] == ["00:00", "00:30", "02:30", "03:00", "03:30"]


def test_spring_forward_with_an_uneven_step_offers_no_time_from_the_missing_hour(rules, short_visit, night_owl):
    rules.slot_step_minutes = 45
    rules.save()
    sunday = date(2027, 3, 28)

    slots = free_slots(
        treatment=short_visit, first_day=sunday, last_day=sunday, now=datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    )

    # Steps are wall-clock: 00:00, 00:45, (01:30 does not exist), 02:15, 03:00; 03:45 would end after 04:00.
    assert [t for t in wall_times(slots) if t < "05:00"] == ["00:00", "00:45", "02:15", "03:00"]
    assert [slot.start for slot in slots][:4] == [
        utc(2027, 3, 28, 0, 0),
        utc(2027, 3, 28, 0, 45),
        utc(2027, 3, 28, 1, 15),
        utc(2027, 3, 28, 2, 0),
    ]


def test_fall_back_day_offers_each_wall_time_once_and_shifts_nothing(rules, short_visit, night_owl):
    saturday, sunday, monday = date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)
    now = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

    slots = free_slots(treatment=short_visit, first_day=saturday, last_day=monday, now=now)
    starts = [slot.start for slot in slots]

    assert len(starts) == len(set(starts))
    assert starts == sorted(starts)
    sunday_walls = wall_times(slots, sunday)
    assert sunday_walls == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
        *every("09:00", "16:30", 30),
    ]
    assert len(sunday_walls) == len(set(sunday_walls))
    # Saturday is BST (UTC+1); the repeated 01:00-02:00 hour is offered once, in BST; Monday is GMT.
    assert starts[0] == utc(2026, 10, 24, 8, 0)
    sunday_starts = [slot.start for slot in slots if slot.start.astimezone(LONDON).date() == sunday]
    assert sunday_starts[:8] == [
        utc(2026, 10, 24, 23, 0),
        utc(2026, 10, 24, 23, 30),
        utc(2026, 10, 25, 0, 0),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 2, 0),
        utc(2026, 10, 25, 2, 30),
        utc(2026, 10, 25, 3, 0),
        utc(2026, 10, 25, 3, 30),
    ]
    assert sunday_starts[8] == utc(2026, 10, 25, 9, 0)
    assert wall_times(slots, monday) == every("09:00", "16:30", 30)
    assert [slot.start for slot in slots][-16] == utc(2026, 10, 26, 9, 0)
    # Sunday's first slot is 23:00 UTC on Saturday, but the patient sees it under Sunday.
    assert [(day, len(items)) for day, items in slots_by_day(slots)] == [(saturday, 16), (sunday, 24), (monday, 16)]

    # A visit at the first 01:30 (BST) is stored as 00:30 UTC and ends as the clocks go back.
    booked = appointment_at(utc(2026, 10, 25, 0, 30), treatment=short_visit, practitioner=night_owl)
    assert stored_utc(booked) == (datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 1, 0))
    again = wall_times(free_slots(treatment=short_visit, first_day=sunday, last_day=sunday, now=now))
    assert again[:7] == ["00:00", "00:30", "01:00", "02:00", "02:30", "03:00", "03:30"]


# --- helpers built on free_slots --------------------------------------------


def test_practitioners_free_at_names_who_can_take_exactly_that_time(rules, treatment, anna, ben):
    appointment_at(local(MONDAY, "10:00"), treatment=treatment, practitioner=anna)

    assert practitioners_free_at(treatment=treatment, start=local(MONDAY, "10:00"), now=NOW) == [ben.pk]
    assert practitioners_free_at(treatment=treatment, start=local(MONDAY, "11:00"), now=NOW) == [anna.pk, ben.pk]
    assert practitioners_free_at(treatment=treatment, start=local(MONDAY, "10:00"), practitioner=anna, now=NOW) == []
    # Off the step, in the break and outside hours nobody is free.
    assert practitioners_free_at(treatment=treatment, start=local(MONDAY, "10:10"), now=NOW) == []
    assert practitioners_free_at(treatment=treatment, start=local(MONDAY, "12:30"), now=NOW) == []
    assert practitioners_free_at(treatment=treatment, start=local(MONDAY, "19:00"), now=NOW) == []


def test_practitioners_free_at_accepts_a_utc_start(rules, treatment, anna):
    assert practitioners_free_at(treatment=treatment, start=utc(2027, 6, 7, 8, 0), now=NOW) == [anna.pk]


def test_practitioners_free_at_respects_notice(rules, treatment, anna):
    late = local(MONDAY, "09:30")
    assert practitioners_free_at(treatment=treatment, start=late, now=late - timedelta(hours=11)) == []
    assert practitioners_free_at(treatment=treatment, start=late, now=late - timedelta(hours=12)) == [anna.pk]


def test_nearest_free_slots_are_the_times_closest_to_a_taken_one(rules, treatment, anna):
    taken = local(MONDAY, "10:00")
    appointment_at(taken, treatment=treatment, practitioner=anna)

    nearest = nearest_free_slots(treatment=treatment, around=taken, count=4, now=NOW)

    assert [slot.start.astimezone(LONDON) for slot in nearest] == [
        local(MONDAY, "09:00"),
        local(MONDAY, "11:00"),
        local(MONDAY, "11:30"),
        local(MONDAY, "13:30"),
    ]


def test_nearest_free_slots_look_past_a_full_day(rules, treatment, anna):
    Closure.objects.create(starts_at=local(MONDAY, "00:00"), ends_at=local(TUESDAY, "00:00"))

    nearest = nearest_free_slots(treatment=treatment, around=local(MONDAY, "10:00"), count=3, now=NOW)

    assert [slot.start.astimezone(LONDON) for slot in nearest] == [
        local(TUESDAY, "09:00"),
        local(TUESDAY, "09:30"),
        local(TUESDAY, "10:00"),
    ]


# --- cost ------------------------------------------------------------------


def test_a_month_of_free_times_costs_the_same_few_queries_however_busy(treatment, anna, ben):
    carla = practitioner_with_hours("Dr Carla Diaz", treatment, position=2)
    first_day, last_day = MONDAY, MONDAY + timedelta(days=30)
    counts, sizes = {}, {}
    # The clinic's details are then in the worker's memory (clinic/cache.py), as in a running site.
    free_slots(treatment=treatment, first_day=first_day, last_day=first_day, now=NOW)

    for people in ([anna], [anna, ben, carla]):
        treatment.practitioners.set(people)
        for number in (0, 10, 200):
            Appointment.objects.filter(treatment=treatment).delete()
            # Three hours apart, round the clock, shared between the practitioners: never overlapping.
            Appointment.objects.bulk_create(
                Appointment(
                    reference=f"Q{number:03d}{i:04d}",
                    treatment=treatment,
                    practitioner=people[i % len(people)],
                    starts_at=local(MONDAY, "09:00") + timedelta(hours=3 * i),
                    ends_at=local(MONDAY, "09:00") + timedelta(hours=3 * i) + treatment.duration,
                    blocked_until=local(MONDAY, "09:00") + timedelta(hours=3 * i, minutes=60),
                    first_name="Pat",
                    last_name="Ient",
                    email="pat@example.com",
                    phone="+447700900000",
                )
                for i in range(number)
            )
            with CaptureQueriesContext(connection) as queries:
                slots = free_slots(treatment=treatment, first_day=first_day, last_day=last_day, now=NOW)
            counts[len(people), number] = len(queries.captured_queries)
            sizes[len(people), number] = len(slots)

    assert max(counts.values()) <= 5, counts
    assert len(set(counts.values())) == 1, counts
    # The appointments really were read: busier months offer fewer times.
    assert sizes[1, 0] > sizes[1, 10] > sizes[1, 200] > 0
    assert sizes[3, 0] == sizes[1, 0]
    assert sizes[3, 200] > sizes[1, 200]
