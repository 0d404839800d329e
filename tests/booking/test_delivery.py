"""Delivery that loses nothing and repeats nothing: duplicate tasks, racing workers, a mail server that refuses."""

import io
import signal
import socket
import threading
from datetime import timedelta
from email import message_from_bytes
from time import sleep

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from booking.appointments.services import appointment_request, appointment_transition
from booking.emails.tasks import message_send
from booking.models import AppointmentStatus, Message, MessageKind, MessageStatus, Treatment
from booking.schedule.availability import first_day_today, free_slots
from clinic.models import ClinicDetails
from tests.clock import clock_at

K = MessageKind
PATIENT = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+442079460000",
    "message": "",
    "first_visit": True,
}


@pytest.fixture(autouse=True)
def site(settings):
    settings.CLINIC_SITE_URL = "https://clinic.example"


def make_bookable(working_every_day):
    """The clinic's details, a treatment and the only practitioner, working every day; returns a free time."""
    clinic = ClinicDetails.objects.current()
    clinic.phone = "020 7946 0123"
    clinic.notification_email = "desk@clinic.example"
    clinic.save()
    treatment = Treatment.objects.get(slug="hair-loss")
    working_every_day(treatment)
    day = first_day_today() + timedelta(days=3)
    return treatment, free_slots(treatment=treatment, first_day=day, last_day=day)[0].start


@pytest.fixture
def bookable(working_every_day):
    return make_bookable(working_every_day)


@pytest.fixture
def booked(bookable, django_capture_on_commit_callbacks):
    treatment, start = bookable
    with django_capture_on_commit_callbacks(execute=True):
        return appointment_request(treatment=treatment, start=start, patient=PATIENT)


@pytest.fixture
def owed(booked):
    """The patient's "request received" email, owed and not yet sent."""
    return Message.objects.get(appointment=booked, kind=K.REQUEST_RECEIVED)


def tasks_for(message):
    return DBTaskResult.objects.filter(task_path="booking.emails.tasks.message_send", args_kwargs__args=[message.pk])


@pytest.mark.django_db
def test_a_task_run_twice_sends_the_email_once(owed):
    assert message_send.call(owed.pk) == "sent"
    assert message_send.call(owed.pk) == "not pending"

    assert len(mail.outbox) == 1
    owed.refresh_from_db()
    assert owed.status == MessageStatus.SENT
    assert owed.attempts == 1
    assert owed.sent_at is not None


