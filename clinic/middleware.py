"""Security measures for every request: the headers Django does not set, and two-factor sessions."""

from django.contrib.auth import logout

from clinic.admin_site import admin_2fa_required

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


def second_factor_required(get_response):
    """End any signed-in session that has no verified second factor while two-factor login is required.

    The admin login asks for the code itself; this covers sessions begun while the requirement
    was off and staff pages outside the admin site (``staff_member_required`` views).
    """

    def middleware(request):
        if admin_2fa_required() and request.user.is_authenticated and not request.user.is_verified():
            logout(request)
        return get_response(request)

    return middleware
