import threading

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import strip_tags

from booking.links import manage_token
from booking.models import Treatment
from booking.requests.forms import start_format
from clinic.models import PrivacyNotice
from tests.booking.test_request_holds import book, confirm_path, upcoming

NEW_TEXT = "We now also keep a copy of your consent form.\n\nEverything else is as before."


def published_line(notice):
    return f"Version {notice.version}, published {dateformat.format(timezone.localtime(notice.published_at), 'j F Y')}"


@pytest.mark.django_db
def test_the_privacy_page_shows_the_current_notice_with_its_version_and_date(client):
    notice = PrivacyNotice.objects.current()
    html = client.get(reverse("privacy")).content.decode()
    assert html.count("<h1") == 1
    assert published_line(notice) in strip_tags(html)
    assert "<p>You can ask us at any time for a copy of what we hold about you" in html


@pytest.mark.django_db
def test_every_page_links_to_the_privacy_notice_and_the_sitemap_lists_it(client):
    assert f'href="{reverse("privacy")}"' in client.get(reverse("home")).content.decode()
    assert "http://testserver/privacy/" in client.get("/sitemap.xml").content.decode()


@pytest.mark.django_db
def test_without_any_notice_the_privacy_page_says_so_instead_of_failing(client):
    PrivacyNotice.objects.all().delete()
    response = client.get(reverse("privacy"))
    assert response.status_code == 200
    assert "Our privacy notice is being prepared" in response.content.decode()


@pytest.mark.django_db
def test_publishing_a_changed_notice_creates_version_2_and_keeps_version_1(admin_client, client):
    first = PrivacyNotice.objects.get(version=1)
    add_url = reverse("admin:clinic_privacynotice_add")
    assert "You can ask us at any time for a copy" in admin_client.get(add_url).content.decode()

    response = admin_client.post(add_url, {"body_en_gb": NEW_TEXT})
    assert response.status_code == 302

    second = PrivacyNotice.objects.current()
    assert second.version == 2
    assert second.body == NEW_TEXT
    assert second.published_by.username == "admin"
    unchanged = PrivacyNotice.objects.get(version=1)
    assert (unchanged.body, unchanged.published_at) == (first.body, first.published_at)

    html = client.get(reverse("privacy")).content.decode()
    assert published_line(second) in strip_tags(html)
    assert "<p>We now also keep a copy of your consent form.</p>" in html
    assert "You can ask us at any time for a copy" not in html

    changelist = admin_client.get(reverse("admin:clinic_privacynotice_changelist")).content.decode()
    assert changelist.count('class="field-version"') == 2


@pytest.mark.django_db
def test_publishing_the_same_text_again_is_refused(admin_client):
    current = PrivacyNotice.objects.current()
    response = admin_client.post(
        reverse("admin:clinic_privacynotice_add"), {"body_en_gb": current.body_en_gb, "body_fr": current.body_fr}
    )
    assert response.status_code == 200
    assert "This is the same as version 1. Change the text before publishing." in response.content.decode()
    assert PrivacyNotice.objects.count() == 1


@pytest.mark.django_db
def test_staff_cannot_edit_or_delete_a_published_version(admin_client):
    notice = PrivacyNotice.objects.current()
    change_url = reverse("admin:clinic_privacynotice_change", args=[notice.pk])

    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert 'name="body' not in page.content.decode()  # shown, not editable, in either language
    assert admin_client.post(change_url, {"body_en_gb": "Edited in place."}).status_code == 403
    assert admin_client.get(reverse("admin:clinic_privacynotice_delete", args=[notice.pk])).status_code == 403
    changelist = admin_client.get(reverse("admin:clinic_privacynotice_changelist")).content.decode()
    assert "delete_selected" not in changelist

    notice.refresh_from_db()
    assert notice.body.startswith("We ask for your name")
    assert PrivacyNotice.objects.count() == 1


@pytest.mark.django_db
def test_clinic_details_admin_groups_the_clinic_and_its_booking_rules(admin_client):
    html = admin_client.get(reverse("admin:clinic_clinicdetails_change", args=[1])).content.decode()
    clinic, rules = html.index(">Clinic</h2>"), html.index(">Booking rules</h2>")
    assert (
        clinic
        < html.index('name="opening_hours_en_gb"')
        < html.index('name="opening_hours_fr"')
        < rules
        < html.index('name="min_notice_hours"')
    )
    assert html.index('name="slot_step_minutes"') > rules


def test_staff_publishing_at_the_same_moment_get_consecutive_versions(clinic_content):
    User.objects.create_superuser("lead", "lead@example.com", "a long password for the lead")
    count = 4
    barrier, statuses = threading.Barrier(count), []

    def publish(index):
        try:
            client = Client()
            client.force_login(User.objects.get(username="lead"))
            barrier.wait()
            response = client.post(reverse("admin:clinic_privacynotice_add"), {"body_en_gb": f"Edition {index}."})
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * count
    assert sorted(PrivacyNotice.objects.values_list("version", flat=True)) == [1, 2, 3, 4, 5]
    assert sorted(PrivacyNotice.objects.exclude(version=1).values_list("body", flat=True)) == [
        f"Edition {index}." for index in range(count)
    ]


@pytest.fixture
def treatment(db):
    return Treatment.objects.get(slug="hair-loss")


def test_the_privacy_page_names_every_cookie_a_patients_visit_sets(client, treatment, practitioner):
    """A patient opens a form, books, confirms the address from the email and moves the visit; whatever cookies
    that leaves in the browser, the privacy page names each one (and the staff sign-in's)."""
    hair_loss = treatment
    client.get(reverse("booking:waitlist_join", kwargs={"treatment_slug": hair_loss.slug}))
    appointment = book(client, hair_loss, upcoming(hair_loss)[0].start)
    client.post(confirm_path(appointment))
    later = upcoming(hair_loss)[-1].start
    moved = client.post(
        reverse("booking:manage_move", kwargs={"token": manage_token(appointment=appointment)}),
        {"start": start_format(later), "practitioner": "any"},
    )
    assert moved.status_code == 303
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})  # the English / Français switch
    client.post(reverse("set_language"), {"language": "en-gb", "next": "/"})
    set_by_the_visit = set(client.cookies)
    assert {"csrftoken", "clinic_emails_ok", "messages", settings.LANGUAGE_COOKIE_NAME} <= set_by_the_visit

    page = strip_tags(client.get(reverse("privacy")).content.decode())
    assert "Cookies this site sets" in page
    listed = {name for name in set_by_the_visit | {settings.SESSION_COOKIE_NAME} if name in page}
    assert listed == set_by_the_visit | {settings.SESSION_COOKIE_NAME}
