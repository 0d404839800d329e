"""A staff member's second factor: the authenticator app (TOTP) and the single-use recovery codes.

Both are django-otp devices. An authenticator stays unconfirmed until its first code is right;
recovery codes are one StaticDevice whose tokens are deleted as they are used.
"""

from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def second_factor_enrolled(user):
    """The user has a confirmed authenticator or recovery codes, so a password alone never signs them in."""
    return any(True for _ in devices_for_user(user, confirmed=True))


def enrolment_pending(user):
    """Staff signed in with the password who have no second factor yet: they may set one up, nothing else."""
    return user.is_active and user.is_staff and not second_factor_enrolled(user)


def authenticator_start(*, user):
    """The unconfirmed authenticator this user is setting up: the same secret on every showing of the page."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def authenticator_confirm(*, device, token):
    """Confirm ``device`` with its first code; the new recovery codes, or None when the code is wrong.

    The device's row is locked, so two sends of one code cannot both confirm it.
    """
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk, confirmed=False).first()
        if locked is None:
            return None
        allowed, _ = locked.verify_is_allowed()
        if not allowed or not locked.verify_token(token):
            return None
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user_id=locked.user_id).exclude(pk=locked.pk).delete()
        codes = recovery_codes_make(user=locked.user)
    device.refresh_from_db()
    return codes


def recovery_codes_make(*, user):
    """A new set of recovery codes for ``user``; any earlier set stops working."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(*, user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_remove(*, user):
    """Remove the user's authenticators and recovery codes: their next sign-in enrols anew after the password."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
