"""Reception's workspace in the admin: the list, the workflow actions, search, export, phone booking."""

import csv
import io
import re
import threading
import uuid
from datetime import datetime, time, timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import booking.admin.appointment_actions
import booking.admin.appointments
import booking.admin.phone_booking
from booking.appointments.services import SlotTaken, appointment_move
from booking.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Closure,
    Message,
    MessageKind,
    Practitioner,
    Treatment,
)
from booking.requests.forms import start_format
from booking.schedule.availability import first_day_today, free_slots, practitioners_free_at
from clinic.models import ClinicDetails
from tests import factories

pytestmark = pytest.mark.django_db

S = AppointmentStatus
CHANGELIST = "admin:booking_appointment_changelist"
TAKEN = "This time has just been taken"
RECEPTION_PERMISSIONS = ["view_appointment", "add_appointment", "change_appointment", "export_appointment"]


def staff(username, codenames, *, groups=(), full_name=""):
    first, _, last = full_name.partition(" ")
    user = User.objects.create_user(
        username, f"{username}@example.com", "a long staff password", is_staff=True, first_name=first, last_name=last
    )
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="booking", codename__in=codenames))
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


def next_weekday(weekday, *, at_least_days=3):
    day = timezone.localdate() + timedelta(days=at_least_days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


PATIENT = {"first_name": "Maya", "last_name": "Holt", "email": "maya@example.com", "phone": "+447700900123"}


def appointment_at(start, *, created_ago=None, **fields):
    """Maya Holt's appointment with its first history row, as the list shows it, optionally made some time ago."""
    appointment = factories.appointment_at(start, history=True, **{**PATIENT, **fields})
    if created_ago is not None:
        Appointment.objects.filter(pk=appointment.pk).update(created_at=timezone.now() - created_ago)
    return appointment


def row(html, reference):
    """The changelist's table row for one appointment."""
    rows = [part for part in html.split("<tr") if f">{reference}</a>" in part]
    assert len(rows) == 1, f"{reference} appears in {len(rows)} rows"
    return rows[0]


def references_in(html):
    return re.findall(r'<th class="field-reference"><a href="[^"]+">([A-Z0-9]+)</a>', html)


def page_messages(response):
    """The messages as the page shows them (read from the HTML: threads share the test client's context capture)."""
    listed = re.search(r'<ul class="messagelist">(.*?)</ul>', response.content.decode(), re.S)
    return [unescape(text) for text in re.findall(r"<li[^>]*>(.*?)</li>", listed.group(1), re.S)] if listed else []


@pytest.fixture
def reception(client):
    user = staff("rita", RECEPTION_PERMISSIONS, groups=["Reception"], full_name="Rita Reception")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def soon():
    """A weekday morning far enough ahead to be bookable."""
    return local(next_weekday(2), 10)


# The list.


def test_the_list_shows_each_status_as_a_badge_in_words_and_how_long_a_request_has_waited(reception, soon):
    waiting = appointment_at(soon, created_ago=timedelta(hours=3, minutes=10))
    confirmed = appointment_at(soon + timedelta(hours=2), status=S.CONFIRMED, created_ago=timedelta(hours=5))

    html = reception.get(reverse(CHANGELIST)).content.decode()

    assert '<span class="status-badge status-requested">Requested</span>' in row(html, waiting.reference)
    assert '<td class="field-waiting">3 h</td>' in row(html, waiting.reference)
    assert '<span class="status-badge status-confirmed">Confirmed</span>' in row(html, confirmed.reference)
    assert '<td class="field-waiting">–</td>' in row(html, confirmed.reference)
    assert f"{timezone.localtime(soon):%a %d %b %Y %H:%M}" in row(html, waiting.reference)
    assert "css/admin-booking.css" in html


def test_requests_waiting_come_first_newest_first_then_the_rest(reception, soon):
    older = appointment_at(soon, created_ago=timedelta(days=2))
    newer = appointment_at(soon + timedelta(hours=1), created_ago=timedelta(hours=1))
    decided = appointment_at(soon + timedelta(hours=2), status=S.CONFIRMED, created_ago=timedelta(minutes=5))

    html = reception.get(reverse(CHANGELIST)).content.decode()

    assert references_in(html) == [newer.reference, older.reference, decided.reference]


@pytest.fixture
def spread():
    """Appointments today (just after midnight, clinic time), 40 days ahead and 40 days ago."""
    today = timezone.localdate()
    return {
        "today": appointment_at(local(today, 0, 1), status=S.COMPLETED),
        "future": appointment_at(local(today + timedelta(days=40), 10)),
        "past": appointment_at(local(today - timedelta(days=40), 10), status=S.COMPLETED),
    }


@pytest.mark.parametrize(
    ("when", "shown", "hidden"),
    [
        ("today", ["today"], ["future", "past"]),
        ("week", ["today"], ["future", "past"]),
        ("upcoming", ["future"], ["past"]),
        ("past", ["past"], ["future"]),
    ],
)
def test_the_date_filter_counts_days_in_the_clinic_zone(reception, spread, when, shown, hidden):
    html = reception.get(reverse(CHANGELIST), {"when": when}).content.decode()
    found = references_in(html)
    assert all(spread[name].reference in found for name in shown)
    assert not any(spread[name].reference in found for name in hidden)


def test_the_date_filter_and_drill_down_are_offered(reception, spread):
    html = reception.get(reverse(CHANGELIST)).content.decode()
    for label in ("Today", "This week", "Upcoming", "Past"):
        assert f">{label}</a>" in html
    assert "starts_at__year=" in html  # the drill-down by year, month and day


@pytest.mark.parametrize("typed", ["020 7946 0000", "+44 20 7946 0000", "02079460000", "(020) 7946-0000"])
def test_staff_find_a_patient_by_phone_however_it_is_typed(reception, soon, typed):
    patient = appointment_at(soon, phone="+442079460000")
    other = appointment_at(soon + timedelta(hours=2), phone="+447700900123")

    found = references_in(reception.get(reverse(CHANGELIST), {"q": typed}).content.decode())

    assert found == [patient.reference]
    assert other.reference not in found


@pytest.mark.parametrize("typed", ["holt", "Maya Holt", "maya@example.com"])
def test_staff_find_a_patient_by_name_or_email(reception, soon, typed):
    patient = appointment_at(soon, first_name="Maya", last_name="Holt", email="maya@example.com")
    appointment_at(soon + timedelta(hours=2), first_name="Tom", last_name="Reyes", email="tom@example.com")
    assert references_in(reception.get(reverse(CHANGELIST), {"q": typed}).content.decode()) == [patient.reference]


def test_staff_find_an_appointment_by_its_reference(reception, soon):
    patient = appointment_at(soon, reference="FIND2345")
    appointment_at(soon + timedelta(hours=2))
    assert references_in(reception.get(reverse(CHANGELIST), {"q": "find2345"}).content.decode()) == [patient.reference]


def changelist_queries(client, count):
    Appointment.objects.all().delete()
    start = local(next_weekday(0), 9)
    for index in range(count):
        appointment_at(start + timedelta(hours=index), created_ago=timedelta(minutes=index))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert len(references_in(response.content.decode())) == count
    return len(queries)


def test_the_list_makes_the_same_number_of_queries_for_5_and_100_appointments(reception):
    assert changelist_queries(reception, 5) == changelist_queries(reception, 100)


# The index.


def test_the_admin_index_shows_the_requests_waiting_and_links_to_them_and_the_agenda(reception, soon):
    appointment_at(soon)
    appointment_at(soon + timedelta(hours=1))
    appointment_at(soon + timedelta(hours=2), status=S.CONFIRMED)

    html = reception.get(reverse("admin:index")).content.decode()

    changelist = reverse(CHANGELIST)
    assert f'<a href="{changelist}?status__exact=requested"><strong class="waiting-count">2</strong> requests' in html
    assert "waiting for a decision" in html
    assert '<a href="/admin/booking/agenda/">Agenda</a>' in html
    waiting = reception.get(changelist, {"status__exact": "requested"}).content.decode()
    assert len(references_in(waiting)) == 2


def test_the_index_has_no_appointment_box_for_staff_who_cannot_see_appointments(client):
    client.force_login(staff("editor", ["view_treatment", "change_treatment"]))
    html = client.get(reverse("admin:index")).content.decode()
    assert "waiting for a decision" not in html


# Actions on several rows.


def run_action(client, action, appointments, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [a.pk for a in appointments], "index": 0, **extra},
        follow=True,
    )


