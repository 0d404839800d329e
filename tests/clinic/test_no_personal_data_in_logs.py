"""No patient's data in the logs, the error emails or the task records, even when booking fails.

Canary values go into every patient field; an error is forced after the form is valid; then every
place the site writes to is searched for them.
"""

import contextlib
import io
import logging
import signal
from datetime import timedelta

import pytest
from django.core import mail, serializers
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone
from django.views.debug import SafeExceptionReporterFilter
from django_tasks_db.models import DBTaskResult

from booking.intake.models import HealthAnswer, HealthQuestion, QuestionKind
from booking.models import Appointment, Message, Treatment
from booking.requests import views as booking_views
from booking.requests.botcheck import form_token
from booking.requests.forms import start_format
from booking.schedule.availability import first_day_today, free_slots
from clinic.logging import JsonFormatter
from tests.factories import answers_fine

pytestmark = pytest.mark.django_db

CANARY = {
    "first_name": "CanaryFirst7Q",
    "last_name": "CanaryLast7Q",
    "email": "canary7q@example.com",
    "phone": "+44 20 7946 0777",
    "message": "CanaryMsg7Q",
}
# Every way the values may show up: as typed, stored (E.164), and the bare digits.
# A health answer in words, as a patient might write it: health data, in no log, report or email.
HEALTH_CANARY = "CanaryHealth7Q warfarin"
CANARY_STRINGS = [*CANARY.values(), "+442079460777", "2079460777", "7946 0777", "canary7q", "CanaryHealth7Q"]
ADMIN_ADDRESS = "errors@clinic.example"
MASK = "********************"


class Boom(RuntimeError):
    pass


@pytest.fixture
def treatment(working_every_day):
    treatment = Treatment.objects.get(slug="hair-loss")
    working_every_day(treatment, name="Dr Canary Test")
    return treatment


def free_starts(treatment, count):
    today = first_day_today()
    slots = free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(days=7))
    return [slot.start for slot in slots[:count]]


def health_text_field(treatment):
    return f"health-{HealthQuestion.objects.asked_for(treatment).get(kind=QuestionKind.TEXT).pk}"


def booking_post(treatment, start):
    data = {
        "start": start_format(start),
        "practitioner": "any",
        "started": form_token(),
        **CANARY,
        "first_visit": "yes",
        "consent": "on",
        **answers_fine(),
        health_text_field(treatment): HEALTH_CANARY,
    }
    url = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    return url, data


def leaks(text):
    text = text.lower()
    return [canary for canary in CANARY_STRINGS if canary.lower() in text]


def records_as_text(records):
    """Each record as the JSON lines production writes, and as a plain formatter would write it (message,
    arguments and traceback), so a leak in either shows."""
    json_formatter = JsonFormatter()
    plain = logging.Formatter("%(levelname)s %(name)s %(message)s")
    lines = []
    for record in records:
        lines.append(json_formatter.format(record))
        lines.append(plain.format(record))
        lines.append(repr(record.args))
        lines.extend(f"{key}={value!r}" for key, value in vars(record).items() if key not in {"args", "msg"})
    return "\n".join(lines)


def email_text(message):
    parts = [message.subject, message.body, *message.to]
    parts += [content for content, _mimetype in getattr(message, "alternatives", [])]
    parts += [str(attachment) for attachment in message.attachments]
    return "\n".join(parts)


