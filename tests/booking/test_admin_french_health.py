"""The admin's health questions, health answers, enquiries and patient-data pages, for a member of staff
whose browser asks for French: French from the intake catalog, and none of its English left.

The catalogs' own checks (complete, nothing repeated from the catalogs Django merges them with, French
typography) are here too, for the insights catalog as well; its page is tested in tests/insights/test_french.py.
"""

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils import timezone

from booking.intake.models import Enquiry, HealthAnswer, HealthQuestion, QuestionKind
from booking.models import Appointment, AppointmentStatus, Treatment
from tests.admin_language import french_staff  # noqa: F401
from tests.booking.test_translation import admin_form
from tests.clinic.test_templates_marked import unmarked
from tests.factories import appointment_at
from tests.french import BOOKING_CATALOG, PROJECT_CATALOG, catalog_english, catalog_entries, english_left

pytestmark = pytest.mark.django_db

BASE = Path(settings.BASE_DIR)
INTAKE_CATALOG = BASE / "booking" / "intake" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
INSIGHTS_CATALOG = BASE / "booking" / "insights" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MERGED_WITH = [
    PROJECT_CATALOG,
    BOOKING_CATALOG,
    BASE / "clinic" / "locale" / "fr" / "LC_MESSAGES" / "django.po",
    Path(django.__file__).parent / "contrib" / "admin" / "locale" / "fr" / "LC_MESSAGES" / "django.po",
]
TEMPLATES = BASE / "templates" / "admin"
MY_TEMPLATES = [
    "booking/health_answers.html",
    "booking/patient_data.html",
    "booking/patient_data_erase.html",
    "intake/enquiry/change_form.html",
    "insights/insights.html",
    "insights/bar_chart.html",
]
NO_BREAK = "\u00a0"
NARROW_NO_BREAK = "\u202f"
EMAIL = "maria.bianchi@example.com"
SECRET = "Takes SecretMedicine9 daily"


