from django.core.management.base import BaseCommand

from booking.waitlist.services import waitlist_expire


class Command(BaseCommand):
    help = "Mark waitlist entries whose last day has passed as expired. Run daily (e.g. from cron)."

    def handle(self, *args, **options):
        count = waitlist_expire()
        self.stdout.write(f"{count} waitlist {'entry' if count == 1 else 'entries'} expired.")