class SlowBackend(locmem.EmailBackend):
    """Takes its time to send, so a second worker has every chance to send the same email too."""

    def send_messages(self, messages):
        sleep(0.5)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_email_send_it_once(clinic_content, settings, working_every_day):
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    treatment, start = make_bookable(working_every_day)
    appointment = appointment_request(treatment=treatment, start=start, patient=PATIENT)
    message = Message.objects.get(appointment=appointment, kind=K.REQUEST_RECEIVED)
    both_ready = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            both_ready.wait()
            outcomes.append(message_send.call(message.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["not pending", "sent"]
    assert [email.to for email in mail.outbox] == [["ada@example.com"]]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1


class GoodbyeFailsBackend(locmem.EmailBackend):
    """Takes the email, then the connection breaks while saying goodbye (QUIT)."""

    def close(self):
        raise ConnectionResetError("connection reset by peer")


@pytest.mark.django_db
def test_an_email_the_server_took_counts_as_sent_even_if_the_goodbye_fails(owed, settings):
    settings.EMAIL_BACKEND = f"{__name__}.GoodbyeFailsBackend"

    assert message_send.call(owed.pk) == "sent"

    assert len(mail.outbox) == 1
    owed.refresh_from_db()
    assert owed.status == MessageStatus.SENT


class MailServer:
    """A real SMTP server on loopback (aiosmtpd) that can refuse mail for a while, as a busy server does."""

    def __init__(self):
        self.refusing = False
        self.received = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusing:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return settings


@pytest.fixture
def mail_server(smtp_settings):
    server = MailServer()
    server.controller.start()
    smtp_settings.EMAIL_PORT = server.port
    yield server
    server.controller.stop()


def run_send(django_capture_on_commit_callbacks, message):
    """The task as the worker runs it: its own transaction, and its after-commit work done."""
    with django_capture_on_commit_callbacks(execute=True):
        return message_send.call(message.pk)


@pytest.mark.django_db
def test_a_refusing_mail_server_leaves_the_email_queued_until_it_accepts(
    mail_server, owed, django_capture_on_commit_callbacks
):
    mail_server.refusing = True
    before = timezone.now()

    assert run_send(django_capture_on_commit_callbacks, owed) == "retry"

    owed.refresh_from_db()
    assert owed.status == MessageStatus.PENDING
    assert owed.attempts == 1
    assert owed.last_error == "SMTPRecipientsRefused 451"
    assert "@" not in owed.last_error
    retry = tasks_for(owed).latest("enqueued_at")
    assert retry.status == TaskResultStatus.READY
    assert retry.run_after >= before + timedelta(minutes=5)
    assert mail_server.received == []

    mail_server.refusing = False
    assert run_send(django_capture_on_commit_callbacks, owed) == "sent"
    assert run_send(django_capture_on_commit_callbacks, owed) == "not pending"

    [delivered] = mail_server.received
    assert delivered.rcpt_tos == ["ada@example.com"]
    parsed = message_from_bytes(delivered.original_content)
    assert {part.get_content_type() for part in parsed.walk()} >= {"text/plain", "text/html"}
    owed.refresh_from_db()
    assert owed.status == MessageStatus.SENT
    assert owed.attempts == 2


@pytest.mark.django_db
def test_a_mail_server_that_is_down_leaves_the_email_queued(smtp_settings, owed, django_capture_on_commit_callbacks):
    smtp_settings.EMAIL_PORT = free_port()  # nothing listens there: the connection is refused

    assert run_send(django_capture_on_commit_callbacks, owed) == "retry"

    owed.refresh_from_db()
    assert owed.status == MessageStatus.PENDING
    assert owed.attempts == 1
    assert owed.last_error == "ConnectionRefusedError"
    assert tasks_for(owed).filter(run_after__gt=timezone.now()).exists()


@pytest.mark.django_db
def test_retries_wait_longer_each_time(mail_server, owed, django_capture_on_commit_callbacks):
    mail_server.refusing = True
    waits = []
    for _ in range(3):
        started = timezone.now()
        run_send(django_capture_on_commit_callbacks, owed)
        waits.append(tasks_for(owed).latest("enqueued_at").run_after - started)

    assert waits[0] < waits[1] < waits[2]


@pytest.mark.django_db
def test_after_the_last_allowed_attempt_the_email_is_marked_failed(
    mail_server, owed, settings, django_capture_on_commit_callbacks
):
    settings.CLINIC_EMAIL_MAX_ATTEMPTS = 3
    mail_server.refusing = True

    outcomes = [run_send(django_capture_on_commit_callbacks, owed) for _ in range(3)]

    assert outcomes == ["retry", "retry", "failed"]
    owed.refresh_from_db()
    assert owed.status == MessageStatus.FAILED
    assert owed.attempts == 3
    assert tasks_for(owed).count() == 1 + 2  # the first task and two retries; none after giving up
    mail_server.refusing = False
    assert run_send(django_capture_on_commit_callbacks, owed) == "not pending"
    assert mail_server.received == []


@pytest.fixture
def worker(request):
    """Runs `manage.py db_worker --batch` in this process, then gives Ctrl-C back to pytest."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}

    def run():
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    yield run
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_what_a_booking_queued(clinic_content, worker, working_every_day):
    treatment, start = make_bookable(working_every_day)
    appointment = appointment_request(treatment=treatment, start=start, patient=PATIENT)
    assert mail.outbox == []

    worker()

    assert sorted(email.to[0] for email in mail.outbox) == ["ada@example.com", "desk@clinic.example"]
    assert set(appointment.messages.values_list("status", flat=True)) == {MessageStatus.SENT}
    sends = DBTaskResult.objects.filter(task_path=message_send.module_path)
    assert set(sends.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    worker()
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_when_the_mail_server_comes_back(
    clinic_content, worker, mail_server, monkeypatch, working_every_day
):
    treatment, start = make_bookable(working_every_day)
    appointment_request(treatment=treatment, start=start, patient=PATIENT)
    mail_server.refusing = True

    worker()

    assert mail_server.received == []
    assert set(Message.objects.values_list("status", "attempts")) == {(MessageStatus.PENDING, 1)}

    mail_server.refusing = False
    worker()  # the retries are not due yet
    assert mail_server.received == []

    clock_at(monkeypatch, timezone.now() + timedelta(minutes=6))
    worker()

    assert sorted(envelope.rcpt_tos[0] for envelope in mail_server.received) == [
        "ada@example.com",
        "desk@clinic.example",
    ]
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


@pytest.mark.django_db
def test_requeue_finds_a_due_email_whose_task_was_lost(booked, django_capture_on_commit_callbacks):
    # A crash between the commit and the enqueue: the emails are owed, but no task knows.
    DBTaskResult.objects.all().delete()
    owed = set(booked.messages.values_list("pk", flat=True))

    call_command("messages_requeue", stdout=io.StringIO())
    call_command("messages_requeue", stdout=io.StringIO())  # the tasks are queued now: nothing more to add

    queued = [task.args_kwargs["args"][0] for task in DBTaskResult.objects.all()]
    assert sorted(queued) == sorted(owed)
    for message_id in queued:
        message_send.call(message_id)
    assert sorted(email.to[0] for email in mail.outbox) == ["ada@example.com", "desk@clinic.example"]


@pytest.mark.django_db
def test_requeue_recovers_an_email_whose_worker_died_while_sending_it(owed):
    [task] = tasks_for(owed)
    task.claim("a-worker-that-was-killed")  # marked running, and nobody will ever finish it

    call_command("messages_requeue", stdout=io.StringIO())

    [retry] = tasks_for(owed).filter(status=TaskResultStatus.READY)
    message_send.call(retry.args_kwargs["args"][0])
    assert [email.to for email in mail.outbox] == [["ada@example.com"]]


@pytest.mark.django_db
def test_requeue_leaves_sent_and_future_emails_alone(booked, django_capture_on_commit_callbacks):
    for message in booked.messages.all():
        message_send.call(message.pk)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_transition(appointment=booked, to_status=AppointmentStatus.CONFIRMED)
    confirmed_email = Message.objects.get(appointment=booked, kind=K.CONFIRMED)
    DBTaskResult.objects.all().delete()

    output = io.StringIO()
    call_command("messages_requeue", stdout=output)

    queued = [task.args_kwargs["args"][0] for task in DBTaskResult.objects.all()]
    assert queued == [confirmed_email.pk]  # not the sent ones, not the reminder days ahead
    assert output.getvalue().strip() == "Queued 1 email again."


@pytest.mark.django_db
def test_a_crash_right_after_the_commit_still_leaves_each_email_its_task(bookable, django_capture_on_commit_callbacks):
    treatment, start = bookable
    # The process dies as the transaction commits: nothing registered "after commit" ever runs.
    with django_capture_on_commit_callbacks(execute=False):
        appointment = appointment_request(treatment=treatment, start=start, patient=PATIENT)

    messages = list(appointment.messages.all())
    assert {message.kind for message in messages} == {K.REQUEST_RECEIVED, K.CLINIC_NEW_REQUEST}
    for message in messages:
        assert list(tasks_for(message).values_list("status", flat=True)) == [TaskResultStatus.READY]


@pytest.mark.django_db(transaction=True)
def test_a_worker_restarted_while_the_mail_server_is_down_sends_each_email_once_when_it_is_back(
    clinic_content, worker, smtp_settings, monkeypatch, working_every_day
):
    server = MailServer()  # not started yet: nothing listens on its port
    smtp_settings.EMAIL_PORT = server.port
    treatment, start = make_bookable(working_every_day)
    appointment = appointment_request(treatment=treatment, start=start, patient=PATIENT)
    appointment_transition(appointment=appointment, to_status=AppointmentStatus.CONFIRMED)

    worker()  # the mail server is down: every email waits for a retry
    assert set(Message.objects.exclude(kind=K.REMINDER).values_list("status", "attempts")) == {
        (MessageStatus.PENDING, 1)
    }

    server.controller.start()
    try:
        clock_at(monkeypatch, timezone.now() + timedelta(minutes=6))
        worker()  # a new worker run, as after a restart
        worker()
    finally:
        server.controller.stop()

    received = sorted(
        (envelope.rcpt_tos[0], message_from_bytes(envelope.content)["Subject"]) for envelope in server.received
    )
    assert len(received) == Message.objects.exclude(kind=K.REMINDER).count() == 3
    assert len(set(received)) == 3  # no email twice
    assert set(Message.objects.exclude(kind=K.REMINDER).values_list("status", flat=True)) == {MessageStatus.SENT}
