"""Courses of treatment: staff plan the sessions from a confirmed visit and book them all at once."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from booking.appointments.services import appointment_transition
from booking.courses import services as courses
from booking.courses.services import CourseNotAllowed, SessionTaken, course_create, course_propose
from booking.emails.tasks import message_send
from booking.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Closure,
    Course,
    Message,
    MessageKind,
    Treatment,
)
from booking.schedule.availability import free_slots
from clinic.models import ClinicDetails
from tests import factories

pytestmark = pytest.mark.django_db

S = AppointmentStatus
TUESDAY = 1
PATIENT = {
    "first_name": "Maeve",
    "last_name": "Byrne",
    "email": "maeve@example.com",
    "phone": "+442079460001",
}


@pytest.fixture(autouse=True)
def clinic(settings):
    settings.CLINIC_SITE_URL = "https://clinic.example"
    settings.TIME_ZONE = "Europe/London"  # a zone with clock changes, whatever the machine says
    clinic = ClinicDetails.objects.current()
    clinic.name = "Harley Mesotherapy"
    clinic.email = "hello@clinic.example"
    clinic.save()
    return clinic


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")  # 45 minutes and 15 minutes' buffer


@pytest.fixture
def reception():
    user = User.objects.create_user("rita", password="not-used-here", first_name="Rita", last_name="Desk")
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="booking",
            codename__in=["view_appointment", "add_appointment", "change_appointment", "view_course"],
        )
    )
    return user


@pytest.fixture
def staff_client(client, reception):
    client.force_login(reception)
    return client


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


def tuesday_after(days):
    day = timezone.localdate() + timedelta(days=days)
    return day + timedelta(days=(TUESDAY - day.weekday()) % 7)


def appointment_at(start, **fields):
    """Maeve Byrne's visit, confirmed unless said otherwise, with the consent a course carries over."""
    return factories.appointment_at(start, **{"status": S.CONFIRMED, "consent_at": timezone.now(), **PATIENT, **fields})


@pytest.fixture
def first(treatment, practitioner):
    """A confirmed visit on a Tuesday at 10:00, two weeks ahead: session 1 of the course."""
    return appointment_at(local(tuesday_after(14), 10), treatment=treatment, practitioner=practitioner)


def weekly(appointment, sessions=10):
    return course_propose(
        appointment=appointment, sessions=sessions, interval_weeks=1, weekday=TUESDAY, preferred_time=time(10)
    )


def defaults(proposals):
    """The options the plan page checks by default, for sessions 2 to N."""
    return [proposal.options[0] for proposal in proposals[1:]]


def plan_data(proposals, sessions=10):
    data = {"sessions": str(sessions), "interval_weeks": "1", "weekday": str(TUESDAY), "preferred_time": "10:00"}
    for proposal in proposals[1:]:
        data[f"session_{proposal.number}"] = proposal.options[0].value
    return data


def plan_url(appointment):
    return reverse("admin:booking_course_plan", args=[appointment.pk])


def clinic_time(moment):
    return timezone.localtime(moment, timezone.get_default_timezone())


def nothing_written(before):
    return counts() == before


def counts():
    return (
        Appointment.objects.count(),
        Course.objects.count(),
        Message.objects.count(),
        AppointmentEvent.objects.count(),
        DBTaskResult.objects.count(),
    )


def next_clock_change(after):
    """The first local day whose noon has a different UTC offset from the day before's."""
    day = after
    for _ in range(400):
        if local(day, 12).utcoffset() != local(day + timedelta(days=1), 12).utcoffset():
            return day + timedelta(days=1)
        day += timedelta(days=1)
    raise AssertionError("no clock change within a year")


def test_ten_weekly_sessions_keep_their_weekday_and_clinic_time_across_a_clock_change(treatment, practitioner):
    change = next_clock_change(timezone.localdate() + timedelta(days=40))
    start_day = change - timedelta(days=28)
    start_day += timedelta(days=(TUESDAY - start_day.weekday()) % 7)  # four to three weeks before the change
    first = appointment_at(local(start_day, 10), treatment=treatment, practitioner=practitioner)

    proposals = weekly(first)

    assert [proposal.number for proposal in proposals] == list(range(1, 11))
    assert proposals[0].appointment == first
    assert [proposal.date for proposal in proposals] == [start_day + timedelta(weeks=n) for n in range(10)]
    assert {clinic_time(proposal.start).time() for proposal in proposals} == {time(10)}
    assert {clinic_time(proposal.start).weekday() for proposal in proposals} == {TUESDAY}
    assert len({clinic_time(proposal.start).utcoffset() for proposal in proposals}) == 2  # the clock did change
    assert all(proposal.free for proposal in proposals)
    assert all(proposal.options[0].practitioner_id == practitioner.pk for proposal in proposals)


