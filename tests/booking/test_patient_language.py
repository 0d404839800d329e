"""The language a patient books in stays with the booking: its emails, links and calendar files use it,
whoever sends them and whatever language the staff member's admin is in."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from booking.appointments.services import appointment_transition
from booking.emails.outbox import message_resend
from booking.links import manage_token
from booking.models import Appointment, AppointmentStatus, Message, MessageKind, MessageStatus, Treatment
from booking.requests.botcheck import form_token
from booking.requests.forms import start_format
from booking.waitlist.services import waitlist_claim
from clinic.models import ClinicDetails
from tests.booking.test_messages import send_due
from tests.factories import answers_fine
from tests.public_pages import DETAILS_TYPED, booked, separate_starts, waitlist_offer

pytestmark = pytest.mark.django_db

SITE = "https://clinic.example"


@pytest.fixture(autouse=True)
def site(settings):
    settings.CLINIC_SITE_URL = SITE


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


@pytest.fixture
def starts(treatment):
    return separate_starts(treatment, 3)


def book_online(client, treatment, start, *, prefix=""):
    url = prefix + reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    data = {"start": start_format(start), "practitioner": "any", "started": form_token(), **DETAILS_TYPED}
    response = client.post(url, {**data, **answers_fine()})
    assert response.status_code == 303, response.content.decode()[:2000]
    return Appointment.objects.get(email=DETAILS_TYPED["email"], starts_at=start)


def site_links(email):
    return re.findall(rf"{re.escape(SITE)}(/[^\s\"<>]*)", email.body)


def test_a_booking_made_on_the_french_pages_is_french(client, treatment, starts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book_online(client, treatment, starts[0], prefix="/fr")
    assert appointment.language == "fr"


def test_a_booking_made_on_the_english_pages_is_english(client, treatment, starts):
    assert book_online(client, treatment, starts[0]).language == "en-gb"


def test_a_french_patients_emailed_links_open_the_french_pages(client, treatment, starts):
    book_online(client, treatment, starts[0], prefix="/fr")
    # Sent by the worker, which speaks the site's language.
    with translation.override("en-gb"):
        sent = send_due()
    links = site_links(sent[MessageKind.REQUEST_RECEIVED])
    assert links, sent[MessageKind.REQUEST_RECEIVED].body
    assert all(link.startswith("/fr/") for link in links), links


def test_the_clinic_hears_of_a_french_booking_in_its_own_language(treatment, starts):
    clinic = ClinicDetails.objects.current()
    clinic.notification_email = "desk@clinic.example"
    clinic.save()
    appointment = booked(treatment, starts[0], email="fr@example.com")
    Appointment.objects.filter(pk=appointment.pk).update(language="fr")
    email = send_due()[MessageKind.CLINIC_NEW_REQUEST]
    assert email.subject.startswith("New appointment request")
    assert site_links(email) and not any(link.startswith("/fr/") for link in site_links(email))


def test_an_english_patients_links_stay_english_when_staff_work_in_french(treatment, starts, admin_user):
    appointment = booked(treatment, starts[0], email="en@example.com")
    send_due()
    mail.outbox.clear()
    # A member of staff whose admin is in French confirms it.
    with translation.override("fr"):
        appointment_transition(appointment=appointment, to_status=AppointmentStatus.CONFIRMED, by=admin_user)
        sent = send_due()
    links = site_links(sent[MessageKind.CONFIRMED])
    assert links and not any(link.startswith("/fr/") for link in links), links


def test_send_again_from_the_outbox_keeps_the_patients_language(client, treatment, starts):
    appointment = book_online(client, treatment, starts[0], prefix="/fr")
    message = appointment.messages.get(kind=MessageKind.REQUEST_RECEIVED)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED, attempts=8)
    with translation.override("en-gb"):
        message_resend(message_id=message.pk)
        sent = send_due()
    assert all(link.startswith("/fr/") for link in site_links(sent[MessageKind.REQUEST_RECEIVED]))


def test_reception_books_a_caller_in_the_language_they_speak(admin_client, treatment, starts):
    from tests.booking.test_admin_workspace import phone_booking_data

    url = reverse("admin:booking_appointment_book") + f"?treatment={treatment.pk}"
    response = admin_client.post(url, phone_booking_data(starts[0], language="fr"))
    assert response.status_code == 302
    appointment = Appointment.objects.get(starts_at=starts[0])
    assert appointment.language == "fr"


def test_a_waitlist_place_taken_in_french_books_a_french_appointment(treatment, starts):
    entry = waitlist_offer(treatment, starts[1])
    entry.language = "fr"
    entry.save()
    appointment = waitlist_claim(entry=entry, start=starts[1])
    assert appointment.language == "fr"


def test_a_browser_that_prefers_french_opens_an_english_bookings_link_in_english(client, treatment, starts):
    appointment = booked(treatment, starts[0], email="en@example.com")
    link = reverse("booking:manage", kwargs={"token": manage_token(appointment=appointment)})
    response = client.get(link, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "en-gb"
    # The rest of the site still follows the browser.
    assert urlsplit(client.get("/faq/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")["Location"]).path == "/fr/faq/"


def test_the_calendar_file_of_a_french_booking_is_french_from_the_english_page(client, treatment, starts):
    appointment = booked(treatment, starts[0], email="fr@example.com")
    Appointment.objects.filter(pk=appointment.pk).update(language="fr")
    link = reverse("booking:manage_calendar", kwargs={"token": manage_token(appointment=appointment)})
    ics = client.get(link).content.decode()
    assert "SUMMARY:Rendez-vous" in ics, ics
    assert f"DESCRIPTION:Référence {appointment.reference}." in ics