def history(appointment):
    return [(e.from_status, e.to_status, e.by.username if e.by else None, e.note) for e in appointment.events.all()]


def test_confirming_several_reports_per_row_and_skips_what_cannot_be_confirmed(reception, soon):
    first = appointment_at(soon)
    second = appointment_at(soon + timedelta(hours=1))
    gone = appointment_at(soon + timedelta(hours=2), status=S.CANCELLED_BY_PATIENT, reference="GONE2345")

    response = run_action(reception, "confirm", [first, second, gone])

    assert response.status_code == 200
    assert page_messages(response) == [
        "2 confirmed; 1 skipped: GONE2345 is cancelled by patient; it cannot become confirmed."
    ]
    for appointment in (first, second):
        appointment.refresh_from_db()
        assert appointment.status == S.CONFIRMED
        assert history(appointment)[-1] == (S.REQUESTED, S.CONFIRMED, "rita", "")
        assert Message.objects.filter(appointment=appointment, kind=MessageKind.CONFIRMED).exists()
    gone.refresh_from_db()
    assert gone.status == S.CANCELLED_BY_PATIENT
    assert len(history(gone)) == 1


def test_declining_asks_for_the_reason_first_and_the_patient_gets_it(reception, soon):
    request_ = appointment_at(soon, reference="DECL2345")

    asked = run_action(reception, "decline", [request_])
    html = asked.content.decode()
    assert asked.status_code == 200
    assert "Reason (the patient reads this)" in html and "DECL2345" in html
    assert 'name="_selected_action"' in html and 'value="decline"' in html
    request_.refresh_from_db()
    assert request_.status == S.REQUESTED  # nothing happens until the reason is given

    blank = reception.post(
        reverse(CHANGELIST), {"action": "decline", "_selected_action": [request_.pk], "apply": "yes", "reason": " "}
    )
    assert blank.status_code == 400
    assert "Write the reason: the patient reads it in the email." in blank.content.decode()

    reason = "The practitioner is away that week; any day the week after suits."
    done = reception.post(
        reverse(CHANGELIST),
        {"action": "decline", "_selected_action": [request_.pk], "apply": "yes", "reason": reason},
        follow=True,
    )
    assert page_messages(done) == ["1 declined."]
    request_.refresh_from_db()
    assert request_.status == S.DECLINED
    assert history(request_)[-1] == (S.REQUESTED, S.DECLINED, "rita", reason)
    assert Message.objects.get(appointment=request_, kind=MessageKind.DECLINED).context["note"] == reason