def test_staff_can_plan_sessions_beyond_the_patients_booking_horizon(treatment, practitioner):
    first = appointment_at(local(tuesday_after(50), 10), treatment=treatment, practitioner=practitioner)
    last_day = first.starts_at.date() + timedelta(weeks=9)
    # A patient could not book the last session online yet: it lies beyond the 60-day horizon.
    assert ClinicDetails.objects.current().booking_horizon_days == 60
    assert free_slots(treatment=treatment, first_day=last_day, last_day=last_day) == []

    proposals = weekly(first)

    assert all(proposal.free for proposal in proposals)
    assert proposals[-1].date == clinic_time(first.starts_at).date() + timedelta(weeks=9)


def test_a_clash_is_shown_with_the_nearest_free_time_that_week(staff_client, treatment, practitioner, first):
    clash_day = clinic_time(first.starts_at).date() + timedelta(weeks=3)
    appointment_at(local(clash_day, 10, 15), treatment=treatment, practitioner=practitioner, first_name="Other")

    proposals = weekly(first)

    fourth = proposals[3]
    assert not fourth.free
    assert fourth.alternative == courses.Option(local(clash_day, 9, 15).astimezone(UTC), practitioner.pk)
    assert fourth.options == [fourth.alternative]
    assert [proposal.number for proposal in proposals if not proposal.free] == [4]

    page = staff_client.get(plan_url(first), plan_data(proposals))
    text = page.content.decode()
    assert page.status_code == 200
    assert "1 clash, with the nearest free time that week offered instead" in text
    assert f"nearest free time that week is {clinic_time(fourth.alternative.start):%a %-d %b %Y}, 09:15" in text


def test_when_the_practitioner_is_away_all_week_another_one_is_offered(
    treatment, practitioner, first, working_every_day
):
    colleague = working_every_day(treatment, name="Dr Ben Other", only=False)
    week = clinic_time(first.starts_at).date() + timedelta(weeks=2, days=-1)  # the Monday of session 3's week
    Closure.objects.create(practitioner=practitioner, starts_at=local(week, 0), ends_at=local(week + timedelta(7), 0))

    third = weekly(first)[2]

    assert not third.free
    assert third.alternative == courses.Option(third.start, colleague.pk)  # same time, someone else


