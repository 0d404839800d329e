"""The emails patients and the clinic get for each change: queued after commit, with the right content."""

import re
from datetime import UTC, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import transaction
from django.urls import resolve
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from booking.appointments.services import (
    appointment_cancel_by_patient,
    appointment_move,
    appointment_request,
    appointment_transition,
)
from booking.emails.tasks import message_send
from booking.links import appointment_from_manage_token
from booking.models import AppointmentStatus, Message, MessageKind, MessageStatus, Treatment
from booking.schedule.availability import first_day_today, free_slots
from clinic.models import ClinicDetails
from tests.clock import clock_at

pytestmark = pytest.mark.django_db

K = MessageKind
S = AppointmentStatus
SITE = "https://clinic.example"
BEFORE_VISIT = "Apply numbing cream thirty minutes before, if you want it."
AFTERCARE = "Drink plenty of water; some bruising is normal."
PATIENT = {
    "first_name": "Siobhán",
    "last_name": "O'Neill & Co",
    "email": "siobhan@example.com",
    "phone": "+442079460000",
    "message": "",
    "first_visit": True,
}
PATIENT_KINDS = {K.REQUEST_RECEIVED, K.CONFIRMED, K.DECLINED, K.CANCELLED, K.MOVED, K.REMINDER, K.AFTERCARE}
CLINIC_KINDS = {K.CLINIC_NEW_REQUEST, K.CLINIC_CANCELLED, K.CLINIC_MOVED}


@pytest.fixture(autouse=True)
def site(settings):
    settings.CLINIC_SITE_URL = SITE
    settings.CLINIC_EMAIL_SHOW_TREATMENT = True


@pytest.fixture
def clinic():
    clinic = ClinicDetails.objects.current()
    clinic.name = "Harley Mesotherapy"
    clinic.phone = "020 7946 0123"
    clinic.email = "hello@clinic.example"
    clinic.notification_email = "desk@clinic.example"
    clinic.address = "1 Harley Street\nLondon W1G 9QD"
    clinic.reminder_hours = 24
    clinic.save()
    return clinic


@pytest.fixture
def treatment():
    treatment = Treatment.objects.get(slug="hair-loss")
    treatment.before_visit = BEFORE_VISIT
    treatment.aftercare = AFTERCARE
    treatment.save()
    return treatment


