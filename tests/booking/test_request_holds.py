"""An online request holds its time only while it is real: the address confirmed, staff answering, or it expires."""

import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.core import signing
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from booking.appointments.services import appointment_transition
from booking.emails.compose import email_build
from booking.links import EMAIL_CONFIRM_SALT
from booking.models import Appointment, AppointmentStatus, Message, MessageKind, Treatment
from booking.requests.botcheck import form_token
from booking.requests.forms import start_format
from booking.requests.services import requests_expire_due
from booking.requests.tasks import request_expire
from booking.schedule.availability import first_day_today, free_slots
from tests.clock import clock_at
from tests.factories import answers_fine

pytestmark = pytest.mark.django_db
S = AppointmentStatus
K = MessageKind

TYPED = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "020 7946 0000",
    "message": "",
    "first_visit": "yes",
    "consent": "on",
}


@pytest.fixture(autouse=True)
def several_requests_allowed(settings):
    settings.CLINIC_OPEN_REQUESTS_PER_EMAIL = 5


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


def upcoming(treatment):
    today = first_day_today()
    return free_slots(treatment=treatment, first_day=today + timedelta(days=2), last_day=today + timedelta(days=9))


def book(client, treatment, start, **changes):
    data = {"start": start_format(start), "practitioner": "any", "started": form_token(), **TYPED, **answers_fine()}
    data.update(changes)
    response = client.post(reverse("booking:details", kwargs={"treatment_slug": treatment.slug}), data)
    assert response.status_code == 303, response.content.decode()[:500]
    return Appointment.objects.order_by("-created_at").first()


def confirm_path(appointment):
    """The link in the patient's "request received" email, as the worker would send it now."""
    message = Message.objects.get(appointment=appointment, kind=K.REQUEST_RECEIVED)
    email = email_build(message=message)
    url = re.search(r"https?://\S+/book/confirm-email/\S+/", email.body).group(0)
    return urlparse(url).path


def kinds(appointment):
    return set(appointment.messages.values_list("kind", flat=True))


def test_a_request_from_a_new_address_holds_its_time_briefly_and_asks_for_the_address_to_be_confirmed(
    client, treatment, practitioner, settings
):
    settings.CLINIC_REQUEST_CONFIRM_MINUTES = 30
    start = upcoming(treatment)[0].start
    appointment = book(client, treatment, start)

    assert appointment.email_confirmed_at is None
    assert abs(appointment.expires_at - appointment.created_at - timedelta(minutes=30)) < timedelta(seconds=1)
    assert start not in [slot.start for slot in upcoming(treatment)]  # held meanwhile
    # The clinic is not bothered with a request nobody has vouched for yet.
    assert kinds(appointment) == {K.REQUEST_RECEIVED}
    email = email_build(message=appointment.messages.get())
    assert "Please confirm that this email address is yours by" in email.body
    expiry = DBTaskResult.objects.get(task_path=request_expire.module_path)
    assert expiry.args_kwargs["args"] == [appointment.pk]
    assert expiry.run_after == appointment.expires_at


def test_the_link_shows_a_button_and_only_the_button_confirms_once(client, treatment, practitioner, settings):
    settings.CLINIC_REQUEST_ANSWER_HOURS = 48
    appointment = book(client, treatment, upcoming(treatment)[0].start)
    path = confirm_path(appointment)

    page = client.get(path)
    assert page.status_code == 200
    assert "Confirm my email address</button>" in page.content.decode()
    appointment.refresh_from_db()
    assert appointment.email_confirmed_at is None  # opening the link (a mail scanner, a preview) changes nothing

    response = client.post(path)
    assert response.status_code == 303
    assert response["Location"].startswith("/book/done/")
    appointment.refresh_from_db()
    assert appointment.email_confirmed_at is not None
    assert appointment.status == S.REQUESTED
    # Staff have 48 hours to answer, or until the visit if it is sooner.
    assert appointment.expires_at == min(appointment.email_confirmed_at + timedelta(hours=48), appointment.starts_at)
    assert kinds(appointment) == {K.REQUEST_RECEIVED, K.CLINIC_NEW_REQUEST}
    done = client.get(response["Location"]).content.decode()
    assert "confirm it by email" in done
    assert "Please check your inbox" not in done

    # Used once: again it only shows where the request stands, and tells the clinic nothing twice.
    for again in (client.post(path), client.get(path)):
        assert again.status_code == 303
        assert again["Location"].startswith("/book/done/")
    assert appointment.messages.filter(kind=K.CLINIC_NEW_REQUEST).count() == 1


def test_this_device_is_not_asked_again_for_an_address_it_confirmed(client, treatment, practitioner):
    client.post(confirm_path(book(client, treatment, upcoming(treatment)[0].start)))

    again = book(client, treatment, upcoming(treatment)[0].start)
    assert again.email_confirmed_at is not None
    assert kinds(again) == {K.REQUEST_RECEIVED, K.CLINIC_NEW_REQUEST}
    assert "/book/confirm-email/" not in email_build(message=again.messages.get(kind=K.REQUEST_RECEIVED)).body

    other_address = book(client, treatment, upcoming(treatment)[0].start, email="someone.else@example.com")
    assert other_address.email_confirmed_at is None

    elsewhere = book(type(client)(), treatment, upcoming(treatment)[0].start)  # another browser, same address
    assert elsewhere.email_confirmed_at is None