def test_creating_the_course_books_every_session_and_sends_one_email_with_a_calendar_file_each(
    django_capture_on_commit_callbacks, reception, first
):
    proposals = weekly(first)
    with django_capture_on_commit_callbacks(execute=True):
        course = course_create(
            appointment=first,
            interval_weeks=1,
            weekday=TUESDAY,
            preferred_time=time(10),
            starts=defaults(proposals),
            by=reception,
        )

    sessions = list(course.appointments.order_by("starts_at"))
    assert course.sessions == 10 and course.created_by == reception
    assert sessions[0] == first
    new = sessions[1:]
    assert len(new) == 9
    assert [session.starts_at for session in new] == [option.start for option in defaults(proposals)]
    assert {session.status for session in new} == {S.CONFIRMED}
    assert {(session.first_name, session.email, session.treatment_id) for session in new} == {
        ("Maeve", "maeve@example.com", first.treatment_id)
    }
    for session in new:
        [event] = session.events.all()
        assert event.note == "Planned in a course by Rita Desk."
        assert event.by == reception
    # One email for the course, not a confirmation per session.
    [message] = Message.objects.exclude(kind=MessageKind.REMINDER)
    assert message.kind == MessageKind.COURSE_BOOKED
    assert message.dedupe_key == f"course_booked:{course.pk}"

    assert message_send.call(message.pk) == "sent"

    [email] = mail.outbox
    assert email.to == ["maeve@example.com"]
    assert first.reference in email.subject
    parts = [part for part in email.message().walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 10
    assert len({part.get_filename() for part in parts}) == 10
    starts = [Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")[0].decoded("dtstart") for part in parts]
    assert starts == [session.starts_at for session in sessions]
    for session in sessions:
        assert f"{clinic_time(session.starts_at):%A %-d %B %Y, %H:%M}" in email.body
        assert session.reference in email.body


def test_a_session_taken_between_proposal_and_approval_books_nothing_and_is_named(
    treatment, practitioner, reception, first
):
    proposals = weekly(first)
    taken = proposals[4].options[0].start
    appointment_at(taken, treatment=treatment, practitioner=practitioner, first_name="Quick")
    before = counts()

    with pytest.raises(SessionTaken) as error:
        course_create(
            appointment=first,
            interval_weeks=1,
            weekday=TUESDAY,
            preferred_time=time(10),
            starts=defaults(proposals),
            by=reception,
        )

    assert error.value.number == 5
    assert str(error.value).startswith(f"Session 5 ({clinic_time(taken):%A %-d %B %Y}, 10:00) is no longer free")
    assert nothing_written(before)
    first.refresh_from_db()
    assert first.course is None


def test_time_off_entered_between_proposal_and_approval_stops_the_course(treatment, practitioner, reception, first):
    proposals = weekly(first)
    day = proposals[5].date
    Closure.objects.create(practitioner=practitioner, starts_at=local(day, 0), ends_at=local(day, 23), reason="Ill")
    before = counts()

    with pytest.raises(SessionTaken) as error:
        course_create(
            appointment=first,
            interval_weeks=1,
            weekday=TUESDAY,
            preferred_time=time(10),
            starts=defaults(proposals),
            by=reception,
        )

    assert error.value.number == 6
    assert nothing_written(before)


def test_the_database_has_the_last_word_and_a_racing_clash_rolls_back_every_session(
    monkeypatch, treatment, practitioner, reception, first
):
    proposals = weekly(first)
    # The other booking commits after the free-time check passed: only the constraint can see it.
    monkeypatch.setattr(courses, "sessions_check", lambda **kwargs: None)
    appointment_at(proposals[4].options[0].start, treatment=treatment, practitioner=practitioner, first_name="Quick")
    before = counts()

    with pytest.raises(SessionTaken) as error:
        course_create(
            appointment=first,
            interval_weeks=1,
            weekday=TUESDAY,
            preferred_time=time(10),
            starts=defaults(proposals),
            by=reception,
        )

    assert error.value.number == 5  # sessions 2 to 4 were written, then rolled back with it
    assert nothing_written(before)


def test_staff_book_a_course_in_the_admin_and_follow_its_progress(staff_client, first):
    proposals = weekly(first)

    response = staff_client.post(plan_url(first), plan_data(proposals))

    course = Course.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:booking_course_change", args=[course.pk])
    page = staff_client.get(response.url).content.decode()
    assert "Course of 10 sessions booked." in page
    assert "0 done, 10 upcoming, 0 cancelled." in page
    for session in course.appointments.all():
        assert reverse("admin:booking_appointment_change", args=[session.pk]) in page

    second, third = course.appointments.order_by("starts_at")[1:3]
    appointment_transition(appointment=second, to_status=S.COMPLETED)
    appointment_transition(appointment=third, to_status=S.CANCELLED_BY_PATIENT)
    page = staff_client.get(response.url).content.decode()
    assert "1 done, 8 upcoming, 1 cancelled." in page
    listing = staff_client.get(reverse("admin:booking_course_changelist")).content.decode()
    assert "1 done, 8 upcoming, 1 cancelled" in listing


def test_the_admin_names_the_session_taken_before_approval_and_books_nothing(
    staff_client, treatment, practitioner, first
):
    proposals = weekly(first)
    data = plan_data(proposals)
    taken = proposals[6].options[0].start
    appointment_at(taken, treatment=treatment, practitioner=practitioner, first_name="Quick")
    before = counts()

    response = staff_client.post(plan_url(first), data)

    text = response.content.decode()
    assert response.status_code == 409
    assert f"Session 7 ({clinic_time(taken):%A %-d %B %Y}, 10:00) is no longer free, so nothing was booked." in text
    assert "1 clash, with the nearest free time that week offered instead" in text  # the dates as they are now
    assert nothing_written(before)


def test_a_course_cannot_start_from_an_appointment_that_is_not_confirmed(
    staff_client, treatment, practitioner, reception
):
    requested = appointment_at(
        local(tuesday_after(14), 10), treatment=treatment, practitioner=practitioner, status=S.REQUESTED
    )
    with pytest.raises(CourseNotAllowed):
        weekly(requested)
    before = counts()

    page = staff_client.get(plan_url(requested))
    posted = staff_client.post(plan_url(requested), {"sessions": "10", "interval_weeks": "1", "weekday": "1"})

    for response in (page, posted):
        assert response.status_code == 409
        assert (
            f"Only a confirmed appointment can start a course. {requested.reference} is requested."
            in response.content.decode()
        )
    assert nothing_written(before)


def test_a_course_is_planned_once_from_the_same_visit(django_capture_on_commit_callbacks, reception, first):
    with django_capture_on_commit_callbacks(execute=True):
        course_create(
            appointment=first,
            interval_weeks=1,
            weekday=TUESDAY,
            preferred_time=time(10),
            starts=defaults(weekly(first, sessions=2)),
            by=reception,
        )
    first.refresh_from_db()
    with pytest.raises(CourseNotAllowed, match="already part of a course"):
        weekly(first)


def test_looking_at_the_plan_changes_nothing(staff_client, first):
    before = counts()

    empty = staff_client.get(plan_url(first))
    proposed = staff_client.get(plan_url(first), plan_data(weekly(first)))

    assert empty.status_code == 200
    assert '<option value="1" selected>Tuesday</option>' in empty.content.decode()
    assert 'value="10:00"' in empty.content.decode()
    assert "every date is free" in proposed.content.decode()
    assert nothing_written(before)


def test_out_of_range_plan_values_get_a_message_and_no_proposals(staff_client, first):
    response = staff_client.get(
        plan_url(first), {"sessions": "31", "interval_weeks": "0", "weekday": "1", "preferred_time": "10:00"}
    )

    text = response.content.decode()
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 30." in text
    assert "Ensure this value is greater than or equal to 1." in text
    assert "Proposed dates" not in text


def test_a_tampered_session_choice_is_refused_with_a_message(staff_client, first):
    data = plan_data(weekly(first))
    data["session_3"] = "next tuesday"
    before = counts()

    response = staff_client.post(plan_url(first), data)

    assert response.status_code == 400
    assert "Choose one of the times offered for session 3." in response.content.decode()
    assert nothing_written(before)


def test_staff_without_permission_to_change_appointments_get_403(client, first):
    viewer = User.objects.create_user("val", password="not-used-here", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_appointment"))
    client.force_login(viewer)
    before = counts()

    assert client.get(plan_url(first)).status_code == 403
    assert client.post(plan_url(first), plan_data(weekly(first))).status_code == 403
    assert nothing_written(before)


def test_staff_who_cannot_add_appointments_cannot_plan_or_see_courses(
    client, django_capture_on_commit_callbacks, first
):
    with django_capture_on_commit_callbacks(execute=True):
        course = course_create(
            appointment=first,
            interval_weeks=1,
            weekday=TUESDAY,
            preferred_time=time(10),
            starts=defaults(weekly(first, sessions=2)),
        )
    # As the Practitioners group: their own appointments, notes and outcomes, but no bookings or courses.
    practitioner_user = User.objects.create_user("pia", password="not-used-here", is_staff=True)
    practitioner_user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_appointment", "change_appointment"])
    )
    client.force_login(practitioner_user)
    other = appointment_at(
        first.starts_at + timedelta(days=1), treatment=first.treatment, practitioner=first.practitioner
    )

    assert client.get(plan_url(other)).status_code == 403
    assert client.get(reverse("admin:booking_course_change", args=[course.pk])).status_code == 403


def test_proposing_takes_as_many_queries_for_thirty_sessions_as_for_two(first):
    with CaptureQueriesContext(connection) as two:
        weekly(first, sessions=2)
    with CaptureQueriesContext(connection) as thirty:
        weekly(first, sessions=30)

    assert len(two) == len(thirty) <= 5
