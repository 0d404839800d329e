"""The clinic's details, the home page and the privacy notice in French: what staff wrote in French,
else their English."""

import re
from html import unescape

import pytest
from django.urls import reverse

from clinic.models import ClinicDetails, PrivacyNotice

pytestmark = pytest.mark.django_db


def text_of(response):
    assert response.status_code == 200
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_the_french_home_page_shows_the_treatments_in_french(client):
    text = text_of(client.get("/fr/"))

    assert "Chute des cheveux" in text and "Réduction de la cellulite" in text
    assert "Dissoudre les amas graisseux localisés sans chirurgie" in text
    assert "Hair loss" not in text


@pytest.mark.parametrize(
    ("hours_fr", "shown"),
    [("Du lundi au vendredi, de 9 h à 18 h", "Du lundi au vendredi, de 9 h à 18 h"), ("", "Mon–Fri 9:00–18:00")],
    ids=["written in French", "French left blank"],
)
def test_the_french_pages_show_the_opening_hours_in_french_or_else_in_english(client, hours_fr, shown):
    ClinicDetails.objects.filter(pk=1).update(opening_hours_en_gb="Mon–Fri 9:00–18:00", opening_hours_fr=hours_fr)

    for page in ("/fr/contact/", "/fr/"):
        assert shown in text_of(client.get(page)), page
    assert "Mon–Fri 9:00–18:00" in text_of(client.get("/contact/"))


def test_one_copy_of_the_clinics_details_serves_both_languages(client):
    ClinicDetails.objects.filter(pk=1).update(opening_hours_en_gb="Mon–Fri 9:00–18:00", opening_hours_fr="Lun.–ven.")

    # The details are read once per content version and kept: each page reads them in its own language.
    assert "Mon–Fri 9:00–18:00" in text_of(client.get("/contact/"))
    assert "Lun.–ven." in text_of(client.get("/fr/contact/"))
    assert "Mon–Fri 9:00–18:00" in text_of(client.get("/faq/"))


def test_the_french_privacy_page_shows_the_notice_in_french(client):
    french = text_of(client.get("/fr/privacy/"))
    english = text_of(client.get("/privacy/"))

    assert "Vos données ne sont vues que par le personnel de la clinique." in french
    assert "Your details are seen only by the clinic" not in french
    assert "Your details are seen only by the clinic" in english


def test_a_notice_changed_only_in_french_is_published_as_a_new_version(admin_client, client):
    current = PrivacyNotice.objects.current()
    data = {"body_en_gb": current.body_en_gb, "body_fr": current.body_fr + "\n\nNous répondons sous un mois."}

    response = admin_client.post(reverse("admin:clinic_privacynotice_add"), data)

    assert response.status_code == 302
    assert PrivacyNotice.objects.current().version == 2
    assert "Nous répondons sous un mois." in text_of(client.get("/fr/privacy/"))
    assert PrivacyNotice.objects.get(version=1).body_fr == current.body_fr
