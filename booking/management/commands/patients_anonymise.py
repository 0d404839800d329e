from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from booking.privacy import patients_anonymise_inactive


class Command(BaseCommand):
    help = (
        "Anonymise the personal data of patients whose last visit is older than CLINIC_RETENTION_DAYS, "
        "keeping the appointments' non-personal facts for statistics. Run daily; safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Override the retention period in days (default: the CLINIC_RETENTION_DAYS setting).",
        )

    def handle(self, *args, days=None, **options):
        days = settings.CLINIC_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("The retention period must be at least one day.")
        count = patients_anonymise_inactive(older_than_days=days)
        self.stdout.write(f"{count} {'patient' if count == 1 else 'patients'} anonymised (no visit for {days} days).")
