"""Courses of treatment: from one confirmed visit, staff plan and book the rest of the sessions.

Proposals use the same free-time arithmetic patients see, with one deliberate difference:
the patients' booking horizon and minimum notice do not apply (see ``planning_rules``).
Booking a course is all or nothing: one transaction, one email listing every session.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, OperationalError, models, transaction
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext, pgettext_lazy

from booking.appointments.services import NO_OVERLAP, SlotTaken, constraint_name, is_deadlock, reference_new
from booking.emails.outbox import message_queue, reminder_queue
from booking.models import Appointment, AppointmentEvent, AppointmentStatus, Course, MessageKind
from booking.schedule.availability import free_slots
from clinic.models import ClinicDetails

S = AppointmentStatus
MIN_SESSIONS, MAX_SESSIONS = 2, 30  # as the course's check constraints allow
MIN_INTERVAL_WEEKS, MAX_INTERVAL_WEEKS = 1, 12
CANCELLED_STATUSES = {S.CANCELLED_BY_PATIENT, S.CANCELLED_BY_CLINIC, S.DECLINED, S.EXPIRED}
WEEK = timedelta(days=7)


class CourseNotAllowed(Exception):
    """This appointment cannot start a course."""


class SessionTaken(SlotTaken):
    """A session's chosen time is no longer free; nothing of the course was booked."""

    def __init__(self, *, number, start):
        self.number = number
        self.start = start
        local = timezone.localtime(start, timezone.get_default_timezone())
        super().__init__(
            gettext(
                "Session %(number)d (%(when)s) is no longer free, so nothing was booked. "
                "Check the dates again below and choose another time for it."
            )
            % {"number": number, "when": date_format(local, "l j F Y, H:i")}
        )


@dataclass(frozen=True)
class PlanningRules:
    """The clinic's booking rules as staff planning a course meet them (duck-types ClinicDetails)."""

    slot_step_minutes: int
    booking_horizon_days: int
    min_notice_hours: int = 0


def planning_rules(*, last_day, now):
    """No minimum notice, and a horizon that reaches the course's last day.

    The horizon and the notice keep patients from booking too far ahead or at the last minute.
    Staff planning a course with the patient decide that themselves, and a ten-week course
    often ends beyond the patients' horizon. The slot step stays, so planned times line up
    with the ones patients and the agenda see, and the past stays out (``now`` still counts).
    """
    clinic = ClinicDetails.objects.current()
    days = (last_day - timezone.localdate(now, timezone.get_default_timezone())).days + 2
    return PlanningRules(slot_step_minutes=clinic.slot_step_minutes, booking_horizon_days=max(days, 1))


@dataclass(frozen=True)
class Option:
    """One bookable choice for a session: a start and who would give the treatment then."""

    start: datetime
    practitioner_id: int

    @property
    def value(self):
        """As a form sends it back."""
        return f"{self.start.astimezone(UTC).isoformat()}@{self.practitioner_id}"

    @classmethod
    def from_value(cls, value):
        """Raises ValueError for anything ``value`` would not have written."""
        start_text, _, practitioner_text = value.partition("@")
        start = datetime.fromisoformat(start_text)
        if start.utcoffset() is None:
            raise ValueError("the start has no zone")
        return cls(start=start.astimezone(UTC), practitioner_id=int(practitioner_text))


@dataclass
class Proposal:
    number: int
    week: date  # the Monday of the session's week
    start: datetime  # the preferred start; for session 1, the existing visit
    free: bool  # the course's practitioner is free at ``start``
    alternative: Option | None = None  # when not free: the nearest free time that week
    options: list[Option] = field(default_factory=list)  # what staff may choose, the default first
    appointment: Appointment | None = None  # session 1 only

    @property
    def date(self):
        return timezone.localtime(self.start, timezone.get_default_timezone()).date()


def course_check(*, appointment):
    """Raise CourseNotAllowed unless ``appointment`` can start a course."""
    if appointment.status != S.CONFIRMED:
        raise CourseNotAllowed(
            gettext("Only a confirmed appointment can start a course. %(reference)s is %(status)s.")
            % {"reference": appointment.reference, "status": appointment.get_status_display().lower()}
        )
    if appointment.course_id is not None:
        raise CourseNotAllowed(
            gettext("%(reference)s is already part of a course.") % {"reference": appointment.reference}
        )


def monday_of(day):
    return day - timedelta(days=day.weekday())


def course_weeks(*, appointment, sessions, interval_weeks):
    """The Monday of each session's week, the first visit's week first."""
    tz = timezone.get_default_timezone()
    first = monday_of(timezone.localtime(appointment.starts_at, tz).date())
    return [first + WEEK * (interval_weeks * n) for n in range(sessions)]


