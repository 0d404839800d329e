from django.core.management.base import BaseCommand

from booking.requests.services import requests_expire_due


class Command(BaseCommand):
    help = (
        "Expire online requests whose hold ran out (address not confirmed, or not answered in time), "
        "free their times and tell the patients. The worker does this at each request's moment; "
        "this catches any it missed. Safe to run at any time, and twice."
    )

    def handle(self, *args, **options):
        count = requests_expire_due()
        self.stdout.write(f"{count} request{'' if count == 1 else 's'} expired.")