def staff(username, *, group=None, permissions=()):
    user = User.objects.create_user(username, password="a long staff password", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    user.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    return user


def fr(sentence):
    """``sentence`` typeset as the French catalogs write it: a no-break space before : and inside « », a
    narrow one before ; ? !"""
    sentence = re.sub(r" ([:»])", rf"{NO_BREAK}\1", sentence).replace("« ", f"«{NO_BREAK}")
    return re.sub(r" ([;?!])", rf"{NARROW_NO_BREAK}\1", sentence)


def text(response):
    """The page as a reader sees its text: entities decoded (Django escapes the apostrophe)."""
    return unescape(response.content.decode())


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


@pytest.fixture
def enquiry(treatment):
    enquiry = Enquiry.objects.create(
        treatment=treatment,
        first_name="Grace",
        last_name="Hopper",
        email="grace@example.com",
        phone="+442079460123",
        message="Mornings are best.",
        consent_at=timezone.now(),
    )
    HealthAnswer.objects.create(
        enquiry=enquiry,
        question_version=1,
        question_text="Are you pregnant?",
        question_kind=QuestionKind.YES_NO,
        answer="Yes",
        talk_first=True,
    )
    return enquiry


@pytest.fixture
def visit(treatment, practitioner):
    """A confirmed visit in five days, with two answers, one of them a talk-first."""
    start = datetime.combine(timezone.localdate() + timedelta(days=5), time(11), tzinfo=timezone.get_default_timezone())
    appointment = appointment_at(
        start.astimezone(UTC),
        treatment=treatment,
        practitioner=practitioner,
        status=AppointmentStatus.CONFIRMED,
        email=EMAIL,
    )
    for position, (question, kind, answer, talk_first) in enumerate(
        [
            ("Are you pregnant?", QuestionKind.YES_NO, "No", False),
            ("Any other medicines?", QuestionKind.TEXT, SECRET, True),
        ]
    ):
        HealthAnswer.objects.create(
            appointment=appointment,
            question_version=1,
            question_text=question,
            question_kind=kind,
            position=position,
            answer=answer,
            talk_first=talk_first,
        )
    return appointment


# The catalogs


@pytest.mark.parametrize("catalog", [INTAKE_CATALOG, INSIGHTS_CATALOG], ids=["intake", "insights"])
def test_the_catalog_repeats_no_message_of_the_catalogs_django_merges_it_with(catalog):
    theirs = {message for other in MERGED_WITH for message in catalog_english(other)}
    assert sorted(set(catalog_english(catalog)) & theirs) == []


# Complete and spaced as French is printed: tests/clinic/test_translations.py, which finds these catalogs too.
@pytest.mark.parametrize("catalog", [INTAKE_CATALOG, INSIGHTS_CATALOG], ids=["intake", "insights"])
def test_the_french_writes_its_apostrophes_curly(catalog):
    assert [text for *_, texts in catalog_entries(catalog) for text in texts if "'" in text] == []


def test_the_admin_templates_of_health_patient_data_and_insights_have_every_text_marked():
    # The page's CSS classes are no text.
    sources = {
        name: re.sub(r"{% block bodyclass %}.*?{% endblock %}", "", (TEMPLATES / name).read_text())
        for name in MY_TEMPLATES
    }
    assert {name: unmarked(source) for name, source in sources.items()} == dict.fromkeys(MY_TEMPLATES, [])


# Health questions and enquiries


def test_the_enquiries_list_and_its_action_speak_french(french_staff, enquiry):  # noqa: F811
    french_staff.force_login(staff("manager", group="Clinic managers"))
    changelist = reverse("admin:intake_enquiry_changelist")

    page = text(french_staff.get(changelist))
    done = french_staff.post(changelist, {"action": "handle", "_selected_action": [enquiry.pk]}, follow=True)

    assert "Demandes de rappel après les questions de santé" in page
    assert re.search(r'column-created_at[^"]*">.*?Reçue le</a>', page, re.S)
    assert "Marquer comme traitées" in page
    assert english_left(page, catalogs=[INTAKE_CATALOG]) == []
    assert "1 demande de rappel marquée comme traitée." in text(done)


def test_an_enquiry_page_speaks_french_with_its_answers(french_staff, enquiry):  # noqa: F811
    french_staff.force_login(staff("manager", group="Clinic managers"))

    page = text(french_staff.get(reverse("admin:intake_enquiry_change", args=[enquiry.pk])))

    for heading in ["Patient (tel que transmis)", "Équipe", "Suivi", "Réponses de santé"]:
        assert re.search(rf"<h2[^>]*>{re.escape(heading)}</h2>", page), heading
    assert fr("Réservé à l’équipe ; le patient ne le voit jamais.") in page
    assert '<th scope="col">Question (telle que posée)</th><th scope="col">Réponse</th>' in page
    assert "Parler d’abord au patient" in page
    assert english_left(page, catalogs=[INTAKE_CATALOG]) == []


def test_the_health_questions_of_a_treatment_speak_french_and_refuse_in_french(french_staff, treatment):  # noqa: F811
    french_staff.force_login(staff("manager", group="Clinic managers"))
    change = reverse("admin:booking_treatment_change", args=[treatment.pk])

    page = text(french_staff.get(change))
    form = admin_form(page) | {
        "health_questions-0-kind": QuestionKind.CHOICE,
        "health_questions-0-choices_en_gb": "Never",
        "health_questions-0-talk_first_answers": "",
    }
    refused = text(french_staff.post(change, form))

    assert "Questions de santé posées avant la réservation" in page
    assert '<option value="choice">Une réponse parmi plusieurs</option>' in page
    assert "Les questions aux numéros les plus petits sont posées en premier." in page
    assert fr("Réponses qui signifient « parlons-en d’abord »") in page
    assert english_left(page, catalogs=[INTAKE_CATALOG]) == []
    assert "Donnez au moins deux réponses en anglais, une par ligne." in refused
    assert HealthQuestion.objects.get(pk=form["health_questions-0-id"]).kind == QuestionKind.YES_NO


def answers_module(page):
    """The health answers' part of the appointment page (the rest of the page is the booking app's)."""
    return re.search(r'<fieldset class="module aligned health-answers-module">.*?</fieldset>', page, re.S).group()


def test_an_appointments_health_answers_speak_french_to_who_reads_them_and_to_who_may_not(
    french_staff,  # noqa: F811
    visit,
):
    page = reverse("admin:booking_appointment_change", args=[visit.pk])
    reader = staff("practitioner", group="Practitioners")
    visit.practitioner.user = reader
    visit.practitioner.save()
    french_staff.force_login(reader)
    answers = answers_module(text(french_staff.get(page)))
    french_staff.force_login(staff("reception", group="Reception"))
    count_only = answers_module(text(french_staff.get(page)))

    assert "<h2>Réponses de santé</h2>" in answers and SECRET in answers
    assert '<th scope="col">Question (telle que posée)</th>' in answers and "Parler d’abord au patient" in answers
    assert english_left(answers, catalogs=[INTAKE_CATALOG]) == []
    assert "2 réponses données. Seuls les praticiens et les membres de l’équipe autorisés" in count_only
    assert SECRET not in count_only
    assert english_left(count_only, catalogs=[INTAKE_CATALOG]) == []


# A patient's data


@pytest.fixture
def data_officer(french_staff):  # noqa: F811
    french_staff.force_login(staff("dpo", permissions=["manage_patient_data", "view_appointment"]))
    return french_staff


def test_the_patient_data_page_and_its_errors_speak_french(data_officer):
    page = reverse("admin:booking_appointment_patient_data")

    form = text(data_officer.get(page))
    unknown = text(data_officer.post(page, {"email": "nobody@example.com", "action": "export"}))

    assert fr("<h1>Données du patient : exporter ou effacer</h1>") in form
    assert "<strong>Exporter</strong> télécharge un fichier JSON" in form
    assert re.search(r'<label for="id_email"[^>]*>Adresse e-mail du patient', form)
    assert '<button type="submit" name="action" value="erase" class="deletelink">Effacer…</button>' in form
    assert english_left(form, catalogs=[INTAKE_CATALOG]) == []
    assert "Rien n’est conservé sous cette adresse e-mail" in unknown


def test_erasing_asks_and_reports_in_french(data_officer, visit):
    page = reverse("admin:booking_appointment_patient_data")

    confirm = text(data_officer.post(page, {"email": EMAIL, "action": "erase"}))
    done = data_officer.post(page, {"email": EMAIL, "action": "erase", "confirm": "on"}, follow=True)

    assert fr("<h2>Effacer les données personnelles de maria.bianchi@example.com ?</h2>") in confirm
    assert "<td>Annulé, horaire libéré</td>" in confirm
    # French days and months, in lower case: "sam 12 déc. 2026 11:00".
    assert re.search(r"<td>(lun|mar|mer|jeu|ven|sam|dim) \d{1,2} [a-zéû]+\.? \d{4} 11:00</td>", confirm)
    assert 'value="Oui, effacer"' in confirm and "Non, revenir en arrière" in confirm
    assert english_left(confirm, catalogs=[INTAKE_CATALOG]) == []
    assert fr(
        "Données personnelles effacées : 1 rendez-vous et 0 inscription sur la liste d’attente ; "
    ) + "1 rendez-vous à venir annulé." in text(done)
    assert Appointment.objects.get().status == AppointmentStatus.CANCELLED_BY_PATIENT
