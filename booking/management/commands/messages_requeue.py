"""Queue again the send task of every email that is due and still waiting.

For recovery: a worker killed while sending, or task rows deleted by hand, leave an email owed with
no task to send it (the task itself is written in the same transaction as the email, so a crash
after a commit cannot lose it); `make run` runs this at start.
Sending is idempotent (a row lock and the status check), so running this twice, or while workers
run, never sends an email twice.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from booking.emails.tasks import message_send
from booking.models import Message


class Command(BaseCommand):
    help = "Queue the send task again for every due email still waiting (after a crash lost its task)."

    def handle(self, *args, **options):
        # A message whose task still waits to run (e.g. a retry later on) keeps that task and its
        # backoff. A task marked running may belong to a worker that died, so it does not count.
        waiting = {
            task["args"][0]
            for task in DBTaskResult.objects.filter(
                task_path=message_send.module_path, status=TaskResultStatus.READY
            ).values_list("args_kwargs", flat=True)
            if task.get("args")
        }
        due = Message.objects.due(timezone.now()).exclude(pk__in=waiting).order_by("send_after", "pk")
        count = 0
        for message_id in due.values_list("pk", flat=True):
            message_send.enqueue(message_id)
            count += 1
        self.stdout.write(f"Queued {count} email{'' if count == 1 else 's'} again.")
