"""Delete old emails and finished background tasks: the outbox keeps CLINIC_MESSAGE_RETENTION_DAYS."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from booking.emails.outbox import messages_prune


class Command(BaseCommand):
    help = (
        "Delete emails (sent, failed or not needed) and finished background task rows older than "
        "CLINIC_MESSAGE_RETENTION_DAYS; emails still owed are kept. Run daily; safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Override the retention period in days (default: the CLINIC_MESSAGE_RETENTION_DAYS setting).",
        )

    def handle(self, *args, days=None, **options):
        days = settings.CLINIC_MESSAGE_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("The retention period must be at least one day.")
        emails, tasks = messages_prune(older_than_days=days)
        self.stdout.write(
            f"Deleted {emails} email{'' if emails == 1 else 's'} and {tasks} finished "
            f"task{'' if tasks == 1 else 's'} older than {days} days."
        )
