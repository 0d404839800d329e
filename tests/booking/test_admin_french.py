"""A member of staff whose browser asks for French works in a French booking admin: the pages reception
uses every day show none of the booking catalog's English, and the reports of their actions are French.
The admin's language is the member of staff's (clinic/i18n.py: admin_language)."""

import html
import re
from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from booking.appointments.services import appointment_request
from booking.models import AppointmentStatus, Closure, Message, MessageKind, MessageStatus, Treatment
from tests import factories
from tests.booking.test_admin_workspace import RECEPTION_PERMISSIONS, page_messages, staff
from tests.french import BOOKING_CATALOG, english_left

pytestmark = pytest.mark.django_db

S = AppointmentStatus
PATIENT = {"first_name": "Maya", "last_name": "Holt", "email": "maya@example.com", "phone": "+447700900123"}
# Everything the French reception desk may do with appointments, courses and the outbox.
DESK_PERMISSIONS = [*RECEPTION_PERMISSIONS, "view_course", "view_message", "change_message", "view_waitlistentry"]


def page_text(response):
    """What the member of staff reads: the text without tags, and the attributes a screen reader gives."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL)
    read = re.findall(r'\b(?:title|aria-label|placeholder|alt|value)="([^"]*)"', body)
    text = html.unescape(" ".join([re.sub(r"<[^>]+>", " ", body), *read]))
    return re.sub(r"[ \t\r\n]+", " ", text)  # no-break spaces stay: French typography puts them


# The side bar lists every model; the health questions' admin (booking/intake) is translated with its own
# slice of the admin, and its name is a message of the patients' pages as well.
OTHER_SLICES = ["Health questions"]


def english_in(response):
    return english_left(page_text(response), catalogs=[BOOKING_CATALOG], content=OTHER_SLICES)


def local(day, hour):
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


@pytest.fixture
def desk():
    return staff("camille", DESK_PERMISSIONS, groups=["Reception"], full_name="Camille Accueil")


@pytest.fixture
def french(desk):
    """The desk's browser, which prefers French (the admin has one address and follows the browser)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    client.force_login(desk)
    return client


@pytest.fixture
def visit_day():
    day = timezone.localdate() + timedelta(days=7)
    return day + timedelta(days=(1 - day.weekday()) % 7)  # a Tuesday, a week or more ahead


@pytest.fixture
def request_(practitioner, treatment, visit_day):
    return factories.appointment_at(
        local(visit_day, 10),
        treatment=treatment,
        practitioner=practitioner,
        reference="FRAN2345",
        history=True,
        **PATIENT,
    )


def test_the_appointment_list_speaks_french(french, request_):
    response = french.get(reverse("admin:booking_appointment_changelist"))

    assert response.status_code == 200
    assert english_in(response) == []
    text = page_text(response)
    for shown in ["Réserver pour un patient", "Début (heure de la clinique)", "Confirmer les demandes sélectionnées"]:
        assert shown in text
    assert "Demandé" in text  # the request's status
    # The columns and filters named after the models' fields, not their English names.
    headers = re.findall(r'<th scope="col"[^>]*>.*?<a [^>]*>([^<]+)</a>', response.content.decode(), re.S)
    assert "Référence" in headers, headers
    assert "Reference" not in headers
    assert "Par statut" in text
    assert "By status" not in text and "Par status" not in text


def test_an_appointments_page_speaks_french(french, request_):
    response = french.get(reverse("admin:booking_appointment_change", args=[request_.pk]))

    assert response.status_code == 200
    assert english_in(response) == []
    text = page_text(response)
    for shown in ["Statut\u00a0:", "Confirmer", "Refuser…", "Patient (tel que transmis)", "Réservé à l’équipe"]:
        assert shown in text
    # The history's rows name the statuses as the page does, not by their stored codes.
    assert "Nouveau → Demandé" in text
    assert "→ requested" not in text


def test_the_phone_booking_page_speaks_french(french, practitioner, treatment):
    response = french.get(reverse("admin:booking_appointment_book"), {"treatment": treatment.pk})

    assert response.status_code == 200
    assert english_in(response) == []
    text = page_text(response)
    for shown in ["1. Soin et praticien", "3. Le patient", "Langue du patient", "Réserver sous forme de demande"]:
        assert shown in text


def test_a_phone_booking_sent_empty_says_what_is_missing_in_french(french, practitioner, treatment):
    response = french.post(f"{reverse('admin:booking_appointment_book')}?treatment={treatment.pk}", {})

    assert response.status_code == 400
    assert english_in(response) == []
    text = page_text(response)
    assert "Le rendez-vous n’est pas encore réservé\u00a0:" in text
    assert "Saisissez le prénom du patient." in text


def test_the_agenda_speaks_french(french, request_, practitioner, visit_day):
    Closure.objects.create(
        practitioner=practitioner, starts_at=local(visit_day, 15), ends_at=local(visit_day, 16), reason="Training"
    )
    response = french.get(reverse("booking_agenda"), {"date": visit_day.isoformat(), "practitioner": practitioner.pk})

    assert response.status_code == 200
    assert english_in(response) == []
    text = page_text(response)
    for shown in ["Feuille du jour à imprimer", "Dates de l’agenda", "Absence\u00a0: Training", "Libre ("]:
        assert shown in text
    assert "mardi" in text  # the day's name, from Django's own French


