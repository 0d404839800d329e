"""/readyz: the database answers, and how long the oldest waiting email and task have waited."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking.emails.tasks import message_send
from booking.models import Message, MessageKind, MessageStatus

pytestmark = pytest.mark.django_db


def email_owed(key, *, due_in, status=MessageStatus.PENDING):
    return Message.objects.create(
        kind=MessageKind.REMINDER, dedupe_key=key, send_after=timezone.now() + due_in, status=status
    )


def task_queued(*, enqueued_ago, run_after=None):
    task = message_send.using(run_after=run_after) if run_after else message_send
    result = task.enqueue(0)
    DBTaskResult.objects.filter(id=result.id).update(enqueued_at=timezone.now() - enqueued_ago)
    return result


def test_readyz_answers_200_with_zero_ages_when_nothing_waits(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "oldest_task_age_seconds": 0,
        "oldest_message_age_seconds": 0,
    }
    assert "no-store" in response["Cache-Control"]


def test_readyz_reports_how_long_the_oldest_due_email_has_waited(client):
    email_owed("waiting", due_in=-timedelta(minutes=5))
    email_owed("newer", due_in=-timedelta(minutes=1))
    email_owed("sent", due_in=-timedelta(hours=5), status=MessageStatus.SENT)
    email_owed("gave-up", due_in=-timedelta(hours=5), status=MessageStatus.FAILED)
    email_owed("tomorrow", due_in=timedelta(days=1))

    age = client.get("/readyz").json()["oldest_message_age_seconds"]
    assert 300 <= age < 330


def test_readyz_reports_how_long_the_oldest_runnable_task_has_waited(client):
    task_queued(enqueued_ago=timedelta(minutes=2))
    task_queued(enqueued_ago=timedelta(seconds=10))
    # A retry planned for later is not waiting yet, however long ago it was queued.
    task_queued(enqueued_ago=timedelta(hours=3), run_after=timezone.now() + timedelta(minutes=30))
    done = task_queued(enqueued_ago=timedelta(hours=4))
    DBTaskResult.objects.filter(id=done.id).update(status="SUCCESSFUL")

    age = client.get("/readyz").json()["oldest_task_age_seconds"]
    assert 120 <= age < 150


def test_a_retry_waits_from_its_planned_time_not_from_when_it_was_queued(client):
    task_queued(enqueued_ago=timedelta(hours=2), run_after=timezone.now() - timedelta(seconds=40))

    age = client.get("/readyz").json()["oldest_task_age_seconds"]
    assert 40 <= age < 70


def test_readyz_answers_503_when_the_database_does_not(client, monkeypatch):
    from clinic import views

    def broken_cursor(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(views.connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}