def test_the_clinic_cancels_with_a_reason_the_patient_gets(reception, soon):
    confirmed = appointment_at(soon, status=S.CONFIRMED)
    reason = "The clinic is closed that day for a power cut."
    response = run_action(reception, "cancel", [confirmed], apply="yes", reason=reason)

    assert page_messages(response) == ["1 cancelled."]
    confirmed.refresh_from_db()
    assert confirmed.status == S.CANCELLED_BY_CLINIC
    assert history(confirmed)[-1] == (S.CONFIRMED, S.CANCELLED_BY_CLINIC, "rita", reason)
    assert Message.objects.get(appointment=confirmed, kind=MessageKind.CANCELLED).context["note"] == reason


@pytest.mark.parametrize(
    ("action", "to_status", "done", "kind"),
    [
        ("mark_completed", S.COMPLETED, "1 marked completed.", MessageKind.AFTERCARE),
        ("mark_no_show", S.NO_SHOW, "1 marked no-show.", None),
    ],
)
def test_staff_record_how_a_confirmed_visit_went(reception, soon, action, to_status, done, kind):
    visit = appointment_at(soon, status=S.CONFIRMED)
    response = run_action(reception, action, [visit])

    assert page_messages(response) == [done]
    visit.refresh_from_db()
    assert visit.status == to_status
    assert history(visit)[-1] == (S.CONFIRMED, to_status, "rita", "")
    assert Message.objects.filter(appointment=visit, kind=kind).exists() == (kind is not None)


@pytest.mark.parametrize(
    ("action", "status", "report"),
    [
        ("confirm", S.CONFIRMED, "0 confirmed; 1 skipped: STAY2345 is already confirmed."),
        ("confirm", S.DECLINED, "0 confirmed; 1 skipped: STAY2345 is declined; it cannot become confirmed."),
        ("decline", S.CONFIRMED, "0 declined; 1 skipped: STAY2345 is confirmed; it cannot become declined."),
        ("cancel", S.COMPLETED, "0 cancelled; 1 skipped: STAY2345 is completed; it cannot become cancelled by clinic."),
        (
            "cancel",
            S.CANCELLED_BY_CLINIC,
            "0 cancelled; 1 skipped: STAY2345 is already cancelled.",
        ),
        (
            "mark_completed",
            S.REQUESTED,
            "0 marked completed; 1 skipped: STAY2345 is requested; it cannot become completed.",
        ),
        ("mark_no_show", S.NO_SHOW, "0 marked no-show; 1 skipped: STAY2345 is already no-show."),
        (
            "mark_no_show",
            S.CANCELLED_BY_PATIENT,
            "0 marked no-show; 1 skipped: STAY2345 is cancelled by patient; it cannot become no-show.",
        ),
    ],
)
def test_a_transition_that_is_not_allowed_is_refused_with_a_message(reception, soon, action, status, report):
    appointment = appointment_at(soon, status=status, reference="STAY2345")
    response = run_action(reception, action, [appointment], apply="yes", reason="A reason.")

    assert response.status_code == 200
    assert page_messages(response) == [report]
    assert '<li class="warning">' in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == status
    assert appointment.events.count() == 1
    assert not Message.objects.filter(appointment=appointment).exists()


# Actions on the appointment's own page.


