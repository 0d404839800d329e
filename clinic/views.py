import logging

from django.db import DatabaseError, connection
from django.db.models import Case, F, Min, When
from django.db.models.functions import Greatest
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult, get_date_max

from booking.models import Message, Treatment
from clinic.models import PrivacyNotice
from faq.models import Question

logger = logging.getLogger(__name__)


@require_safe
def home(request):
    treatments = list(Treatment.objects.active())
    intro = Question.objects.for_page().first()
    return render(request, "clinic/home.html", {"treatments": treatments, "intro": intro})


@require_safe
def contact(request):
    return render(request, "clinic/contact.html")


@require_safe
def privacy(request):
    return render(request, "clinic/privacy.html", {"notice": PrivacyNotice.objects.current()})


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
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
