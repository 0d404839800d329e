"""Staff set up and look after their own second factor: enrolment, recovery codes, a lost phone."""

from base64 import b32encode

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib import admin, messages
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login

from clinic.admin_site import admin_2fa_required
from clinic.ratelimit import ratelimit_hit, ratelimit_response
from clinic.two_factor.forms import AuthenticatorCodeForm, PasswordCheckForm
from clinic.two_factor.services import (
    authenticator_confirm,
    authenticator_start,
    recovery_codes_left,
    recovery_codes_make,
    second_factor_enrolled,
    second_factor_remove,
)

# The codes just made, kept in the (server-side) session until staff say they have saved them.
CODES_SESSION_KEY = "clinic_recovery_codes"


def page_context(request, title, *, signed_in=True):
    context = {**admin.site.each_context(request), "title": title}
    if not signed_in:
        # No second factor yet: no links to admin pages this session cannot open.
        context.update(has_permission=False, is_nav_sidebar_enabled=False, available_apps=[])
    return context


@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request):
    """The authenticator's QR code and secret, then its first code; after it, the recovery codes."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if second_factor_enrolled(user):
        return redirect("two_factor_manage")
    device = authenticator_start(user=user)
    form = AuthenticatorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        credentials = {"username": user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return get_lockout_response(request, None, credentials)
        limited = ratelimit_hit(scope="two_factor_enrol", kind="username", value=user.get_username().lower())
        if limited is not None:
            return ratelimit_response(request, limited=limited)
        allowed, _ = device.verify_is_allowed()
        codes = authenticator_confirm(device=device, token=form.cleaned_data["otp_token"]) if allowed else None
        if codes is not None:
            otp_login(request, device)
            request.session[CODES_SESSION_KEY] = codes
            return redirect("two_factor_recovery_codes")
        # A wrong code counts towards the lockout like a wrong password, and so does one sent too soon.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if allowed:
            form.add_error(
                "otp_token",
                gettext("That code is not right. Check the app shows this site, then enter the code it shows now."),
            )
        else:
            # django-otp's own throttle: each wrong code doubles the wait before the next try.
            form.add_error(
                "otp_token", gettext("Too many wrong codes just now. Wait a few seconds, then enter the code again.")
            )
    secret = b32encode(device.bin_key).decode().rstrip("=")
    context = {
        **page_context(request, gettext("Set up two-factor sign-in"), signed_in=False),
        "form": form,
        "qr_code": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=4),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
    }
    return render(request, "admin/two_factor/enrol.html", context, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """The recovery codes just made, shown until staff say they have kept them."""
    if request.method == "POST":
        request.session.pop(CODES_SESSION_KEY, None)
        messages.success(request, gettext("Two-factor sign-in is set up. Keep your recovery codes somewhere safe."))
        return redirect("admin:index")
    context = {
        **page_context(request, gettext("Your recovery codes")),
        "codes": request.session.get(CODES_SESSION_KEY),
    }
    return render(request, "admin/two_factor/recovery_codes.html", context)


@never_cache
@require_http_methods(["GET"])
def recovery_codes_download(request):
    codes = request.session.get(CODES_SESSION_KEY)
    if not codes:
        return redirect("two_factor_recovery_codes")
    site = request.get_host()
    heading = gettext("Recovery codes for %(username)s at %(site)s. Each works once.") % {
        "username": request.user.get_username(),
        "site": site,
    }
    text = heading + "\n\n" + "\n".join(codes)
    response = HttpResponse(text + "\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="recovery-codes.txt"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request):
    """Staff's own second factor: new recovery codes, or removing a lost authenticator (password first)."""
    form = PasswordCheckForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["action"] == "new_codes":
            request.session[CODES_SESSION_KEY] = recovery_codes_make(user=request.user)
            return redirect("two_factor_recovery_codes")
        second_factor_remove(user=request.user)
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        if not admin_2fa_required():
            messages.success(request, gettext("Your authenticator and recovery codes are removed."))
            return redirect("admin:index")
        return redirect("two_factor_enrol")
    context = {
        **page_context(request, gettext("Two-factor sign-in")),
        "form": form,
        "enrolled": second_factor_enrolled(request.user),
        "codes_left": recovery_codes_left(user=request.user),
        "failed_action": form.data.get("action") if form.errors else None,
    }
    return render(request, "admin/two_factor/manage.html", context, status=400 if form.errors else 200)