def course_propose(*, appointment, sessions, interval_weeks, weekday, preferred_time, now=None):
    """A proposal per session: the existing visit, then every ``interval_weeks`` weeks on
    ``weekday`` at ``preferred_time`` (clinic time, so a clock change keeps the wall time).

    A session whose practitioner is busy then gets the nearest free time that same week with
    the same practitioner, or else with anyone; none when the week has no free time at all.
    Five queries whatever the number of sessions.
    """
    if not MIN_SESSIONS <= sessions <= MAX_SESSIONS:
        raise ValueError(f"a course has {MIN_SESSIONS} to {MAX_SESSIONS} sessions")
    course_check(appointment=appointment)
    now = now or timezone.now()
    tz = timezone.get_default_timezone()
    weeks = course_weeks(appointment=appointment, sessions=sessions, interval_weeks=interval_weeks)
    last_day = weeks[-1] + timedelta(days=6)
    slots = free_slots(
        treatment=appointment.treatment,
        first_day=weeks[1],
        last_day=last_day,
        now=now,
        rules=planning_rules(last_day=last_day, now=now),
    )
    by_week = {}
    for slot in slots:
        by_week.setdefault(monday_of(timezone.localtime(slot.start, tz).date()), []).append(slot)

    first = Option(appointment.starts_at, appointment.practitioner_id)
    proposals = [Proposal(1, weeks[0], appointment.starts_at, True, options=[first], appointment=appointment)]
    for number, week in enumerate(weeks[1:], start=2):
        wall = datetime.combine(week + timedelta(days=weekday), preferred_time)
        start = wall.replace(tzinfo=tz).astimezone(UTC)  # a time inside a spring-forward gap is never free
        proposals.append(
            session_propose(
                number=number,
                week=week,
                start=start,
                slots=by_week.get(week, []),
                practitioner_id=appointment.practitioner_id,
            )
        )
    return proposals


def session_propose(*, number, week, start, slots, practitioner_id):
    free_at_start = next((list(slot.practitioner_ids) for slot in slots if slot.start == start), [])
    if practitioner_id in free_at_start:
        return Proposal(number, week, start, True, options=[Option(start, practitioner_id)])
    # Nearest first; of two equally near, the earlier.
    nearest = sorted(slots, key=lambda slot: (abs(slot.start - start), slot.start))
    own = next((slot for slot in nearest if practitioner_id in slot.practitioner_ids), None)
    if own is not None:
        alternative = Option(own.start, practitioner_id)
    elif nearest:
        alternative = Option(nearest[0].start, nearest[0].practitioner_ids[0])
    else:
        alternative = None
    options = [alternative] if alternative else []
    if free_at_start and (alternative is None or alternative.start != start):
        options.append(Option(start, free_at_start[0]))  # the preferred time, with someone else
    return Proposal(number, week, start, False, alternative=alternative, options=options)


def staff_name(user):
    if user is None:
        return "staff"
    return user.get_full_name() or user.get_username()