def test_the_page_offers_the_steps_open_to_a_request_and_confirms_with_one_press(reception, soon):
    request_ = appointment_at(soon, reference="PAGE2345")
    url = reverse("admin:booking_appointment_change", args=[request_.pk])
    html = reception.get(url).content.decode()

    confirm_url = reverse("admin:booking_appointment_status", args=[request_.pk, "confirm"])
    assert f'<form method="post" action="{confirm_url}">' in html
    assert '<button type="submit" class="button">Confirm</button>' in html
    assert ">Decline…</a>" in html and ">Cancel (by the clinic)…</a>" in html
    assert "Mark completed" not in html and "Mark no-show" not in html

    response = reception.post(confirm_url, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert page_messages(response) == ["PAGE2345 confirmed."]
    request_.refresh_from_db()
    assert request_.status == S.CONFIRMED
    assert history(request_)[-1] == (S.REQUESTED, S.CONFIRMED, "rita", "")
    html = response.content.decode()
    assert "Mark completed" in html and "Mark no-show" in html  # what a confirmed visit can become


def test_declining_from_the_page_shows_a_reason_form_then_declines(reception, soon):
    request_ = appointment_at(soon, reference="PAGE2345")
    url = reverse("admin:booking_appointment_status", args=[request_.pk, "decline"])

    form = reception.get(url)
    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    assert reception.post(url, {"reason": ""}).status_code == 400

    response = reception.post(url, {"reason": "Fully booked that week."}, follow=True)
    assert page_messages(response) == ["PAGE2345 declined."]
    assert Message.objects.get(appointment=request_, kind=MessageKind.DECLINED).context["note"] == (
        "Fully booked that week."
    )


def test_a_refused_step_from_the_page_is_a_message_not_an_error(reception, soon):
    request_ = appointment_at(soon, reference="PAGE2345")
    url = reverse("admin:booking_appointment_status", args=[request_.pk, "complete"])

    response = reception.post(url, follow=True)

    assert response.status_code == 200
    assert page_messages(response) == ["Not changed: PAGE2345 is requested; it cannot become completed."]
    assert request_.events.count() == 1
    assert reception.post(reverse("admin:booking_appointment_status", args=[request_.pk, "fly"])).status_code == 404
    missing = reception.get(reverse("admin:booking_appointment_status", args=[999999, "complete"]), follow=True)
    assert missing.status_code == 200
    assert "doesn’t exist" in page_messages(missing)[0]


def test_the_page_shows_the_history_and_the_emails_owed_to_the_patient(reception, soon):
    request_ = appointment_at(soon)
    reception.post(reverse("admin:booking_appointment_status", args=[request_.pk, "confirm"]))

    html = reception.get(reverse("admin:booking_appointment_change", args=[request_.pk])).content.decode()

    history_table = html.split('id="events-group"')[1].split("</table>")[0]
    assert "Confirmed" in history_table and "rita" in history_table
    emails = html.split('class="appointment-emails"')[1].split("</table>")[0]
    assert "<td>Confirmed</td><td>Waiting to be sent</td>" in emails
    assert 'name="first_name"' not in html and 'name="status"' not in html and 'name="treatment"' not in html
    assert 'name="staff_notes"' in html


def test_staff_move_an_appointment_through_the_workflow_and_the_patient_is_told(reception, soon):
    appointment = appointment_at(soon, status=S.CONFIRMED)
    later = soon + timedelta(hours=4)  # 14:00, after the lunch break
    url = reverse("admin:booking_appointment_change", args=[appointment.pk])
    data = move_data(appointment, later, staff_notes="Patient asked for the afternoon.")

    assert reception.post(url, data).status_code == 302

    appointment.refresh_from_db()
    assert appointment.starts_at == later and appointment.sequence == 1
    assert appointment.staff_notes == "Patient asked for the afternoon."
    assert history(appointment)[-1][2:] == ("rita", f"Moved by staff from {timezone.localtime(soon):%Y-%m-%d %H:%M}.")
    assert Message.objects.filter(appointment=appointment, kind=MessageKind.MOVED).exists()
    assert not Message.objects.filter(appointment=appointment, kind=MessageKind.CLINIC_MOVED).exists()

    evening = {**data, "starts_at_1": "20:00"}  # after the practitioner's hours
    refused = reception.post(url, evening)
    assert refused.status_code == 200
    assert "is not free for Hair loss then" in refused.content.decode()


@pytest.fixture
def inside_the_notice(working_every_day):
    """A confirmed visit a few days ahead, and tomorrow at 10:00: free, but inside the patients' 48-hour notice."""
    details = ClinicDetails.objects.current()
    details.min_notice_hours = 48
    details.save()
    treatment = Treatment.objects.get(slug="hair-loss")
    practitioner = working_every_day(treatment)  # 08:00-20:00 every day
    appointment = appointment_at(
        local(next_weekday(0, at_least_days=3), 10), status=S.CONFIRMED, practitioner=practitioner
    )
    tomorrow = timezone.localdate() + timedelta(days=1)
    return appointment, local(tomorrow, 10)


def move_data(appointment, start, staff_notes=""):
    """The appointment's change form as staff send it to move the visit to ``start``."""
    return {
        "practitioner": appointment.practitioner_id,
        "starts_at_0": f"{timezone.localtime(start):%Y-%m-%d}",
        "starts_at_1": f"{timezone.localtime(start):%H:%M}",
        "staff_notes": staff_notes,
        "events-TOTAL_FORMS": "1",
        "events-INITIAL_FORMS": "1",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "0",
        "events-0-id": appointment.events.get().pk,
        "events-0-appointment": appointment.pk,
    }


def test_reception_moves_a_visit_to_a_free_time_inside_the_patients_notice(reception, inside_the_notice):
    appointment, tomorrow = inside_the_notice
    old_start = appointment.starts_at
    # A patient could not book it, nor move to it: it is inside the notice.
    assert practitioners_free_at(treatment=appointment.treatment, start=tomorrow) == []
    url = reverse("admin:booking_appointment_change", args=[appointment.pk])

    assert reception.post(url, move_data(appointment, tomorrow)).status_code == 302

    appointment.refresh_from_db()
    assert appointment.starts_at == tomorrow and appointment.sequence == 1
    assert history(appointment)[-1][2:] == (
        "rita",
        f"Moved by staff from {timezone.localtime(old_start):%Y-%m-%d %H:%M}.",
    )
    assert Message.objects.filter(appointment=appointment, kind=MessageKind.MOVED).exists()


def test_reception_books_a_caller_in_for_a_free_time_inside_the_patients_notice(reception, inside_the_notice):
    appointment, tomorrow = inside_the_notice
    treatment, practitioner = appointment.treatment, appointment.practitioner
    assert practitioners_free_at(treatment=treatment, start=tomorrow) == []  # the website would refuse it
    url = reverse("admin:booking_appointment_book") + f"?treatment={treatment.pk}&practitioner={practitioner.pk}"

    page = reception.get(url).content.decode()
    assert f'value="{start_format(tomorrow)}"' in page  # offered among the free times

    response = reception.post(url, phone_booking_data(tomorrow, practitioner=str(practitioner.pk)))
    assert response.status_code == 302
    booked = Appointment.objects.get(last_name="Hopper")
    assert booked.starts_at == tomorrow and booked.status == S.REQUESTED
    assert Message.objects.filter(appointment=booked, kind=MessageKind.REQUEST_RECEIVED).exists()

    # The same time again is taken; an hour in the past is refused: only the notice was lifted.
    again = reception.post(url, phone_booking_data(tomorrow, practitioner=str(practitioner.pk), last_name="Other"))
    assert again.status_code == 409 and not Appointment.objects.filter(last_name="Other").exists()
    past = reception.post(url, phone_booking_data(timezone.now() - timedelta(hours=1)))
    assert past.status_code == 400 and "already passed" in unescape(past.content.decode())


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("yesterday", "That time has already passed."),
        ("evening", "is not free for Hair loss then"),  # after the practitioner's hours
        ("closure", "is not free for Hair loss then"),
        ("taken", TAKEN),
    ],
)
def test_a_staff_move_still_refuses_the_past_closed_hours_and_taken_times(reception, inside_the_notice, when, message):
    appointment, tomorrow = inside_the_notice
    start = {"yesterday": tomorrow - timedelta(days=2), "evening": tomorrow + timedelta(hours=11)}.get(when, tomorrow)
    if when == "closure":
        Closure.objects.create(starts_at=tomorrow - timedelta(hours=2), ends_at=tomorrow + timedelta(hours=8))
    if when == "taken":
        appointment_at(tomorrow, status=S.CONFIRMED, practitioner=appointment.practitioner)
    before = (appointment.starts_at, appointment.sequence, AppointmentEvent.objects.count(), Message.objects.count())
    url = reverse("admin:booking_appointment_change", args=[appointment.pk])

    response = reception.post(url, move_data(appointment, start))

    assert response.status_code == 200
    assert message in unescape(response.content.decode())
    appointment.refresh_from_db()
    assert (
        appointment.starts_at,
        appointment.sequence,
        AppointmentEvent.objects.count(),
        Message.objects.count(),
    ) == before


