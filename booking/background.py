"""Background work, enqueued by name in the caller's transaction.

Services say what must happen (``background_enqueue("message_send", message.pk)``); the task
modules register what does it (``@background_task``) and are loaded with the app (booking.apps).
So a service never imports a task, and a task may call any service.

The clinic's tasks live in PostgreSQL (django-tasks' database backend), so the task row is written
in the same transaction as the change it follows: a rollback leaves no task to send anything, and
a crash right after the commit cannot lose one. A backend outside the database (none is shipped)
is handed the task only once the transaction commits, which keeps the second promise only.
"""

from django.db import transaction
from django_tasks import task
from django_tasks_db.backend import DatabaseBackend

registry = {}


def background_task(function):
    """A django-tasks task, known to background_enqueue by its function's name."""
    registered = task()(function)
    registry[function.__name__] = registered
    return registered


def background_enqueue(name, *args, run_after=None):
    """Run the task ``name`` with ``args`` in the worker once the caller's transaction has committed."""
    registered = registry[name]
    prepared = registered.using(run_after=run_after) if run_after else registered
    if isinstance(prepared.get_backend(), DatabaseBackend):
        # The worker cannot see the row before the commit, and never sees it after a rollback.
        prepared.enqueue(*args)
    else:
        transaction.on_commit(lambda: prepared.enqueue(*args))