def course_create(*, appointment, interval_weeks, weekday, preferred_time, starts, by=None, now=None):
    """Book sessions 2 to N at ``starts`` (Options, in order) as one course, or nothing at all.

    Each new session is confirmed, copies the patient's details, and gets a history row and
    its reminder; the patient gets one email listing every session. Raises CourseNotAllowed, or
    SessionTaken naming the first session that is no longer free, and then writes nothing.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                return course_write(
                    appointment=appointment,
                    interval_weeks=interval_weeks,
                    weekday=weekday,
                    preferred_time=preferred_time,
                    starts=starts,
                    by=by,
                    now=now or timezone.now(),
                )
        except OperationalError as error:
            # A racing booking deadlocked with one of our inserts; the retry finds its row.
            if is_deadlock(error) and attempt < 2:
                continue
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def course_write(*, appointment, interval_weeks, weekday, preferred_time, starts, by, now):
    first = Appointment.objects.select_for_update().select_related("treatment").get(pk=appointment.pk)
    course_check(appointment=first)
    sessions_check(treatment=first.treatment, starts=starts, now=now)
    treatment = first.treatment
    course = Course.objects.create(
        first_appointment=first,
        sessions=len(starts) + 1,
        interval_weeks=interval_weeks,
        weekday=weekday,
        preferred_time=preferred_time,
        created_by=by,
    )
    first.course = course
    first.save(update_fields=["course", "updated_at"])
    who = staff_name(by)
    AppointmentEvent.objects.create(
        appointment=first,
        by=by,
        from_status=first.status,
        to_status=first.status,
        note=f"Course of {course.sessions} sessions planned from this visit by {who}.",
    )
    for number, option in enumerate(starts, start=2):
        session = session_insert(
            number=number,
            option=option,
            fields={
                "treatment": treatment,
                "practitioner_id": option.practitioner_id,
                "starts_at": option.start,
                "ends_at": option.start + treatment.duration,
                "blocked_until": option.start + treatment.duration + treatment.buffer,
                "status": S.CONFIRMED,
                "course": course,
                "first_name": first.first_name,
                "last_name": first.last_name,
                "email": first.email,
                "phone": first.phone,
                "language": first.language,
                "first_visit": False,
                # The patient's consent to the clinic holding their details covers the whole course.
                "consent_at": first.consent_at,
                "privacy_notice_id": first.privacy_notice_id,
            },
        )
        AppointmentEvent.objects.create(
            appointment=session, by=by, to_status=S.CONFIRMED, note=f"Planned in a course by {who}."
        )
        reminder_queue(appointment=session)
    message_queue(
        kind=MessageKind.COURSE_BOOKED,
        key=f"{MessageKind.COURSE_BOOKED}:{course.pk}",
        appointment=first,
        context={"course_id": course.pk},
    )
    return course


def session_insert(*, number, option, fields):
    for _attempt in range(5):  # again after a reference collision
        try:
            # A savepoint per session, so the error can name the session that clashed;
            # the exception then rolls back the whole course.
            with transaction.atomic():
                return Appointment.objects.create(reference=reference_new(), **fields)
        except IntegrityError as error:
            name = constraint_name(error)
            if name == NO_OVERLAP:
                raise SessionTaken(number=number, start=option.start) from error
            if name and "reference" in name:
                continue
            raise
    raise SessionTaken(number=number, start=option.start)


def sessions_check(*, treatment, starts, now):
    """Raise SessionTaken for the first start no longer free with its practitioner.

    Catches what the database constraint cannot see (a closure or changed working hours since
    the proposal); the constraint still has the last word on clashes with other appointments.
    """
    tz = timezone.get_default_timezone()
    days = [timezone.localtime(option.start, tz).date() for option in starts]
    slots = free_slots(
        treatment=treatment,
        first_day=min(days),
        last_day=max(days),
        now=now,
        rules=planning_rules(last_day=max(days), now=now),
    )
    free = {slot.start: slot.practitioner_ids for slot in slots}
    for number, option in enumerate(starts, start=2):
        if option.practitioner_id not in free.get(option.start, ()):
            raise SessionTaken(number=number, start=option.start)


class SessionState(models.TextChoices):
    # A session's state: French agrees it with "séance".
    DONE = "done", pgettext_lazy("course session", "Done")
    UPCOMING = "upcoming", pgettext_lazy("course session", "Upcoming")
    CANCELLED = "cancelled", pgettext_lazy("course session", "Cancelled")
    MISSED = "missed", pgettext_lazy("course session", "Missed (no-show)")
    TO_RECORD = "to_record", pgettext_lazy("course session", "Past, not yet marked done")


@dataclass
class CourseProgress:
    sessions: list[tuple[Appointment, SessionState]]  # in time order
    counts: Counter

    @property
    def done(self):
        return self.counts[SessionState.DONE]

    @property
    def upcoming(self):
        return self.counts[SessionState.UPCOMING]

    @property
    def cancelled(self):
        return self.counts[SessionState.CANCELLED]

    @property
    def missed(self):
        return self.counts[SessionState.MISSED]

    @property
    def to_record(self):
        return self.counts[SessionState.TO_RECORD]


def session_state(*, appointment, now):
    if appointment.status == S.COMPLETED:
        return SessionState.DONE
    if appointment.status in CANCELLED_STATUSES:
        return SessionState.CANCELLED
    if appointment.status == S.NO_SHOW:
        return SessionState.MISSED
    if appointment.starts_at >= now:
        return SessionState.UPCOMING
    return SessionState.TO_RECORD  # still requested or confirmed, but its time has passed


def course_progress(*, course, now=None):
    """Where a course stands: each session's state, and how many are done, upcoming, cancelled..."""
    now = now or timezone.now()
    appointments = course.appointments.select_related("practitioner").order_by("starts_at", "pk")
    sessions = [(appointment, session_state(appointment=appointment, now=now)) for appointment in appointments]
    return CourseProgress(sessions=sessions, counts=Counter(state for _appointment, state in sessions))