# Who may do what.


@pytest.fixture
def practitioner_login(client, soon):
    """Dr Ada Moss's login (Practitioners group) and one appointment each for her and for a colleague."""
    treatment = Treatment.objects.get(slug="hair-loss")
    ada = Practitioner.objects.create(
        name="Dr Ada Moss", user=staff("ada", ["view_appointment", "change_appointment"], groups=["Practitioners"])
    )
    ada.treatments.add(treatment)
    client.force_login(ada.user)
    mine = appointment_at(soon, status=S.CONFIRMED, practitioner=ada, reference="MINE2345")
    theirs = appointment_at(soon, status=S.REQUESTED, reference="THEM2345")
    return client, mine, theirs


def test_a_practitioner_records_outcomes_of_their_own_visits_but_does_not_decide_requests(practitioner_login):
    client, mine, theirs = practitioner_login
    response = client.get(reverse(CHANGELIST))
    actions = [name for name, _ in response.context["action_form"].fields["action"].choices if name]
    assert actions == ["mark_completed", "mark_no_show"]
    assert references_in(response.content.decode()) == ["MINE2345"]

    html = client.get(reverse("admin:booking_appointment_change", args=[mine.pk])).content.decode()
    assert "Mark completed" in html and "Confirm<" not in html and "Cancel (by the clinic)" not in html
    assert 'name="staff_notes"' in html and 'name="starts_at_0"' not in html
    assert client.post(reverse("admin:booking_appointment_status", args=[mine.pk, "cancel"])).status_code == 403
    assert client.post(reverse("admin:booking_appointment_status", args=[theirs.pk, "complete"])).status_code == 302
    theirs.refresh_from_db()
    assert theirs.status == S.REQUESTED  # not theirs to see: "does not exist" and nothing changed
    assert client.get(reverse("admin:booking_appointment_book")).status_code == 403
    assert "waiting for a decision" in client.get(reverse("admin:index")).content.decode()