@pytest.fixture
def starts(clinic, treatment, practitioner):
    """Two free times days ahead, on different days: well before the reminder and the self-service cutoff."""
    today = first_day_today()
    first = free_slots(treatment=treatment, first_day=today + timedelta(days=3), last_day=today + timedelta(days=3))
    second = free_slots(treatment=treatment, first_day=today + timedelta(days=5), last_day=today + timedelta(days=5))
    return first[0].start, second[4].start


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service call in a transaction that commits, as a request or the admin would."""

    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


@pytest.fixture
def booked(committed, treatment, starts):
    return committed(appointment_request, treatment=treatment, start=starts[0], patient=PATIENT)


@pytest.fixture
def confirmed(committed, booked):
    send_due()
    mail.outbox.clear()
    return committed(appointment_transition, appointment=booked, to_status=S.CONFIRMED)


def send_due():
    """Run the send task for every message now due, as the worker does. The emails sent, by kind."""
    sent = {}
    for message in Message.objects.due(timezone.now()).order_by("pk"):
        before = len(mail.outbox)
        message_send.call(message.pk)
        if len(mail.outbox) > before:
            sent[message.kind] = mail.outbox[-1]
    return sent


def message_tasks():
    return DBTaskResult.objects.filter(task_path="booking.emails.tasks.message_send")


def html_of(email):
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    return html


def calendar_in(email):
    """The attached .ics: its MIME method parameter and the parsed calendar."""
    [part] = [part for part in email.message().walk() if part.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    return part.get_param("method"), calendar


def test_request_writes_its_emails_and_their_tasks_in_its_own_transaction(
    django_capture_on_commit_callbacks, treatment, starts
):
    with django_capture_on_commit_callbacks(execute=False):
        appointment = appointment_request(treatment=treatment, start=starts[0], patient=PATIENT)
        # Owed and handed to the worker before the commit: the worker sees both, or neither.
        assert set(Message.objects.values_list("kind", flat=True)) == {K.REQUEST_RECEIVED, K.CLINIC_NEW_REQUEST}
        enqueued = {task.args_kwargs["args"][0] for task in message_tasks()}
        assert enqueued == set(Message.objects.filter(appointment=appointment).values_list("pk", flat=True))

    assert mail.outbox == []  # sending is the worker's job, never the request's


def test_rolled_back_request_leaves_no_email_and_no_task(django_capture_on_commit_callbacks, treatment, starts):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        appointment_request(treatment=treatment, start=starts[0], patient=PATIENT)
        raise RuntimeError("the request failed after the appointment was written")

    assert callbacks == []
    assert not Message.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_rolled_back_confirmation_leaves_no_email_and_no_task(
    django_capture_on_commit_callbacks, booked, treatment, starts
):
    messages_before = Message.objects.count()
    tasks_before = DBTaskResult.objects.count()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        appointment_transition(appointment=booked, to_status=S.CONFIRMED)
        raise RuntimeError("the admin action failed after the status changed")

    assert callbacks == []
    assert Message.objects.count() == messages_before
    assert DBTaskResult.objects.count() == tasks_before


def test_request_gives_the_patient_the_reference_and_what_to_do_before_the_visit(booked):
    sent = send_due()

    email = sent[K.REQUEST_RECEIVED]
    assert email.to == ["siobhan@example.com"]
    assert booked.reference in email.subject
    for part in (email.body, html_of(email)):
        assert booked.reference in part
        assert BEFORE_VISIT in part
        assert "Hair loss" in part


def test_clinic_hears_of_every_new_request_at_its_notification_address(booked):
    sent = send_due()

    email = sent[K.CLINIC_NEW_REQUEST]
    assert email.to == ["desk@clinic.example"]
    assert booked.reference in email.subject
    assert "Siobhán O'Neill & Co" in email.body
    assert f"{SITE}/admin/booking/appointment/{booked.pk}/change/" in email.body


def test_confirmation_sends_a_calendar_invitation(confirmed):
    sent = send_due()

    assert set(sent) == {K.CONFIRMED}  # the reminder waits for its time
    email = sent[K.CONFIRMED]
    assert email.to == ["siobhan@example.com"]
    method, calendar = calendar_in(email)
    assert method == "REQUEST"
    assert calendar["method"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == confirmed.starts_at.astimezone(UTC)


def test_confirmation_gives_the_patient_what_to_do_before_the_visit(confirmed):
    email = send_due()[K.CONFIRMED]

    assert f"Before your visit:\n{BEFORE_VISIT}" in email.body
    assert f"<h2>Before your visit</h2><p>{BEFORE_VISIT}</p>" in html_of(email)


def test_confirmation_schedules_the_reminder_the_clinics_hours_before_the_visit(monkeypatch, confirmed):
    reminder = Message.objects.get(appointment=confirmed, kind=K.REMINDER)
    assert reminder.send_after == confirmed.starts_at - timedelta(hours=24)
    [task] = [task for task in message_tasks() if task.args_kwargs["args"] == [reminder.pk]]
    assert task.run_after == reminder.send_after
    send_due()
    message_send.call(reminder.pk)  # a task run early (by hand, or a stray duplicate) must not send it
    assert not [email for email in mail.outbox if email.subject.startswith("Reminder")]

    clock_at(monkeypatch, reminder.send_after + timedelta(minutes=1))
    sent = send_due()

    email = sent[K.REMINDER]
    assert email.to == ["siobhan@example.com"]
    assert f"{timezone.localtime(confirmed.starts_at):%A %-d %B}" in email.subject
    assert BEFORE_VISIT in email.body
    assert BEFORE_VISIT in html_of(email)
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.SENT


def test_reminder_is_skipped_when_the_visit_moved_before_it_was_due(monkeypatch, committed, confirmed, starts):
    old_reminder = Message.objects.get(appointment=confirmed, kind=K.REMINDER)
    # The new time as the patient's browser might send it, in another zone: the same instant all the same.
    new_start = starts[1].astimezone(ZoneInfo("Asia/Tokyo"))
    moved = committed(appointment_move, appointment=confirmed, start=new_start)
    new_reminder = Message.objects.exclude(pk=old_reminder.pk).get(appointment=confirmed, kind=K.REMINDER)
    assert new_reminder.send_after == moved.starts_at - timedelta(hours=24)

    clock_at(monkeypatch, old_reminder.send_after + timedelta(minutes=1))
    assert K.REMINDER not in send_due()
    old_reminder.refresh_from_db()
    assert old_reminder.status == MessageStatus.OBSOLETE

    clock_at(monkeypatch, new_reminder.send_after + timedelta(minutes=1))
    sent = send_due()
    assert K.REMINDER in sent
    assert f"{timezone.localtime(moved.starts_at):%A %-d %B}" in sent[K.REMINDER].subject
    assert [email.subject for email in mail.outbox].count(sent[K.REMINDER].subject) == 1


def test_reminder_is_skipped_when_the_visit_was_cancelled_before_it_was_due(monkeypatch, committed, confirmed):
    reminder = Message.objects.get(appointment=confirmed, kind=K.REMINDER)
    committed(appointment_transition, appointment=confirmed, to_status=S.CANCELLED_BY_CLINIC, note="Closed.")
    send_due()

    clock_at(monkeypatch, reminder.send_after + timedelta(minutes=1))
    assert send_due() == {}
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.OBSOLETE
    assert not [email for email in mail.outbox if email.subject.startswith("Reminder")]


def test_reminder_still_owed_when_the_visit_has_begun_is_not_sent(monkeypatch, confirmed):
    # E.g. the mail server was down from the reminder's time until after the visit.
    reminder = Message.objects.get(appointment=confirmed, kind=K.REMINDER)
    send_due()

    clock_at(monkeypatch, confirmed.starts_at + timedelta(minutes=1))
    assert message_send.call(reminder.pk) == "obsolete"

    assert not [email for email in mail.outbox if email.subject.startswith("Reminder")]


def test_decline_tells_the_patient_why_and_cancels_the_calendar_entry(committed, booked):
    send_due()
    committed(appointment_transition, appointment=booked, to_status=S.DECLINED, note="The doctor is away that week.")

    sent = send_due()

    assert set(sent) == {K.DECLINED}
    email = sent[K.DECLINED]
    assert "The doctor is away that week." in email.body
    assert "The doctor is away that week." in html_of(email)
    method, calendar = calendar_in(email)
    assert method == "CANCEL"
    assert calendar["method"] == "CANCEL"


def test_clinic_cancellation_tells_the_patient_the_reason_and_not_the_clinic(committed, confirmed):
    send_due()
    committed(
        appointment_transition, appointment=confirmed, to_status=S.CANCELLED_BY_CLINIC, note="The clinic is closed."
    )

    sent = send_due()

    assert set(sent) == {K.CANCELLED}
    email = sent[K.CANCELLED]
    assert email.to == ["siobhan@example.com"]
    assert "The clinic is closed." in email.body
    method, _calendar = calendar_in(email)
    assert method == "CANCEL"


def test_patient_cancellation_tells_the_patient_and_the_clinic(committed, confirmed):
    send_due()
    committed(appointment_cancel_by_patient, appointment=confirmed)

    sent = send_due()

    assert set(sent) == {K.CANCELLED, K.CLINIC_CANCELLED}
    assert sent[K.CANCELLED].to == ["siobhan@example.com"]
    assert calendar_in(sent[K.CANCELLED])[0] == "CANCEL"
    assert sent[K.CLINIC_CANCELLED].to == ["desk@clinic.example"]
    assert confirmed.reference in sent[K.CLINIC_CANCELLED].subject


def test_move_updates_the_calendar_entry_and_tells_the_clinic(committed, confirmed, starts):
    first = send_due()
    _method, invitation = calendar_in(first[K.CONFIRMED])

    moved = committed(appointment_move, appointment=confirmed, start=starts[1])
    sent = send_due()

    assert set(sent) == {K.MOVED, K.CLINIC_MOVED}
    method, update = calendar_in(sent[K.MOVED])
    [old_event] = invitation.walk("VEVENT")
    [new_event] = update.walk("VEVENT")
    assert method == "REQUEST"
    assert new_event["uid"] == old_event["uid"]
    assert new_event["sequence"] == old_event["sequence"] + 1 == moved.sequence
    assert new_event.decoded("dtstart") == starts[1]
    assert f"it was {timezone.localtime(starts[0]):%A %-d %B %Y, %H:%M}" in sent[K.MOVED].body
    assert f"{timezone.localtime(starts[0]):%-d %B %Y, %H:%M}" in sent[K.CLINIC_MOVED].body
    assert sent[K.CLINIC_MOVED].to == ["desk@clinic.example"]


def test_move_by_staff_tells_only_the_patient(committed, confirmed, starts):
    send_due()
    committed(appointment_move, appointment=confirmed, start=starts[1], by_patient=False)

    assert set(send_due()) == {K.MOVED}


def test_completed_visit_sends_the_aftercare_advice(committed, confirmed):
    send_due()
    committed(appointment_transition, appointment=confirmed, to_status=S.COMPLETED)

    sent = send_due()

    assert set(sent) == {K.AFTERCARE}
    assert AFTERCARE in sent[K.AFTERCARE].body
    assert "Drink plenty of water; some bruising is normal." in html_of(sent[K.AFTERCARE])


@pytest.fixture
def all_emails(committed, treatment, starts, monkeypatch):
    """One email of every kind an appointment can cause, keyed by kind."""
    appointment = committed(appointment_request, treatment=treatment, start=starts[0], patient=PATIENT)
    committed(appointment_transition, appointment=appointment, to_status=S.CONFIRMED)
    appointment = committed(appointment_move, appointment=appointment, start=starts[1])
    emails = send_due()
    reminder = Message.objects.filter(appointment=appointment, kind=K.REMINDER).latest("send_after")
    with monkeypatch.context() as later:
        clock_at(later, reminder.send_after + timedelta(minutes=1))
        emails |= send_due()
    committed(appointment_transition, appointment=appointment, to_status=S.COMPLETED)
    emails |= send_due()

    declined = committed(appointment_request, treatment=treatment, start=starts[0], patient=PATIENT)
    committed(appointment_transition, appointment=declined, to_status=S.DECLINED, note="Sorry.")
    emails |= send_due()
    cancelled = committed(appointment_request, treatment=treatment, start=starts[0], patient=PATIENT)
    committed(appointment_cancel_by_patient, appointment=cancelled)
    emails |= send_due()

    assert set(emails) == PATIENT_KINDS | CLINIC_KINDS
    return emails


def test_every_email_has_text_and_html_and_the_clinics_name_and_phone(all_emails):
    for kind, email in all_emails.items():
        html = html_of(email)
        assert email.body.strip(), kind
        assert "Harley Mesotherapy" in email.subject, kind
        for part in (email.body, html):
            assert "Harley Mesotherapy" in part, kind
            assert "020 7946 0123" in part, kind


def test_no_email_loads_anything_from_elsewhere(all_emails):
    for kind, email in all_emails.items():
        html = html_of(email)
        assert "<img" not in html.lower(), kind
        assert "url(" not in html.lower(), kind
        links = re.findall(r"https?://[^\s\"'<>]+", html)
        assert links, kind
        assert all(link.startswith(f"{SITE}/") or link == SITE for link in links), (kind, links)


def links_in(text):
    return re.findall(rf"{re.escape(SITE)}/\S+", text)


def test_every_patient_email_links_to_the_patients_own_appointment_page(all_emails):
    for kind in PATIENT_KINDS:
        email = all_emails[kind]
        [link] = [link for link in links_in(email.body) if resolve(urlsplit(link).path).url_name == "manage"]
        match = resolve(urlsplit(link).path)
        assert match.namespace == "booking", kind
        appointment = appointment_from_manage_token(match.kwargs["token"])
        assert appointment is not None, kind
        assert appointment.email == "siobhan@example.com"
        assert f'href="{link}"' in html_of(email), kind
    for kind in CLINIC_KINDS:
        # The clinic's copy links to the admin, never to the patient's own page.
        assert not [
            link for link in links_in(all_emails[kind].body) if resolve(urlsplit(link).path).url_name == "manage"
        ]


def test_text_part_shows_names_as_typed_and_html_part_escapes_them(all_emails):
    email = all_emails[K.CLINIC_NEW_REQUEST]
    assert "Siobhán O'Neill & Co" in email.body
    assert "O&#x27;Neill &amp; Co" in html_of(email)
    assert "Dear Siobhán," in all_emails[K.REQUEST_RECEIVED].body


@pytest.fixture
def treatment_hidden(settings):
    settings.CLINIC_EMAIL_SHOW_TREATMENT = False


def everything_in(email):
    """Subject and every part decoded, attachments included."""
    parts = [part.get_payload(decode=True).decode() for part in email.message().walk() if not part.is_multipart()]
    return "\n".join([email.subject, *parts])


def test_with_the_treatment_hidden_no_email_names_it_or_gives_its_advice(treatment_hidden, all_emails):
    for kind, email in all_emails.items():
        whole = everything_in(email)
        assert "Harley Mesotherapy" in whole
        for secret in ("Hair loss", "hair-loss", BEFORE_VISIT, AFTERCARE):
            assert secret.lower() not in whole.lower(), (kind, secret)
