from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm


class AdminLoginForm(OTPAdminAuthenticationForm):
    """The admin login with the authenticator code (clinic/admin_site.py uses it when two-factor login is on).

    django-otp asks which device a code is from; staff enrolled with `manage.py otp_enroll` have
    exactly one, so it is chosen for them and the page stays one step: name, password, code.
    Someone with several devices picks one from the list shown after a first try.
    """

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None and not self.cleaned_data.get("otp_device"):
            devices = list(devices_for_user(user, for_verify=True))
            if len(devices) == 1:
                device = devices[0]
        return device