def test_staff_without_the_add_permission_are_offered_no_booking_and_cannot_book(client, soon):
    appointment_at(soon)
    client.force_login(staff("decider", ["view_appointment", "change_appointment"]))

    for page in (reverse(CHANGELIST), reverse("admin:index")):
        response = client.get(page)
        assert response.status_code == 200
        assert "Book for a patient" not in response.content.decode(), page
    assert client.get(reverse("admin:booking_appointment_book")).status_code == 403
    assert client.get(reverse("admin:booking_appointment_add")).status_code == 403


def test_staff_who_may_only_add_book_and_come_back_to_the_booking_page(client, bookable):
    treatment, start = bookable
    client.force_login(staff("caller", ["add_appointment"]))
    url = reverse("admin:booking_appointment_book")
    index = client.get(reverse("admin:index")).content.decode()
    assert f'<a href="{url}" class="button">Book for a patient</a>' in index

    response = client.post(url + f"?treatment={treatment.pk}&practitioner=any", phone_booking_data(start), follow=True)

    assert response.redirect_chain == [(url, 302)]
    assert response.status_code == 200
    assert page_messages(response)[0].startswith(f"{Appointment.objects.get(last_name='Hopper').reference} booked")


# CSV export.


def csv_rows(response):
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_export_is_utf8_with_a_bom_in_clinic_time_across_a_clock_change_and_escapes_formulas(reception):
    tz = timezone.get_default_timezone()
    winter = appointment_at(datetime(2026, 3, 27, 10, 0, tzinfo=tz), status=S.COMPLETED, reference="GMT23456")
    summer = appointment_at(
        datetime(2026, 3, 30, 10, 0, tzinfo=tz),
        status=S.COMPLETED,
        reference="BST23456",
        first_name='=HYPERLINK("http://evil.example","Click")',
        last_name="Zoë-Ånström",
        email="@sum@example.com",
    )
    response = run_action(reception, "export_csv", [summer, winter])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="appointments-')
    rows = csv_rows(response)
    assert rows[0] == [
        "reference",
        "date",
        "time",
        "treatment",
        "practitioner",
        "status",
        "first name",
        "last name",
        "email",
        "phone",
        "first visit",
        "created",
    ]
    by_reference = {r[0]: r for r in rows[1:]}
    assert by_reference["GMT23456"][1:3] == ["2026-03-27", "10:00"]
    assert by_reference["BST23456"][1:3] == ["2026-03-30", "10:00"]  # 09:00 UTC, 10:00 in London
    assert by_reference["BST23456"][5:8] == ["Completed", '\'=HYPERLINK("http://evil.example","Click")', "Zoë-Ånström"]
    assert by_reference["BST23456"][8] == "'@sum@example.com"
    assert by_reference["BST23456"][9] == "'+447700900123"  # a leading + is a formula to a spreadsheet too
    assert by_reference["BST23456"][10] == "yes"


def test_export_link_follows_the_filters_on_screen(reception, soon):
    confirmed = appointment_at(soon, status=S.CONFIRMED)
    appointment_at(soon + timedelta(hours=2))
    html = reception.get(reverse(CHANGELIST), {"status__exact": "confirmed"}).content.decode()
    export_url = reverse("admin:booking_appointment_export")
    assert f'href="{export_url}?status__exact=confirmed"' in html

    rows = csv_rows(reception.get(export_url, {"status__exact": "confirmed"}))
    assert [r[0] for r in rows[1:]] == [confirmed.reference]
    assert reception.get(export_url, {"nonsense__field": "1"}).status_code == 400


def test_export_is_forbidden_without_the_export_permission(client, soon):
    appointment = appointment_at(soon)
    client.force_login(staff("noexport", ["view_appointment", "change_appointment"]))
    response = client.get(reverse(CHANGELIST))
    actions = [name for name, _ in response.context["action_form"].fields["action"].choices if name]
    assert "export_csv" not in actions
    assert "Export this list to CSV" not in response.content.decode()

    posted = run_action(client, "export_csv", [appointment])
    assert "text/csv" not in posted["Content-Type"]
    assert client.get(reverse("admin:booking_appointment_export")).status_code == 403


# Booking by phone.


@pytest.fixture
def bookable():
    treatment = Treatment.objects.get(slug="hair-loss")
    today = first_day_today()
    slot = free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(days=14))[0]
    return treatment, slot.start


