"""The admin site: Django's own, asking staff for a code from their authenticator app as well.

Installed as the default site (``ClinicAdminConfig`` in INSTALLED_APPS), so every ModelAdmin
registered with ``admin.site`` and every view wrapped in ``admin.site.admin_view`` is covered.
"""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


def admin_2fa_required():
    """Two-factor login is required whenever DEBUG is off, unless CLINIC_ADMIN_2FA=off says otherwise."""
    return settings.CLINIC_ADMIN_2FA and not settings.DEBUG


class ClinicAdminSite(AdminSite):
    """Like django_otp's OTPAdminSite, with the requirement decided per request (tests switch it)."""

    @property
    def login_form(self):
        if not admin_2fa_required():
            return None  # Django's own AdminAuthenticationForm
        # Imported here: this module is loaded with the app registry, before any model exists.
        from clinic.forms import AdminLoginForm

        return AdminLoginForm

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        return not admin_2fa_required() or request.user.is_verified()


class ClinicAdminConfig(AdminConfig):
    default_site = "clinic.admin_site.ClinicAdminSite"
