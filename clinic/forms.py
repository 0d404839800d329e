from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_static.models import StaticDevice

from clinic.two_factor.services import second_factor_enrolled

# Authenticator codes are six digits; recovery codes are letters and digits (django-otp's static tokens).
AUTHENTICATOR_CODE_LENGTH = 6
INVALID_CODE = _(
    "That code is not right, or was used already. Enter the code your app shows now, or an unused recovery code."
)


class AdminLoginForm(OTPAdminAuthenticationForm):
    """The admin login with the authenticator code (clinic/admin_site.py uses it when two-factor login is on).

    django-otp asks which device a code is from. Staff have one authenticator and one set of
    recovery codes, so the code's shape chooses: six digits are from the app, anything else is a
    recovery code. Someone with several authenticators picks one from the list shown after a first try.
    A staff member with no second factor yet signs in with the password alone, to the enrolment
    page only (clinic/middleware.py). A wrong code counts as a failed login for the lockout.
    """

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "invalid_token": INVALID_CODE,
    }

    def clean_otp(self, user):
        if user is not None and not second_factor_enrolled(user):
            return  # enrolment comes next (ClinicAdminSite.login)
        try:
            super().clean_otp(user)
        except ValidationError:
            # django-axes counts user_login_failed: a wrong code locks out like a wrong password.
            user_login_failed.send(
                sender=__name__, credentials={"username": self.cleaned_data.get("username")}, request=self.request
            )
            raise

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None and not self.cleaned_data.get("otp_device"):
            token = "".join(str(self.cleaned_data.get("otp_token") or "").split())
            self.cleaned_data["otp_token"] = token
            if token.isdigit() and len(token) == AUTHENTICATOR_CODE_LENGTH:
                devices = [d for d in devices_for_user(user, for_verify=True) if not isinstance(d, StaticDevice)]
                if len(devices) == 1:
                    device = devices[0]
            else:
                device = StaticDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:
            # Locked until clean_otp's transaction ends: one code cannot sign in twice at the same moment.
            device = type(device).objects.select_for_update().get(pk=device.pk)
        return device
