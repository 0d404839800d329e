"""The admin site: Django's own, asking staff for a code from their authenticator app as well.

Installed as the default site (``ClinicAdminConfig`` in INSTALLED_APPS), so every ModelAdmin
registered with ``admin.site`` and every view wrapped in ``admin.site.admin_view`` is covered.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.core import signing
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp import DEVICE_ID_SESSION_KEY

from clinic.ratelimit import ratelimit_hit, ratelimit_response

# A browser that signed in fully (password and code) as a user name is known for that name: the
# limit on one name's attempts from all addresses (a slow, spread-out guesser) does not hold it up.
KNOWN_BROWSER_COOKIE = "clinic_admin_known"
KNOWN_BROWSER_SALT = "clinic.admin.known-browser"
KNOWN_BROWSER_AGE = timedelta(days=90)


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

    def login(self, request, extra_context=None):
        """Django's login, with a limit on attempts at one user name from every address together.

        django-axes locks a name for one address; this slows a guesser who spreads over many. The
        window is short (CLINIC_ADMIN_LOGIN_PER_USERNAME), so an attacker cannot keep staff out for
        long, and a browser that has signed in as that name before is never held up by it.
        """
        username = str(request.POST.get("username", "")).strip().lower()[:150] if request.method == "POST" else ""
        if username and not browser_known(request, username):
            limited = ratelimit_hit(scope="admin_login", kind="username", value=username)
            if limited is not None:
                return ratelimit_response(request, limited=limited)
        response = super().login(request, extra_context)
        signed_in = response.status_code == 302 and request.user.is_authenticated
        # django-otp keeps the verified device in the session (set when a right code signed in).
        if signed_in and admin_2fa_required() and DEVICE_ID_SESSION_KEY not in request.session:
            # The password was right and there is no second factor yet: setting one up comes first.
            return redirect("two_factor_enrol")
        # The login view redirects only once the password and, where required, the code were right.
        if username and signed_in:
            response.set_cookie(
                KNOWN_BROWSER_COOKIE,
                signing.dumps(name_digest(username), salt=KNOWN_BROWSER_SALT),
                max_age=int(KNOWN_BROWSER_AGE.total_seconds()),
                path=self._admin_path(),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def _admin_path(self):
        return reverse(f"{self.name}:index")

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        return not admin_2fa_required() or request.user.is_verified()


def name_digest(username):
    return salted_hmac(KNOWN_BROWSER_SALT, username, algorithm="sha256").hexdigest()


def browser_known(request, username):
    """This browser signed in fully as ``username`` within KNOWN_BROWSER_AGE (a cookie the site signed)."""
    try:
        digest = signing.loads(
            request.COOKIES.get(KNOWN_BROWSER_COOKIE, ""), salt=KNOWN_BROWSER_SALT, max_age=KNOWN_BROWSER_AGE
        )
    except signing.BadSignature:
        return False
    return isinstance(digest, str) and constant_time_compare(digest, name_digest(username))


class ClinicAdminConfig(AdminConfig):
    default_site = "clinic.admin_site.ClinicAdminSite"
