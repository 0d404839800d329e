"""Every response the site sends carries its security headers, and its error pages give nothing away.

The walk covers every route in the URLconf: a new route without a sample address here fails
the walk, so the headers are checked on every page, present and future.
"""

import re
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import OperationalError, connection
from django.test import Client
from django.urls import URLResolver, get_resolver, path, reverse
from django.utils import timezone

import clinic.urls
from booking.appointments.services import appointment_request
from booking.links import confirmation_token, email_confirm_token, manage_token, waitlist_claim_token
from booking.models import Treatment, WaitlistEntry, WaitlistStatus
from booking.requests.forms import start_format
from clinic.models import PrivacyNotice
from faq.models import Question
from tests.factories import authenticator_code

pytestmark = pytest.mark.django_db

# What the proxy in front of the site tells Django about a request that came in over HTTPS.
OVER_HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}
STAFF_PASSWORD = "a-long-staff-password-9183"
SERVER_ERROR_TEXT = "Sorry, something went wrong on our side"


def boom(request):
    raise RuntimeError("forced failure: SECRET_KEY and DATABASES must not show")


# This module is also the URLconf of the tests that need a page that fails.
urlpatterns = [path("test-only/boom/", boom), *clinic.urls.urlpatterns]


@pytest.fixture
def production(settings):
    """The settings DJANGO_HTTPS=1 gives (tests/clinic/test_deploy_check.py runs the real switch)."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    return settings


def local(days_ahead, hour):
    day = timezone.localdate() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone()).astimezone(UTC)


@pytest.fixture
def site(django_user_model, working_every_day):
    """Something behind every kind of page: a bookable practitioner, an appointment, a waitlist offer, staff."""
    treatment = Treatment.objects.get(slug="hair-loss")
    practitioner = working_every_day(treatment, name="Dr Walk")
    patient = {
        "first_name": "Ada",
        "last_name": "Walker",
        "email": "ada@example.com",
        "phone": "+442079460000",
        "message": "",
        "first_visit": True,
    }
    appointment = appointment_request(
        treatment=treatment, start=local(3, 10), practitioner=practitioner, patient=patient
    )
    entry = WaitlistEntry.objects.create(
        treatment=treatment,
        date_from=timezone.localdate(local(4, 10)),
        date_to=timezone.localdate(local(4, 10)),
        first_name="Wait",
        last_name="Ing",
        email="wait@example.com",
        phone="+442079460001",
        consent_at=timezone.now(),
        privacy_notice=PrivacyNotice.objects.current(),
        status=WaitlistStatus.OFFERED,
        offered_start=local(4, 10),
        offered_at=timezone.now(),
    )
    staff = django_user_model.objects.create_superuser("walker", "walker@example.com", STAFF_PASSWORD)
    return SimpleNamespace(
        treatment=treatment,
        practitioner=practitioner,
        appointment=appointment,
        entry=entry,
        staff=staff,
        question=Question.objects.first(),
        free_start=local(5, 11),
    )


def site_routes(patterns=None, prefix="", namespace=""):
    """(name, pattern) of every route in the site's URLconf; the admin site's own are walked by hand below."""
    patterns = get_resolver("clinic.urls").url_patterns if patterns is None else patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from site_routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            route = prefix + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route


def sample_urls(site):
    """An address for each route that takes arguments, pointing at something that exists."""
    treatment = {"treatment_slug": site.treatment.slug}
    manage = {"token": manage_token(appointment=site.appointment)}
    return {
        "faq:preview": reverse("faq:preview", args=[site.question.pk]),
        "booking:treatment": reverse("booking:treatment", args=[site.treatment.slug]),
        "booking:times": reverse("booking:times", kwargs=treatment),
        "booking:details": reverse("booking:details", kwargs=treatment)
        + f"?start={start_format(site.free_start)}&practitioner=any",
        "booking:done": reverse("booking:done", kwargs={"token": confirmation_token(appointment=site.appointment)}),
        "booking:email_confirm": reverse(
            "booking:email_confirm", kwargs={"token": email_confirm_token(appointment=site.appointment)}
        ),
        "booking:manage": reverse("booking:manage", kwargs=manage),
        "booking:manage_cancel": reverse("booking:manage_cancel", kwargs=manage),
        "booking:manage_move": reverse("booking:manage_move", kwargs=manage),
        "booking:manage_calendar": reverse("booking:manage_calendar", kwargs=manage),
        "booking:waitlist_join": reverse("booking:waitlist_join", kwargs=treatment),
        "booking:enquiry_sent": reverse("booking:enquiry_sent", kwargs=treatment),
        "booking:waitlist_claim": reverse(
            "booking:waitlist_claim", kwargs={"token": waitlist_claim_token(entry=site.entry)}
        ),
        "^media/(?P<path>.*)$": "/media/no-such-image.jpg",
        "theme_css": reverse("theme_css", args=["0b5c6b"]),
    }


# The status each page answers in the walk, so a header check never passes on an error page by mistake.
# The sample appointment's address is confirmed already: its link shows where the request stands.
# The language switch answers a GET by going back to the page (it changes the language on POST only).
EXPECTED_STATUS = {"set_language": 302, "faq:preview": 302, "booking:email_confirm": 303, "^media/(?P<path>.*)$": 404}

# Staff who have a second factor are sent on from its set-up page, and there are no new codes to download.
STAFF_EXPECTED_STATUS = {"two_factor_enrol": 302, "two_factor_recovery_codes_download": 302}


def walk(site):
    """(what, client, method, url, data, expected status) for every response the site can give."""
    visitor = Client(raise_request_exception=False, headers={"X-Forwarded-Proto": "https"})
    staff = Client(raise_request_exception=False, headers={"X-Forwarded-Proto": "https"})
    refusing = Client(enforce_csrf_checks=True, headers={"X-Forwarded-Proto": "https"})
    samples = sample_urls(site)
    steps, missing = [], []
    for name, route in site_routes():
        if name in samples:
            url = samples[name]
        elif ("<" in route) or ("(" in route):
            missing.append(name)
            continue
        else:
            url = reverse(name)
        if route.startswith("admin/"):
            steps.append((f"{name} (visitor)", visitor, "get", url, None, 302))
            continue
        steps.append((name, visitor, "get", url, None, EXPECTED_STATUS.get(name, 200)))
    assert not missing, f"Routes with no sample address in this walk (add them to sample_urls): {missing}"

    details = reverse("booking:details", kwargs={"treatment_slug": site.treatment.slug})
    admin_login = reverse("admin:login")
    steps += [
        ("booking details with bad input", visitor, "post", details, {"first_name": ""}, 400),
        ("a form sent without its CSRF token", refusing, "post", details, {"first_name": "x"}, 403),
        ("a page that does not exist", visitor, "get", "/no-such-page/", None, 404),
        ("a page that fails", visitor, "get", "/test-only/boom/", None, 500),
        ("a static file", visitor, "get", django_settings.STATIC_URL + "css/site.css", None, 200),
        ("the site icon", visitor, "get", "/favicon.ico", None, 200),
        ("admin login page", staff, "get", admin_login, None, 200),
        ("admin login, wrong password", staff, "post", admin_login, {"username": "walker", "password": "no"}, 200),
        (
            "admin login",
            staff,
            "post",
            admin_login,
            {
                "username": "walker",
                "password": STAFF_PASSWORD,
                "otp_token": authenticator_code(User.objects.get(username="walker")),
            },
            302,
        ),
        ("admin index", staff, "get", reverse("admin:index"), None, 200),
        ("admin list", staff, "get", reverse("admin:booking_appointment_changelist"), None, 200),
        ("admin change page", staff, "get", reverse("admin:faq_question_change", args=[site.question.pk]), None, 200),
        ("FAQ preview for staff", staff, "get", samples["faq:preview"], None, 200),
    ]
    steps += [
        (f"{name} (staff)", staff, "get", reverse(name), None, STAFF_EXPECTED_STATUS.get(name, 200))
        for name, route in site_routes()
        if route.startswith("admin/") and "<" not in route
    ]
    steps.append(("admin logout", staff, "post", reverse("admin:logout"), {}, 200))
    return steps


def header_problems(response, *, document=True):
    """What is wrong with one response's security headers, as readable sentences."""
    headers = response.headers
    problems = []
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    for directive, value in {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }.items():
        if directives.get(directive) != value:
            problems.append(f"CSP {directive} is {directives.get(directive)}, not {value}")
    if "unsafe-" in csp:
        problems.append(f"CSP allows something unsafe: {csp}")
    expected = {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if document:
        # Static files are never framed documents; frame-ancestors covers them anyway.
        expected["X-Frame-Options"] = "DENY"
    for name, value in expected.items():
        if headers.get(name) != value:
            problems.append(f"{name} is {headers.get(name)!r}, not {value!r}")
    if headers.get("Referrer-Policy") not in {"same-origin", "no-referrer"}:
        problems.append(f"Referrer-Policy is {headers.get('Referrer-Policy')!r}")
    permissions = headers.get("Permissions-Policy", "")
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        if f"{feature}=()" not in permissions:
            problems.append(f"Permissions-Policy does not refuse {feature}: {permissions!r}")
    for name in ("Server", "X-Powered-By"):
        if name in headers:
            problems.append(f"{name} header sent: {headers[name]!r}")
    for cookie in response.cookies.values():
        if not cookie.value:
            continue  # a deletion: nothing left to protect
        for flag, wanted in (("secure", True), ("httponly", True), ("samesite", "Lax")):
            if cookie[flag] != wanted:
                problems.append(f"cookie {cookie.key} has {flag}={cookie[flag]!r}, not {wanted!r}")
    return problems


@pytest.mark.urls(__name__)
def test_every_page_carries_the_security_headers(production, site):
    problems, cookies_seen = [], set()
    for what, client, method, url, data, status in walk(site):
        response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
        if response.status_code != status:
            problems.append(f"{what} {url}: answered {response.status_code}, expected {status}")
        problems += [
            f"{what} {url}: {problem}"
            for problem in header_problems(response, document=what not in ("a static file", "the site icon"))
        ]
        cookies_seen |= {cookie.key for cookie in response.cookies.values() if cookie.value}
    assert problems == []
    # The cookie checks above did see the site's cookies.
    assert {django_settings.SESSION_COOKIE_NAME, django_settings.CSRF_COOKIE_NAME} <= cookies_seen


def test_plain_http_is_redirected_to_https_except_the_health_check(production):
    response = Client().get("/faq/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/faq/"
    assert Client().get("/healthz").status_code == 200


def test_the_patient_link_pages_keep_their_stricter_referrer_policy(production, site):
    url = reverse("booking:manage", kwargs={"token": manage_token(appointment=site.appointment)})
    assert Client().get(url, **OVER_HTTPS)["Referrer-Policy"] == "no-referrer"


# Error pages


def assert_reveals_nothing(html):
    for leak in ("Traceback", "RuntimeError", "OperationalError", "SECRET_KEY", "DATABASES", "urlpatterns"):
        assert leak not in html
    if len(django_settings.SECRET_KEY) >= 16:  # a toy key like "x" would match any page
        assert django_settings.SECRET_KEY not in html


def test_an_unknown_address_gets_the_sites_own_404_without_details():
    response = Client().get("/no-such-page/<b>probe</b>/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "We could not find that page" in html
    assert "<b>probe" not in html  # the address is never echoed unescaped
    assert "Using the URLconf" not in html and "Request Method" not in html
    assert_reveals_nothing(html)


@pytest.mark.urls(__name__)
def test_a_failing_page_gets_the_sites_own_500_without_a_traceback():
    response = Client(raise_request_exception=False).get("/test-only/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert SERVER_ERROR_TEXT in html
    assert "forced failure" not in html
    assert_reveals_nothing(html)


def test_the_error_page_still_renders_when_the_database_is_down():
    def database_down(execute, sql, params, many, context):
        raise OperationalError("could not connect to server: Connection refused")

    with connection.execute_wrapper(database_down):
        response = Client(raise_request_exception=False).get(reverse("home"))
    html = response.content.decode()
    # A lost database is the 503 page ("try again in a minute"), not the 500 page (clinic.views.server_error).
    assert response.status_code == 503
    assert "The site is briefly unavailable" in html
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert_reveals_nothing(html)


# The policy in a real browser: nothing the site or the admin needs is refused


@pytest.mark.browser
def test_the_site_and_the_admin_work_under_the_content_security_policy(page, clinic_content, django_user_model):
    django_user_model.objects.create_superuser("csp", "csp@example.com", STAFF_PASSWORD)
    question = Question.objects.first()
    treatment = Treatment.objects.get(slug="hair-loss")
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text or "Permissions-Policy" in message.text
            else None
        ),
    )

    def visit(url):
        response = page.goto(url)
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")

    for url in ("/", "/faq/", "/treatments/hair-loss/", "/book/", "/contact/"):
        visit(url)
    # The booking form: Bootstrap draws a ticked checkbox with a data: image.
    visit("/book/hair-loss/")
    first_time = page.locator("input[name=start]").first
    page.locator(f"label[for='{first_time.get_attribute('id')}']").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("checkbox", name=re.compile("I agree")).check()
    page.wait_for_load_state("networkidle")

    visit("/admin/login/")
    page.get_by_label("Username").fill("csp")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(authenticator_code(User.objects.get(username="csp")))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    visit(f"/admin/booking/treatment/{treatment.pk}/change/")
    # The admin's scripts ran: the many-to-many field became its two-list chooser.
    assert page.locator(".selector-available").count() == 1
    visit(f"/admin/faq/question/{question.pk}/change/")
    page.get_by_role("button", name="Save and continue editing").click()
    page.wait_for_load_state("networkidle")
    assert "was changed successfully" in page.content()
    assert refused == []


def test_the_csp_header_is_the_same_on_every_page_and_left_off_debug_pages(client, settings):
    policies = {client.get(url).headers.get("Content-Security-Policy") for url in ("/", "/faq/", "/no-such-page/")}
    assert len(policies) == 1 and "default-src 'self'" in policies.pop()

    # Django's debug pages style themselves inline: as django-csp does, they go without the policy.
    settings.DEBUG = True
    assert "Content-Security-Policy" not in client.get("/no-such-page/").headers
