"""The home, FAQ and treatment pages come from the cache, and staff edits in the admin show at once."""

import io
import time
from html import unescape

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from booking.models import Practitioner, Treatment
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
    data = {"name_en_gb": "Renamed by staff", "slug": category.slug, "position": category.position}
    response = admin_client.post(reverse("admin:faq_category_change", args=[category.pk]), data)
    assert response.status_code == 302
    assert "Renamed by staff" in page_html(client, FAQ)


def test_staff_writing_a_french_answer_in_the_admin_shows_on_the_cached_french_faq_at_once(client, admin_client):
    question = Question.objects.for_page().first()
    assert question.answer_fr in unescape(page_html(client, "/fr/faq/"))
    english = page_html(client, FAQ)
    data = {
        "category": question.category_id,
        "question_en_gb": question.question_en_gb,
        "question_fr": question.question_fr,
        "answer_en_gb": question.answer_en_gb,
        "answer_fr": "Une réponse réécrite par l’équipe.",
        "slug": question.slug,
        "position": question.position,
        "published": "on",
    }
    response = admin_client.post(reverse("admin:faq_question_change", args=[question.pk]), data)
    assert response.status_code == 302
    assert "Une réponse réécrite par l’équipe." in unescape(page_html(client, "/fr/faq/"))
    assert page_html(client, FAQ) == english


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


@pytest.fixture
def practitioner_on_treatment_page():
    """A practitioner giving "hair-loss", with no working hours (so their admin form has no inline rows)."""
    practitioner = Practitioner.objects.create(name="Dr Ada Test", bio="Ten years of mesotherapy.")
    practitioner.treatments.add(Treatment.objects.get(slug="hair-loss"))
    return practitioner


def practitioner_form(practitioner, **changes):
    """The practitioner's admin change form as staff would send it, with ``changes`` (None: a box left unticked)."""
    data = {
        "name": practitioner.name,
        "bio_en_gb": practitioner.bio,
        "treatments": [treatment.pk for treatment in practitioner.treatments.all()],
        "position": practitioner.position,
        "active": "on",
        "image_alt_en_gb": practitioner.image_alt,
        "working_hours-TOTAL_FORMS": 0,
        "working_hours-INITIAL_FORMS": 0,
        "working_hours-MIN_NUM_FORMS": 0,
        "working_hours-MAX_NUM_FORMS": 1000,
    }
    data |= changes
    return {name: value for name, value in data.items() if value is not None}


def other_treatment_only():
    return {"treatments": [Treatment.objects.active().exclude(slug="hair-loss").first().pk]}


@pytest.mark.parametrize(
    ("changes", "shown", "gone"),
    [
        (lambda: {"name": "Dr Ada Renamed"}, "Dr Ada Renamed", "Dr Ada Test"),
        (lambda: {"bio_en_gb": "Now also a dermatologist."}, "Now also a dermatologist.", "Ten years of mesotherapy."),
        (lambda: {"active": None}, None, "Dr Ada Test"),
        (other_treatment_only, None, "Dr Ada Test"),
    ],
    ids=["name", "bio", "active", "treatments"],
)
def test_staff_editing_a_practitioner_shows_on_the_cached_treatment_page_at_once(
    client, admin_client, practitioner_on_treatment_page, changes, shown, gone
):
    url = reverse("booking:treatment", kwargs={"slug": "hair-loss"})
    assert gone in page_html(client, url)
    assert gone in page_html(client, url)  # now from the cache

    change_url = reverse("admin:booking_practitioner_change", args=[practitioner_on_treatment_page.pk])
    response = admin_client.post(change_url, practitioner_form(practitioner_on_treatment_page, **changes()))
    assert response.status_code == 302

    html = page_html(client, url)
    assert gone not in html
    if shown:
        assert shown in html


def test_staff_adding_a_practitioners_photo_shows_it_resized_on_the_cached_treatment_page(
    client, admin_client, practitioner_on_treatment_page
):
    url = reverse("booking:treatment", kwargs={"slug": "hair-loss"})
    assert "Dr Ada Test" in page_html(client, url)
    buffer = io.BytesIO()
    Image.new("RGB", (1800, 2400), (200, 180, 160)).save(buffer, format="PNG")
    photo = SimpleUploadedFile("ada.png", buffer.getvalue(), content_type="image/png")
    data = practitioner_form(practitioner_on_treatment_page, image=photo, image_alt_en_gb="Dr Ada Test at the clinic")

    change_url = reverse("admin:booking_practitioner_change", args=[practitioner_on_treatment_page.pk])
    assert admin_client.post(change_url, data).status_code == 302

    practitioner_on_treatment_page.refresh_from_db()
    html = page_html(client, url)
    assert f'src="{practitioner_on_treatment_page.image.url}"' in html
    assert 'alt="Dr Ada Test at the clinic" width="1200" height="1600"' in html


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
