"""Migrations keep what a running clinic has: tasks queued before the booking app was regrouped
still reach their functions afterwards."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

pytestmark = pytest.mark.django_db

migration = importlib.import_module("booking.migrations.0010_task_paths_after_redesign")


def queued(path, *args):
    return DBTaskResult.objects.create(
        task_path=path,
        args_kwargs={"args": list(args), "kwargs": {}},
        queue_name="default",
        backend_name="default",
        run_after=timezone.now(),
        exception_class_path="",
        traceback="",
    )


def test_tasks_queued_under_the_old_module_paths_run_the_functions_they_named():
    email = queued("booking.tasks.message_send", 7)
    offer = queued("booking.tasks.waitlist_match", "2030-01-02T09:30:00+00:00", 3)

    migration.task_paths_update(apps, None)

    email.refresh_from_db()
    offer.refresh_from_db()
    assert email.task.name == "message_send"
    assert email.task.module_path == "booking.emails.tasks.message_send"
    assert offer.task.module_path == "booking.waitlist.tasks.waitlist_match"
    assert (email.args_kwargs, offer.args_kwargs["args"]) == (
        {"args": [7], "kwargs": {}},
        ["2030-01-02T09:30:00+00:00", 3],
    )