@pytest.fixture
def worker():
    """`manage.py db_worker --batch` in this process; pytest's own signal handlers come back after."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield lambda: call_command("db_worker", "--batch", "--no-startup-delay", verbosity=1, stdout=io.StringIO())
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
def test_a_failing_booking_leaves_no_patient_data_in_logs_error_emails_or_task_records(
    clinic_content, treatment, settings, caplog, monkeypatch, worker
):
    settings.ADMINS = [("Clinic errors", ADMIN_ADDRESS)]
    caplog.set_level(logging.DEBUG)
    error_start, booked_start = free_starts(treatment, 2)

    # 1. An error after the form is valid: a 500 for the patient, a report for the admins.
    def fail(**kwargs):
        raise Boom("booking failed")

    monkeypatch.setattr(booking_views, "appointment_request", fail)
    client = Client(raise_request_exception=False)
    url, data = booking_post(treatment, error_start)
    response = client.post(url, data)
    assert response.status_code == 500
    assert not leaks(response.content.decode())

    error_emails = [message for message in mail.outbox if ADMIN_ADDRESS in message.to]
    assert len(error_emails) == 1, "the admins are told about the error"
    report = email_text(error_emails[0])
    assert "Boom" in report
    for field in [*CANARY, health_text_field(treatment)]:
        assert f"{field} = '{MASK}'" in report, "the POST section shows the patient's fields masked"
    assert leaks(report) == []

    # 2. A real booking with the same values, and its emails sent by the worker.
    monkeypatch.undo()
    settings.ADMINS = [("Clinic errors", ADMIN_ADDRESS)]
    url, data = booking_post(treatment, booked_start)
    response = client.post(url, data)
    assert response.status_code == 303
    assert Appointment.objects.get().email == CANARY["email"]
    assert HealthAnswer.objects.filter(appointment__isnull=False, answer=HEALTH_CANARY).count() == 1
    assert DBTaskResult.objects.exists()
    worker()
    due = DBTaskResult.objects.filter(run_after__lte=timezone.now()) | DBTaskResult.objects.filter(run_after=None)
    assert set(due.values_list("status", flat=True)) == {"SUCCESSFUL"}  # the request's expiry waits for its time
    assert any(CANARY["email"] in message.to for message in mail.outbox), "the patient got their email"
    # The emails and their calendar files name the patient, never their health answers.
    assert not [message for message in mail.outbox if "canaryhealth7q" in email_text(message).lower()]

    task_records = serializers.serialize("json", DBTaskResult.objects.all())
    assert leaks(task_records) == []
    email_records = serializers.serialize("json", Message.objects.all())
    assert leaks(email_records) == []

    # 3. Everything logged along the way, as production writes it and as raw records.
    assert any(record.levelno >= logging.ERROR for record in caplog.records)
    assert leaks(records_as_text(caplog.records)) == []
    assert leaks(caplog.text) == []


def test_only_errors_are_mailed_to_the_admins_once_each(settings, caplog):
    settings.ADMINS = [("Clinic errors", ADMIN_ADDRESS)]
    assert Client().get("/no-such-page/").status_code == 404
    logging.getLogger("django.security.csrf").warning("Forbidden (CSRF cookie not set.)")
    assert mail.outbox == []
    logging.getLogger("django.security.DisallowedHost").error("Invalid HTTP_HOST header")
    assert [message.to for message in mail.outbox] == [[ADMIN_ADDRESS]]


def all_masked(view, request, fields, **kwargs):
    """Call the view (whatever it answers or raises), then read the POST as an error report would."""
    with contextlib.suppress(Exception):  # only how the request was marked matters here
        view(request, **kwargs)
    cleaned = SafeExceptionReporterFilter().get_post_parameters(request)
    return {field: cleaned[field] for field in fields}


def post_request(path, data, user=None):
    request = RequestFactory().post(path, data)
    request._dont_enforce_csrf_checks = True
    request.session = {}
    if user is not None:
        # Signed in with password and code, as django-otp's middleware marks such a request.
        user.is_verified = lambda: True
        request.user = user
    return request


PUBLIC_FIELDS = ["first_name", "last_name", "email", "phone"]


def test_every_view_that_takes_patient_details_masks_them_in_error_reports(treatment, admin_user):
    fields = {**CANARY, "consent": "on"}
    checks = [
        (reverse("booking:details", kwargs={"treatment_slug": treatment.slug}), [*PUBLIC_FIELDS, "message"], None),
        (reverse("booking:waitlist_join", kwargs={"treatment_slug": treatment.slug}), PUBLIC_FIELDS, None),
        (reverse("admin:booking_appointment_book"), [*PUBLIC_FIELDS, "message"], admin_user),
        (reverse("admin:booking_appointment_patient_data"), ["email"], admin_user),
    ]
    for path, masked, user in checks:
        match = resolve(path)
        request = post_request(path, fields, user)
        assert all_masked(match.func, request, masked, **match.kwargs) == dict.fromkeys(masked, MASK), path
