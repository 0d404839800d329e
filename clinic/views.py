import logging

from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from booking.models import Treatment
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
