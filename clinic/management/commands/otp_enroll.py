from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Enrol a staff member for two-factor login: create their authenticator (TOTP) device and print "
        "the otpauth:// provisioning URI to add to an authenticator app."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Remove the staff member's existing authenticator devices first (a lost or new phone).",
        )

    @transaction.atomic
    def handle(self, *args, username, replace, **options):
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_staff:
            raise CommandError(f"{username!r} is not a staff member; only staff sign in to the admin.")
        existing = TOTPDevice.objects.filter(user=user)
        if existing.exists() and not replace:
            raise CommandError(
                f"{username!r} already has an authenticator device. "
                "Use --replace to remove it and enrol a new one (the old codes stop working)."
            )
        existing.delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        self.stdout.write(f"Two-factor login enrolled for {username}. Add this to their authenticator app:")
        self.stdout.write(device.config_url)
        self.stdout.write("Treat it like a password: anyone who has it can make this account's codes.")