def phone_booking_data(start, **changes):
    return {
        "start": start_format(start),
        "practitioner": "any",
        "submission_key": str(uuid.uuid4()),
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "phone": "020 7946 0000",
        "language": "en-gb",
        "first_visit": "yes",
        "message": "",
        "told_privacy": "on",
        **changes,
    }


def test_reception_books_for_a_patient_on_the_phone(reception, bookable):
    treatment, start = bookable
    url = reverse("admin:booking_appointment_book")
    changelist = reception.get(reverse(CHANGELIST)).content.decode()
    assert f'<a href="{url}" class="addlink">Book for a patient</a>' in changelist
    assert reverse("admin:booking_appointment_add") not in changelist  # no plain add form beside it

    first = reception.get(url)
    assert first.status_code == 200 and 'name="treatment"' in first.content.decode()
    query = f"?treatment={treatment.pk}&practitioner=any"
    times = reception.get(url + query).content.decode()
    assert f'value="{start_format(start)}"' in times
    assert "I told the patient how the clinic keeps and uses their details" in times

    response = reception.post(url + query, phone_booking_data(start), follow=True)

    appointment = Appointment.objects.get(last_name="Hopper")
    assert response.redirect_chain[-1][0] == reverse("admin:booking_appointment_change", args=[appointment.pk])
    assert page_messages(response)[0].startswith(f"{appointment.reference} booked for Grace Hopper on ")
    assert appointment.status == S.REQUESTED and appointment.starts_at == start
    assert appointment.phone == "+442079460000"
    assert appointment.consent_at is not None and appointment.privacy_notice is not None
    assert history(appointment) == [("", S.REQUESTED, "rita", "Booked by phone by Rita Reception.")]
    assert Message.objects.filter(appointment=appointment, kind=MessageKind.REQUEST_RECEIVED).exists()


def test_the_public_forms_bot_checks_do_not_slow_reception_down(reception, bookable, settings):
    settings.CLINIC_FORM_MIN_SECONDS = 3  # as in production: a person takes a few seconds to fill the form
    treatment, start = bookable
    url = reverse("admin:booking_appointment_book") + f"?treatment={treatment.pk}&practitioner=any"
    assert reception.post(url, phone_booking_data(start)).status_code == 302
    assert Appointment.objects.filter(last_name="Hopper").exists()


def test_a_phone_booking_for_a_time_just_taken_says_so_and_keeps_the_details(reception, bookable):
    treatment, start = bookable
    appointment_at(start, reference="TOOK2345")  # someone booked online a moment ago
    url = reverse("admin:booking_appointment_book") + f"?treatment={treatment.pk}&practitioner=any"

    response = reception.post(url, phone_booking_data(start))

    assert response.status_code == 409
    html = response.content.decode()
    assert "that time was just taken" in html.lower() or "was taken a moment ago" in html
    assert 'value="Hopper"' in html and 'value="grace@example.com"' in html
    assert not Appointment.objects.filter(last_name="Hopper").exists()


def test_a_phone_booking_taken_between_the_check_and_the_save_gets_the_message(reception, bookable, monkeypatch):
    treatment, start = bookable

    def taken(**kwargs):
        raise SlotTaken

    monkeypatch.setattr(booking.admin.phone_booking, "appointment_request", taken)
    url = reverse("admin:booking_appointment_book") + f"?treatment={treatment.pk}&practitioner=any"
    response = reception.post(url, phone_booking_data(start))
    assert response.status_code == 409
    assert "was taken a moment ago by another booking" in response.content.decode()


def test_a_phone_booking_needs_the_privacy_notice_told_and_a_valid_phone(reception, bookable):
    treatment, start = bookable
    url = reverse("admin:booking_appointment_book") + f"?treatment={treatment.pk}&practitioner=any"
    data = phone_booking_data(start, phone="12", told_privacy="")
    response = reception.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Tick the box once you have told the patient about the privacy notice." in html
    assert "Enter a phone number we can call" in html
    assert not Appointment.objects.filter(last_name="Hopper").exists()
    assert reception.get(reverse("admin:booking_appointment_book"), {"treatment": "999"}).status_code == 400


# Two members of staff at the same moment, on PostgreSQL.


def wait_for_a_lock_waiter(timeout=10.0):
    """Hold on until another connection is blocked on a lock this transaction holds."""
    deadline = timezone.now() + timedelta(seconds=timeout)
    with connection.cursor() as cursor:
        while timezone.now() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.02)
    raise AssertionError("the second request never waited for the first")