def test_an_unconfirmed_request_expires_frees_its_time_and_tells_the_patient(
    client, treatment, practitioner, monkeypatch, mailoutbox
):
    start = upcoming(treatment)[0].start
    appointment = book(client, treatment, start)
    path = confirm_path(appointment)

    clock_at(monkeypatch, appointment.expires_at - timedelta(seconds=1))
    assert request_expire.call(appointment.pk) is None  # run early: nothing happens
    clock_at(monkeypatch, appointment.expires_at + timedelta(seconds=1))
    assert request_expire.call(appointment.pk) == appointment.pk

    appointment.refresh_from_db()
    assert appointment.status == S.EXPIRED
    assert "did not confirm" in appointment.events.latest("at").note
    assert start in [slot.start for slot in upcoming(treatment)]  # free for others again
    told = email_build(message=appointment.messages.get(kind=K.REQUEST_EXPIRED))
    assert told.to == ["ada@example.com"]
    assert "the email address was not confirmed in time" in told.body
    assert any(part.get_content_type() == "text/calendar" for part in told.message().walk())

    for late in (client.get(path), client.post(path)):
        assert late.status_code == 410
        assert "This request has expired" in late.content.decode()
    appointment.refresh_from_db()
    assert appointment.email_confirmed_at is None
    assert not appointment.messages.filter(kind=K.CLINIC_NEW_REQUEST).exists()


def test_a_confirmed_request_staff_never_answer_expires_but_an_answered_one_stays(
    client, treatment, practitioner, monkeypatch, settings
):
    settings.CLINIC_REQUEST_ANSWER_HOURS = 24
    unanswered = book(client, treatment, upcoming(treatment)[0].start)
    client.post(confirm_path(unanswered))
    answered = book(client, treatment, upcoming(treatment)[0].start)  # this device is known now
    appointment_transition(appointment=answered, to_status=S.CONFIRMED)

    unanswered.refresh_from_db()
    clock_at(monkeypatch, unanswered.expires_at + timedelta(minutes=1))
    assert requests_expire_due() == 1

    unanswered.refresh_from_db()
    answered.refresh_from_db()
    assert unanswered.status == S.EXPIRED
    assert "not answered in time" in unanswered.events.latest("at").note
    assert "could not answer it in time" in email_build(message=unanswered.messages.get(kind=K.REQUEST_EXPIRED)).body
    assert answered.status == S.CONFIRMED
    assert requests_expire_due() == 0  # the sweep again changes nothing


def test_the_scheduled_command_expires_what_the_worker_missed(client, treatment, practitioner, monkeypatch):
    appointment = book(client, treatment, upcoming(treatment)[0].start)
    DBTaskResult.objects.filter(task_path=request_expire.module_path).delete()  # the task was lost

    clock_at(monkeypatch, appointment.expires_at + timedelta(minutes=5))
    out = io.StringIO()
    call_command("requests_expire", stdout=out)

    assert "1 request expired." in out.getvalue()
    appointment.refresh_from_db()
    assert appointment.status == S.EXPIRED


def test_forged_and_old_links_confirm_nothing(client, treatment, practitioner):
    appointment = book(client, treatment, upcoming(treatment)[0].start)
    path = confirm_path(appointment)
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = signing.dumps([appointment.reference, "ada@example.com"], salt="another.salt")
    other_address = signing.dumps([appointment.reference, "mallory@example.com"], salt=EMAIL_CONFIRM_SALT)

    for bad in (forged, other_address, token[:-3] + "abc", "nonsense"):
        response = client.post(reverse("booking:email_confirm", kwargs={"token": bad}))
        assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.email_confirmed_at is None


def test_an_old_link_says_so(client, treatment, practitioner, monkeypatch):
    appointment = book(client, treatment, upcoming(treatment)[0].start)
    path = confirm_path(appointment)
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + 8 * 24 * 3600)

    response = client.get(path)
    assert response.status_code == 410
    assert "This link is too old" in response.content.decode()


def test_staff_see_expired_requests_and_whether_an_address_is_confirmed(admin_client, client, treatment, practitioner):
    unconfirmed = book(client, treatment, upcoming(treatment)[0].start)
    expired = book(client, treatment, upcoming(treatment)[0].start, email="late@example.com")
    appointment_transition(appointment=expired, to_status=S.EXPIRED)

    changelist = reverse("admin:booking_appointment_changelist")
    html = admin_client.get(changelist, {"status__exact": "expired"}).content.decode()
    assert expired.reference in html
    assert unconfirmed.reference not in html
    assert "Expired: not confirmed or not answered in time" in html
    waiting = admin_client.get(changelist, {"status__exact": "requested"}).content.decode()
    assert "(email not confirmed)" in waiting


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_racing_the_expiry_never_leaves_both(clinic_content, working_every_day, monkeypatch):
    """The patient presses the button as the hold runs out: the request is expired, or confirmed, never half of each."""
    treatment = Treatment.objects.get(slug="hair-loss")
    working_every_day(treatment, name="Dr Only One")
    browser = Client()
    appointment = book(browser, treatment, upcoming(treatment)[0].start)
    path = confirm_path(appointment)
    browser.get(path)
    clock_at(monkeypatch, appointment.expires_at + timedelta(seconds=1))
    barrier = threading.Barrier(2)

    def press():
        barrier.wait()
        try:
            return Client().post(path).status_code
        finally:
            connections.close_all()

    def expire():
        barrier.wait()
        try:
            return request_expire.call(appointment.pk)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        pressed, expired = pool.submit(press), pool.submit(expire)
        assert pressed.result() == 410
        assert expired.result() == appointment.pk

    appointment.refresh_from_db()
    assert appointment.status == S.EXPIRED
    assert appointment.email_confirmed_at is None
    assert kinds(appointment) == {K.REQUEST_RECEIVED, K.REQUEST_EXPIRED}
