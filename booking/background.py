"""Background work, enqueued by name once the caller's transaction commits.

Services say what must happen (``background_enqueue("message_send", message.pk)``); the task
modules register what does it (``@background_task``) and are loaded with the app (booking.apps).
So a service never imports a task, and a task may call any service.
"""

from django.db import transaction
from django_tasks import task

registry = {}


def background_task(function):
    """A django-tasks task, known to background_enqueue by its function's name."""
    registered = task()(function)
    registry[function.__name__] = registered
    return registered


def background_enqueue(name, *args, run_after=None):
    """Run the task ``name`` with ``args`` in the worker, after the caller's transaction commits."""

    def enqueue():
        registered = registry[name]
        (registered.using(run_after=run_after) if run_after else registered).enqueue(*args)

    transaction.on_commit(enqueue)