def in_threads(*jobs):
    results, errors = [None] * len(jobs), []

    def run(index, job):
        try:
            results[index] = job()
        except Exception as error:  # noqa: BLE001  (reported to the test below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job), name=f"staff-{i}") for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_two_staff_confirming_the_same_request_at_once_make_one_confirmation(clinic_content, monkeypatch):
    request_ = appointment_at(local(next_weekday(1), 10), reference="RACE2345")
    staff_a = staff("anna", RECEPTION_PERMISSIONS)
    staff_b = staff("bert", RECEPTION_PERMISSIONS)
    first_in = threading.Event()
    original = booking.admin.appointment_actions.appointment_transition

    def held(**kwargs):
        # The first one holds its transaction open until the second is queued behind its row lock,
        # so the two are truly simultaneous; PostgreSQL decides, not the timing.
        if kwargs["by"].username == "anna":
            from django.db import transaction

            with transaction.atomic():
                result = original(**kwargs)
                first_in.set()
                wait_for_a_lock_waiter()
            return result
        first_in.wait(10)
        return original(**kwargs)

    monkeypatch.setattr(booking.admin.appointment_actions, "appointment_transition", held)

    def confirm(user):
        response = logged_in(user).post(
            reverse(CHANGELIST), {"action": "confirm", "_selected_action": [request_.pk], "index": 0}, follow=True
        )
        return page_messages(response)

    reports = in_threads(lambda: confirm(staff_a), lambda: confirm(staff_b))

    assert reports == [["1 confirmed."], ["0 confirmed; 1 skipped: RACE2345 is already confirmed."]]
    confirmations = AppointmentEvent.objects.filter(appointment=request_, to_status=S.CONFIRMED)
    assert [event.by.username for event in confirmations] == ["anna"]
    assert Message.objects.filter(appointment=request_, kind=MessageKind.CONFIRMED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_staff_racing_to_confirm_without_help_still_make_one_confirmation(clinic_content):
    request_ = appointment_at(local(next_weekday(1), 10), reference="RACE2345")
    users = [staff(f"staff{i}", RECEPTION_PERMISSIONS) for i in range(4)]
    clients = [logged_in(user) for user in users]
    barrier = threading.Barrier(len(clients))

    def confirm(client):
        barrier.wait(10)
        response = client.post(
            reverse(CHANGELIST), {"action": "confirm", "_selected_action": [request_.pk], "index": 0}, follow=True
        )
        return page_messages(response)[0]

    reports = in_threads(*[lambda c=c: confirm(c) for c in clients])

    assert sorted(reports) == ["0 confirmed; 1 skipped: RACE2345 is already confirmed."] * 3 + ["1 confirmed."]
    assert AppointmentEvent.objects.filter(appointment=request_, to_status=S.CONFIRMED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_staff_moving_two_appointments_into_the_same_time_at_once_one_gets_a_message(clinic_content, monkeypatch):
    day = next_weekday(3)
    one = appointment_at(local(day, 9), status=S.CONFIRMED, reference="ONE23456")
    two = appointment_at(local(day, 11), status=S.CONFIRMED, reference="TWO23456")
    target = local(day, 14)
    staff_a = staff("anna", RECEPTION_PERMISSIONS)
    staff_b = staff("bert", RECEPTION_PERMISSIONS)
    first_in = threading.Event()
    original = booking.admin.appointments.appointment_move

    def held(**kwargs):
        # Both forms have passed their free-time check; the first move waits, uncommitted, until
        # the second is blocked by the exclusion constraint, so only the database can refuse it.
        if kwargs["by"].username == "anna":
            result = original(**kwargs)
            first_in.set()
            wait_for_a_lock_waiter()
            return result
        first_in.wait(10)
        return original(**kwargs)

    monkeypatch.setattr(booking.admin.appointments, "appointment_move", held)

    def move(user, appointment):
        event = appointment.events.get()
        response = logged_in(user).post(
            reverse("admin:booking_appointment_change", args=[appointment.pk]),
            {
                "practitioner": appointment.practitioner_id,
                "starts_at_0": f"{target:%Y-%m-%d}",
                "starts_at_1": "14:00",
                "staff_notes": "",
                "events-TOTAL_FORMS": "1",
                "events-INITIAL_FORMS": "1",
                "events-MIN_NUM_FORMS": "0",
                "events-MAX_NUM_FORMS": "0",
                "events-0-id": event.pk,
                "events-0-appointment": appointment.pk,
            },
        )
        return response.status_code, TAKEN in response.content.decode()

    results = in_threads(lambda: move(staff_a, one), lambda: move(staff_b, two))

    assert results == [(302, False), (200, True)]
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.starts_at == target and two.starts_at == local(day, 11)
    assert two.sequence == 0 and two.events.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_moves_into_one_time_through_the_service_one_is_refused_by_the_database(clinic_content):
    day = next_weekday(3)
    one = appointment_at(local(day, 9), status=S.CONFIRMED)
    two = appointment_at(local(day, 11), status=S.CONFIRMED)
    target = local(day, 14)
    barrier = threading.Barrier(2)

    def move(appointment):
        barrier.wait(10)
        try:
            appointment_move(appointment=appointment, start=target, by_patient=False)
        except SlotTaken:
            return "taken"
        return "moved"

    assert sorted(in_threads(lambda: move(one), lambda: move(two))) == ["moved", "taken"]
    assert Appointment.objects.filter(starts_at=target).count() == 1
