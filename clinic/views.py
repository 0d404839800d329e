import logging
import sys

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Case, F, Min, When
from django.db.models.functions import Greatest
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_safe
from django.views.defaults import server_error as django_server_error
from django.views.static import serve
from django_tasks_db.models import DBTaskResult, get_date_max

from booking.models import Message, Treatment
from booking.requests.views import KNOWN_EMAILS_AGE, KNOWN_EMAILS_COOKIE
from clinic.cache import cached_page
from clinic.models import PrivacyNotice
from clinic.theme import theme_css as theme_css_text
from faq.models import Question

logger = logging.getLogger(__name__)


@require_safe
@cached_page
def home(request):
    treatments = list(Treatment.objects.active())
    intro = Question.objects.for_page().first()
    return render(request, "clinic/home.html", {"treatments": treatments, "intro": intro})


@require_safe
def media_file(request, path):
    # MEDIA_ROOT read on each request, not once when the URLs load, so the address follows the setting.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


@require_safe
def theme_css(request, colour):
    """The accent colour as CSS custom properties. The address names the colour, so it never changes."""
    response = HttpResponse(theme_css_text(accent=f"#{colour}"), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@require_safe
def contact(request):
    return render(request, "clinic/contact.html")


def _days(count):
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def site_cookies():
    """Every cookie the site itself may set, as the privacy page lists them: (name, who gets it, what for, how long).
    The clinic's notice is its own text; this list follows the code, so it stays true when the code changes."""
    minutes = settings.SESSION_COOKIE_AGE // 60
    return [
        (
            settings.CSRF_COOKIE_NAME,
            _("Anyone who opens a form"),
            _("Proves that a form sent to us was filled in on this site, not on another one."),
            _days(settings.CSRF_COOKIE_AGE // 86400),
        ),
        (
            KNOWN_EMAILS_COOKIE,
            _("A patient who confirmed an email address from our link"),
            _(
                "Remembers, on this device only, that you confirmed your address, so you are not asked again. "
                "It holds a scrambled code made from the address, never the address itself."
            ),
            _days(KNOWN_EMAILS_AGE.days),
        ),
        (
            CookieStorage.cookie_name,
            _("A patient who has just moved or cancelled a visit"),
            _("Carries the one-line note that says it is done to the next page, which removes it."),
            _("Until that page is shown"),
        ),
        (
            settings.LANGUAGE_COOKIE_NAME,
            _("A visitor who chose a language with the English / Français switch"),
            _("Remembers the language you chose, so the site opens in it next time."),
            _days(settings.LANGUAGE_COOKIE_AGE // 86400),
        ),
        (
            settings.SESSION_COOKIE_NAME,
            _("The clinic's staff, once signed in to the admin"),
            _("Keeps a staff member signed in."),
            ngettext("%(count)d minute without activity", "%(count)d minutes without activity", minutes)
            % {"count": minutes},
        ),
    ]


@require_safe
def privacy(request):
    context = {"notice": PrivacyNotice.objects.current(), "cookies": site_cookies()}
    return render(request, "clinic/privacy.html", context)


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        # The first booking step is a public page (it is in the sitemap); the steps after it are
        # one patient's choices, not pages to index.
        "Allow: /book/$",
        "Disallow: /book/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@never_cache
@require_safe
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("Health check: the database does not answer.")
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


# While PostgreSQL restarts, how long a client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 30
# SQLSTATE classes and codes that mean "no usable connection": 08 connection exception,
# 57P01-57P03 admin or crash shutdown and "cannot connect now" (the server is starting up).
CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def database_unreachable(error):
    """True when ``error`` means the database cannot be reached, not that a query was wrong.

    Client-side failures (refused, closed, reset) carry no SQLSTATE; an error the server sent
    about a query (a lock timeout, a cancelled statement, a constraint) does, and stays a 500.
    """
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return sqlstate is None or sqlstate.startswith(CONNECTION_SQLSTATES)


@requires_csrf_token
def server_error(request):
    """handler500: a database that does not answer gets the 503 page with Retry-After; anything else, the 500 page."""
    error = sys.exc_info()[1]
    if not database_unreachable(error):
        return django_server_error(request)
    # Like 500.html, rendered without a request context: nothing in it may touch the database.
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    # One warning line per request instead of Django's error with a traceback (which would also be
    # mailed to DJANGO_ADMINS, once per request, for as long as the database is away): an outage
    # is the monitoring's news (/healthz), not a bug report.
    logger.warning("The database does not answer: the 503 page was sent.")
    response._has_been_logged = True  # django.utils.log.log_response then skips it
    return response


def seconds_since(moment, now):
    return max(0, int((now - moment).total_seconds())) if moment else 0


@never_cache
@require_safe
def readyz(request):
    """Ready for traffic when the database answers, with how long the oldest waiting work has waited.

    The ages are for monitoring: a stopped task worker shows as a growing age. They never turn
    the answer into a 503, so a stuck queue does not take a working site out of a load balancer.
    Counts and ages only; nothing about any patient.
    """
    now = timezone.now()
    # A task waits from when it could first run: enqueued, or its run_after if that came later.
    due_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")),
        default=Greatest("enqueued_at", "run_after"),
    )
    try:
        oldest_task = DBTaskResult.objects.ready().aggregate(oldest=Min(due_since))["oldest"]
        oldest_message = Message.objects.due(now).aggregate(oldest=Min("send_after"))["oldest"]
    except DatabaseError:
        logger.warning("Readiness check: the database does not answer.")
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
            "oldest_task_age_seconds": seconds_since(oldest_task, now),
            "oldest_message_age_seconds": seconds_since(oldest_message, now),
        }
    )
