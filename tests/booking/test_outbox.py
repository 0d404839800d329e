"""The outbox in the admin: what was sent and what failed, "send again" once, and the daily pruning."""

import http.client
import re
import threading
from datetime import timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlparse

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from booking.appointments.services import appointment_request
from booking.emails.tasks import message_send
from booking.models import Message, MessageKind, MessageStatus
from tests.booking.test_delivery import PATIENT, make_bookable

OUTBOX = "/admin/booking/message/"
PASSWORD = "a long staff password"


@pytest.fixture(autouse=True)
def site(settings):
    settings.CLINIC_SITE_URL = "https://clinic.example"


def member(group, username):
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def failed_email(working_every_day):
    """The patient's "request received" email, given up after the last attempt."""
    treatment, start = make_bookable(working_every_day)
    appointment = appointment_request(treatment=treatment, start=start, patient=PATIENT)
    message = Message.objects.get(appointment=appointment, kind=MessageKind.REQUEST_RECEIVED)
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED, attempts=8, last_error="SMTPServerDisconnected"
    )
    DBTaskResult.objects.all().delete()  # the tasks that tried it have run
    message.refresh_from_db()
    return message


@pytest.fixture
def failed(working_every_day):
    return failed_email(working_every_day)


def send_tasks():
    return DBTaskResult.objects.filter(task_path=message_send.module_path, status=TaskResultStatus.READY)


def run_send_tasks():
    return [message_send.call(*task.args_kwargs["args"]) for task in send_tasks()]


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def resend(client, *messages):
    return client.post(
        OUTBOX, {"action": "resend", "_selected_action": [message.pk for message in messages]}, follow=True
    )


@pytest.mark.django_db
def test_reception_sees_a_failed_email_on_the_admin_index_until_it_is_sent_again(failed):
    client = logged_in(member("Reception", "desk"))

    index = client.get("/admin/").content.decode()
    assert "Emails not sent" in index
    assert f"{OUTBOX}?status__exact=failed" in index

    resend(client, failed)
    assert "Emails not sent" not in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_the_outbox_says_to_whom_what_when_how_often_and_why_it_failed(failed):
    page = logged_in(member("Reception", "desk")).get(OUTBOX, {"status__exact": "failed"}).content.decode()

    assert "ada@example.com" in page
    assert failed.appointment.reference in page
    assert "Request received" in page
    assert "Failed (gave up)" in page
    assert "SMTPServerDisconnected" in page
    assert ">8<" in page


@pytest.mark.django_db
def test_staff_who_may_not_see_patients_see_the_outbox_without_their_addresses(failed):
    manager = member("Clinic managers", "manager")
    page = logged_in(manager).get(OUTBOX).content.decode()

    assert "Hidden (you may not see this patient)" in page
    assert "ada@example.com" not in page
    assert "Lovelace" not in page
    assert failed.appointment.reference not in page
    # Not by the email's own page either.
    detail = logged_in(manager).get(f"{OUTBOX}{failed.pk}/change/").content.decode()
    assert "ada@example.com" not in detail


@pytest.mark.django_db
def test_the_outbox_can_be_filtered_by_status(failed):
    client = logged_in(member("Reception", "desk"))
    sent = Message.objects.exclude(pk=failed.pk).first()
    Message.objects.filter(pk=sent.pk).update(status=MessageStatus.SENT, sent_at=timezone.now())

    page = client.get(OUTBOX, {"status__exact": "sent"}).content.decode()

    statuses = re.findall(r'<td class="field-status">([^<]*)</td>', page)
    assert statuses == ["Sent"]
    assert "1 email" in page


@pytest.mark.django_db
def test_send_again_sends_a_failed_email_once_through_the_usual_send(failed):
    response = resend(logged_in(member("Reception", "desk")), failed)

    assert "1 email queued to be sent again." in response.content.decode()
    assert run_send_tasks() == ["sent"]
    assert [email.to for email in mail.outbox] == [["ada@example.com"]]
    failed.refresh_from_db()
    assert failed.status == MessageStatus.SENT


