"""The home and FAQ pages come from the cache, and staff edits in the admin show at once."""

import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import Treatment
from clinic import cache as cache_module
from clinic.cache import clinic_details
from clinic.models import ClinicDetails
from faq.models import Question

pytestmark = pytest.mark.django_db

FAQ = "/faq/"


def page_html(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_staff_unpublishing_a_question_in_the_admin_removes_it_from_the_cached_faq_at_once(client, admin_client):
    question = Question.objects.published().first()
    assert question.question in page_html(client, FAQ)
    assert question.question in page_html(client, FAQ)  # now from the cache

    admin_client.post(
        reverse("admin:faq_question_changelist"),
        {"action": "unpublish", "_selected_action": [question.pk]},
    )

    assert question.question not in page_html(client, FAQ)


def test_staff_renaming_a_category_in_the_admin_shows_on_the_faq_at_once(client, admin_client):
    question = Question.objects.for_page().first()
    category = question.category
    page_html(client, FAQ)
    data = {"name": "Renamed by staff", "slug": category.slug, "position": category.position}
    response = admin_client.post(reverse("admin:faq_category_change", args=[category.pk]), data)
    assert response.status_code == 302
    assert "Renamed by staff" in page_html(client, FAQ)


def test_staff_renaming_a_treatment_in_the_list_shows_on_the_cached_home_page_at_once(client, admin_client):
    treatment = Treatment.objects.active().first()
    assert treatment.name in page_html(client, "/")
    assert treatment.name in page_html(client, "/")
    # list_editable: the same save_model path as the change form, one row at a time.
    treatments = list(Treatment.objects.all())
    data = {"form-TOTAL_FORMS": len(treatments), "form-INITIAL_FORMS": len(treatments), "_save": "Save"}
    for index, row in enumerate(treatments):
        data |= {f"form-{index}-id": row.pk, f"form-{index}-position": row.position, f"form-{index}-active": "on"}
    data[f"form-{treatments.index(treatment)}-active"] = ""
    response = admin_client.post(reverse("admin:booking_treatment_changelist"), data)
    assert response.status_code == 302
    assert f">{treatment.name}<" not in page_html(client, "/")


def test_staff_editing_the_clinic_details_changes_the_cached_pages_footer(client, admin_client):
    ClinicDetails.objects.current().save()
    page_html(client, "/")
    details = clinic_details()
    data = {
        field: getattr(details, field)
        for field in (
            "address",
            "phone",
            "email",
            "opening_hours",
            "min_notice_hours",
            "booking_horizon_days",
            "slot_step_minutes",
            "self_service_cutoff_hours",
            "reminder_hours",
            "notification_email",
        )
    }
    data["name"] = "Harley Street Mesotherapy"
    response = admin_client.post(reverse("admin:clinic_clinicdetails_change", args=[1]), data)
    assert response.status_code == 302
    assert "Harley Street Mesotherapy" in page_html(client, "/")


def test_a_signed_in_visitor_gets_a_freshly_rendered_page(client, admin_client):
    page_html(client, FAQ)
    Question.objects.update(question="Changed behind the cache's back")
    assert "Changed behind the cache" not in page_html(client, FAQ)  # cached, as designed
    assert "Changed behind the cache" in page_html(admin_client, FAQ)


def test_the_cached_page_is_the_same_page_with_the_same_security_headers(client):
    first = client.get("/")
    again = client.get("/")
    assert again.content == first.content
    # Served before most middleware run: every header the rendered page had, and no other.
    assert {k: v for k, v in again.headers.items() if k != "X-Request-ID"} == {
        k: v for k, v in first.headers.items() if k != "X-Request-ID"
    }
    assert again["X-Frame-Options"] == "DENY"
    assert int(again["Content-Length"]) == len(again.content)
    assert "csrfmiddlewaretoken" not in first.content.decode()
    assert "Set-Cookie" not in again.headers


def test_with_the_shared_database_cache_a_page_served_again_costs_at_most_the_version_read(
    client, settings, monkeypatch
):
    db_cache = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "clinic_cache_default"}
    settings.CACHES = {**settings.CACHES, "default": db_cache}
    for url in ("/", FAQ):
        page_html(client, url)
        with CaptureQueriesContext(connection) as queries:
            page_html(client, url)
        assert len(queries) == 0, [q["sql"] for q in queries]
        # Once the worker's copy of the version is older than the check interval: one small read.
        monkeypatch.setattr(cache_module, "VERSION_CHECK_SECONDS", 0)
        with CaptureQueriesContext(connection) as queries:
            page_html(client, url)
        assert len(queries) == 1, [q["sql"] for q in queries]
        assert "clinic_cache_default" in queries[0]["sql"]
        monkeypatch.undo()


def test_an_edit_saved_by_another_worker_shows_once_this_worker_checks_the_version(client, monkeypatch):
    question = Question.objects.published().first()
    assert question.question in page_html(client, FAQ)
    Question.objects.filter(pk=question.pk).update(published=False)
    # Another worker's content_changed(): the shared version moves, this worker's copy does not know yet.
    cache.set(cache_module.VERSION_KEY, "saved-elsewhere", None)
    assert question.question in page_html(client, FAQ)
    monkeypatch.setattr(cache_module.memory, "checked", time.monotonic() - cache_module.VERSION_CHECK_SECONDS)
    assert question.question not in page_html(client, FAQ)