def test_the_course_plan_speaks_french(french, practitioner, treatment, visit_day):
    first = factories.appointment_at(
        local(visit_day, 10),
        treatment=treatment,
        practitioner=practitioner,
        status=S.CONFIRMED,
        consent_at=timezone.now(),
        **PATIENT,
    )
    plan = {"sessions": "4", "interval_weeks": "1", "weekday": "1", "preferred_time": "10:00"}
    response = french.get(reverse("admin:booking_course_plan", args=[first.pk]), plan)

    assert response.status_code == 200
    assert english_in(response) == []
    text = page_text(response)
    for shown in ["Nombre de séances", "Dates proposées", "toutes les dates sont libres", "3 nouvelles séances"]:
        assert shown in text
    assert "Au total, cette séance comprise (de 2 à 30)." in text  # the help, translated when shown


def test_the_outbox_speaks_french(french, working_every_day, treatment):
    working_every_day(treatment)
    day = timezone.localdate() + timedelta(days=3)
    appointment = appointment_request(treatment=treatment, start=local(day, 10), patient=PATIENT)
    Message.objects.filter(appointment=appointment, kind=MessageKind.REQUEST_RECEIVED).update(
        status=MessageStatus.FAILED, attempts=8, last_error="SMTPServerDisconnected"
    )
    response = french.get(reverse("admin:booking_message_changelist"))

    assert response.status_code == 200
    assert english_in(response) == []
    text = page_text(response)
    for shown in ["Demande reçue", "Échec (abandonné)", "Renvoyer les e-mails en échec sélectionnés"]:
        assert shown in text


def test_confirming_from_the_list_reports_in_french(french, request_, practitioner, treatment, visit_day):
    taken = factories.appointment_at(
        local(visit_day, 14), treatment=treatment, practitioner=practitioner, status=S.CONFIRMED, reference="DONE2345"
    )
    response = french.post(
        reverse("admin:booking_appointment_changelist"),
        {"action": "confirm", "_selected_action": [request_.pk, taken.pk], "index": 0},
        follow=True,
    )

    assert page_messages(response) == ["1 confirmé\u202f; 1 ignoré\u00a0: DONE2345 est déjà confirmé."]
    request_.refresh_from_db()
    assert request_.status == S.CONFIRMED


def test_a_declined_request_asks_its_reason_in_french_then_reports_in_french(french, request_):
    url = reverse("admin:booking_appointment_status", args=[request_.pk, "decline"])
    asked = french.get(url)

    assert english_in(asked) == []
    assert "Motif (le patient le lira)" in page_text(asked)
    done = french.post(url, {"reason": "Le praticien est absent ce jour-là."}, follow=True)
    assert page_messages(done) == ["FRAN2345 refusé."]


def test_the_language_cookie_alone_gives_the_french_admin(desk, request_):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    client.force_login(desk)
    response = client.get(reverse("admin:booking_appointment_changelist"))

    assert "Réserver pour un patient" in page_text(response)
    assert english_in(response) == []


@pytest.fixture
def french_manager(admin_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "booking_treatment_changelist",
        "booking_practitioner_changelist",
        "booking_closure_changelist",
        "booking_closure_add",
        "booking_waitlistentry_changelist",
        "booking_course_changelist",
    ],
)
def test_the_calendars_and_waitlists_pages_speak_french(french_manager, practitioner, name):
    response = french_manager.get(reverse(f"admin:{name}"))

    assert response.status_code == 200
    assert english_in(response) == []


def test_a_treatments_and_a_practitioners_page_speak_french(french_manager, practitioner, treatment):
    treatment_page = french_manager.get(reverse("admin:booking_treatment_change", args=[treatment.pk]))
    practitioner_page = french_manager.get(reverse("admin:booking_practitioner_change", args=[practitioner.pk]))

    # The page shows the clinic's English texts beside the French: the seed's aftercare speaks of a
    # "course of treatment", and a health question's English help says "Leave it empty…".
    content = [*OTHER_SLICES, "course of treatment", "Leave it empty if there is nothing to say"]
    assert english_left(page_text(treatment_page), catalogs=[BOOKING_CATALOG], content=content) == []
    assert "Temps laissé libre après la séance" in page_text(treatment_page)
    assert english_in(practitioner_page) == []
    assert "Seuls les praticiens actifs peuvent être réservés." in page_text(practitioner_page)


def test_a_courses_page_shows_its_progress_in_french(french, practitioner, treatment, visit_day, desk):
    first = factories.appointment_at(
        local(visit_day, 10), treatment=treatment, practitioner=practitioner, status=S.CONFIRMED, **PATIENT
    )
    plan = {"sessions": "2", "interval_weeks": "1", "weekday": "1", "preferred_time": "10:00"}
    url = reverse("admin:booking_course_plan", args=[first.pk])
    proposals = french.get(url, plan).context["rows"]
    booked = french.post(url, {**plan, "session_2": proposals[1]["choices"][0]["value"]}, follow=True)

    assert page_messages(booked) == [
        "Série de 2 séances réservée. Le patient recevra un seul e-mail qui les récapitule toutes."
    ]
    assert english_left(page_text(booked), catalogs=[BOOKING_CATALOG], content=OTHER_SLICES) == []
    assert "effectuées\u00a0: 0, à venir\u00a0: 2, annulées\u00a0: 0" in page_text(booked)


def test_the_appointment_export_is_the_same_file_from_a_french_admin(french, desk, request_):
    english = Client()
    english.force_login(desk)
    export = reverse("admin:booking_appointment_export")
    request_.treatment.name_fr = "Chute des cheveux"
    request_.treatment.save()

    from_french, from_english = french.get(export), english.get(export)

    assert from_french.status_code == from_english.status_code == 200
    rows = from_french.content.decode("utf-8-sig").splitlines()
    assert rows == from_english.content.decode("utf-8-sig").splitlines()
    assert "Requested" in rows[1] and "Demandé" not in rows[1]
    assert request_.treatment.name_en_gb in rows[1] and "Chute des cheveux" not in rows[1]