@pytest.mark.django_db
def test_pressing_send_again_twice_queues_the_email_once(failed):
    client = logged_in(member("Reception", "desk"))
    resend(client, failed)

    second = resend(client, failed).content.decode()

    assert "not sent again: only failed emails can be" in second
    assert send_tasks().count() == 1


@pytest.mark.django_db
def test_send_again_leaves_emails_that_did_not_fail_alone(failed):
    Message.objects.filter(pk=failed.pk).update(status=MessageStatus.SENT, sent_at=timezone.now())

    response = resend(logged_in(member("Reception", "desk")), failed).content.decode()

    assert "1 email not sent again" in response
    assert not send_tasks().exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_staff_who_may_only_look_cannot_send_again(failed):
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_message", "view_appointment"]))
    client = logged_in(viewer)

    assert "Send the selected failed emails again" not in client.get(OUTBOX).content.decode()
    resend(client, failed)
    assert not send_tasks().exists()
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED


@pytest.mark.django_db
def test_a_failed_email_dealt_with_by_phone_leaves_the_index(failed):
    client = logged_in(member("Reception", "desk"))

    client.post(OUTBOX, {"action": "give_up", "_selected_action": [failed.pk]})

    assert "Emails not sent" not in client.get("/admin/").content.decode()
    failed.refresh_from_db()
    assert failed.status == MessageStatus.OBSOLETE
    assert not send_tasks().exists()


def http_request(server, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(server.hostname, server.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_two_staff_pressing_send_again_at_once_send_the_email_once(clinic_content, live_server, working_every_day):
    message = failed_email(working_every_day)
    server = urlparse(live_server.url)
    staff = []
    for name in ("first", "second"):
        user = User.objects.create_superuser(name, f"{name}@example.com", PASSWORD)
        session = logged_in(user).cookies["sessionid"].value
        status, headers, html = http_request(server, "GET", OUTBOX, headers={"Cookie": f"sessionid={session}"})
        assert status == 200
        cookie = SimpleCookie()
        for header, value in headers:
            if header.lower() == "set-cookie":
                cookie.load(value)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        staff.append((session, cookie["csrftoken"].value, token))
    both_ready = threading.Barrier(2)
    statuses = []

    def press(session, csrf_cookie, token):
        body = urlencode({"csrfmiddlewaretoken": token, "action": "resend", "_selected_action": message.pk})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"sessionid={session}; csrftoken={csrf_cookie}",
            "Referer": live_server.url + OUTBOX,
        }
        both_ready.wait()
        statuses.append(http_request(server, "POST", OUTBOX, body=body, headers=headers)[0])

    threads = [threading.Thread(target=press, args=one) for one in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.close()

    assert statuses == [302, 302]
    assert send_tasks().count() == 1
    assert run_send_tasks() == ["sent"]
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_pruning_deletes_old_emails_and_finished_tasks_and_keeps_what_is_owed(
    failed, settings, django_capture_on_commit_callbacks
):
    settings.CLINIC_MESSAGE_RETENTION_DAYS = 90
    long_ago = timezone.now() - timedelta(days=91)
    owed = Message.objects.exclude(pk=failed.pk).get()
    Message.objects.update(created_at=long_ago)  # the failed one and one still owed
    recent = Message.objects.create(
        kind=MessageKind.CONFIRMED, dedupe_key="recent", send_after=timezone.now(), status=MessageStatus.SENT
    )
    message_send.enqueue(owed.pk)
    message_send.enqueue(recent.pk)
    DBTaskResult.objects.filter(args_kwargs__args=[recent.pk]).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=long_ago
    )

    call_command("messages_prune")

    assert set(Message.objects.values_list("pk", flat=True)) == {owed.pk, recent.pk}
    assert list(DBTaskResult.objects.values_list("args_kwargs__args", flat=True)) == [[owed.pk]]


@pytest.mark.django_db
def test_pruning_refuses_a_retention_of_less_than_a_day():
    with pytest.raises(Exception, match="at least one day"):
        call_command("messages_prune", "--days", "0")
