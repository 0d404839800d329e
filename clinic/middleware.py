"""Security measures for every request: the headers Django does not set, and two-factor sessions."""

import logging

import csp.constants
import csp.middleware
import csp.utils
from django.conf import settings
from django.contrib.auth import logout
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from clinic.admin_site import admin_2fa_required
from clinic.two_factor.services import enrolment_pending

logger = logging.getLogger(__name__)

# Features this site never uses, refused to the page and to anything it might embed. Only names
# browsers recognise: an unknown one (interest-cohort) is reported as an error in the console.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


def security_headers(get_response):
    """Permissions-Policy and Cross-Origin-Resource-Policy, which Django's SecurityMiddleware lacks."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response

    return middleware


# Form bodies Django can read; it refuses any other declared charset (RFC 1866 says UTF-8).
FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
FORM_CHARSETS = {"utf-8", "utf8"}


def form_charset_refused(get_response):
    """Answer 400 to a form whose body declares a charset other than UTF-8, before anything reads it.

    Django raises BadRequest when request.POST is read; its 400 handler then reads request.POST
    again (for the CSRF token) and the second raise became a 500 with a traceback in the log.
    """

    def middleware(request):
        charset = request.content_params.get("charset", "utf-8").strip().lower()
        if request.content_type in FORM_CONTENT_TYPES and charset not in FORM_CHARSETS:
            request._post, request._files = QueryDict(), MultiValueDict()  # nothing after this reads the body
            logger.warning("Form body in charset %.20r refused", charset)
            return render(request, "400.html", status=400)
        return get_response(request)

    return middleware


def second_factor_required(get_response):
    """End any signed-in session that has no verified second factor while two-factor login is required.

    The admin login asks for the code itself; this covers sessions begun while the requirement
    was off and staff pages outside the admin site (``staff_member_required`` views). Staff who
    signed in with the password and have no second factor yet may only set one up.
    """

    def middleware(request):
        # Without a session cookie nobody is signed in: asking would load an empty session and
        # mark it accessed, and a page built after that is never shared from the page cache.
        if (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            and admin_2fa_required()
            and request.user.is_authenticated
            and not request.user.is_verified()
        ):
            if not enrolment_pending(request.user):
                logout(request)
            elif request.path not in {reverse("two_factor_enrol"), reverse("admin:logout")}:
                # A password alone, and no second factor yet: the enrolment page and nothing else.
                return redirect("two_factor_enrol")
        return get_response(request)

    return middleware


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the site's one policy built once per process.

    django-csp builds the header from the settings twice on every response (the policy and the
    report-only one); on a page served from the cache that was a fifth of the request's time.
    A response or request with anything of its own (a decorator's override, a nonce) and any
    report-only policy or excluded prefix still go through django-csp unchanged.
    """

    _policy = None

    def process_response(self, request, response):
        own = any(getattr(response, name, None) is not None for name in RESPONSE_OVERRIDES)
        if own or getattr(request, "_csp_nonce", None) is not None or not site_policy_only() or settings.DEBUG:
            # django-csp also leaves Django's own debug pages (404, 500 with DEBUG on) without the header.
            return super().process_response(request, response)
        if CSPMiddleware._policy is None:
            CSPMiddleware._policy = csp.utils.build_policy()
        if csp.constants.HEADER not in response and CSPMiddleware._policy:
            response[csp.constants.HEADER] = CSPMiddleware._policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = csp.middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response


RESPONSE_OVERRIDES = tuple(
    f"_csp_{kind}{suffix}" for kind in ("config", "update", "replace", "exempt") for suffix in ("", "_ro")
)


def site_policy_only():
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    return not getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) and not policy.get("EXCLUDE_URL_PREFIXES")


@receiver(setting_changed)
def _policy_reset(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        CSPMiddleware._policy = None
