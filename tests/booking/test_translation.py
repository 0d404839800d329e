"""The clinic's treatments and health questions in French on French pages, the English where French is
still blank, and the answers a patient reading French gives stored as the English ones."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from booking.intake.models import HealthAnswer, HealthQuestion, QuestionKind
from booking.models import Appointment, Practitioner, Treatment
from booking.schedule.availability import first_day_today, free_slots
from tests.booking.test_intake import answers, details, first_yes_no, url
from tests.booking.test_messages import send_due
from tests.booking.test_patient_language import book_online, starts  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


@pytest.fixture
def slot(treatment, practitioner):
    today = first_day_today()
    return free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(days=7))[0]


@pytest.fixture
def questions(treatment):
    return list(HealthQuestion.objects.asked_for(treatment))


def text_of(response):
    # Plain spaces only: the no-break spaces of French typography are part of what the patient reads.
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_the_french_treatment_page_shows_the_clinics_french_texts(client, treatment):
    text = text_of(client.get("/fr" + reverse("booking:treatment", kwargs={"slug": treatment.slug})))

    assert "Chute des cheveux" in text
    assert "Contre la chute des cheveux, le mélange est injecté dans le cuir chevelu" in text
    assert "Hair loss" not in text and "delivered to the scalp" not in text


def test_the_english_treatment_page_stays_in_english(client, treatment):
    text = text_of(client.get(reverse("booking:treatment", kwargs={"slug": treatment.slug})))

    assert "Hair loss" in text and "delivered to the scalp" in text
    assert "Chute des cheveux" not in text


def test_the_french_booking_page_lists_the_treatments_by_their_french_names(client):
    text = text_of(client.get("/fr" + reverse("booking:book")))

    for name in ["Chute des cheveux", "Réduction de la cellulite", "Rajeunissement du visage et du cou"]:
        assert name in text
    assert "Cellulite reduction" not in text


def test_a_treatment_not_yet_in_french_shows_its_english_text_on_the_french_page(client, treatment):
    Treatment.objects.filter(pk=treatment.pk).update(name_fr="", description_fr=None)

    text = text_of(client.get("/fr" + reverse("booking:treatment", kwargs={"slug": treatment.slug})))

    assert "Hair loss" in text and "delivered to the scalp" in text
    assert "Buvez beaucoup d’eau pendant toute la durée du traitement" in text  # the aftercare, written in French


@pytest.mark.parametrize(
    ("bio_fr", "shown"), [("Dix ans de mésothérapie.", "Dix ans de mésothérapie."), ("", "Ten years of mesotherapy.")]
)
def test_a_practitioners_bio_is_shown_in_french_where_written_and_in_english_where_not(
    client, treatment, bio_fr, shown
):
    ada = Practitioner.objects.create(name="Dr Ada Test", bio_en_gb="Ten years of mesotherapy.", bio_fr=bio_fr)
    ada.treatments.add(treatment)

    assert shown in text_of(client.get("/fr" + reverse("booking:treatment", kwargs={"slug": treatment.slug})))


def test_the_health_questions_are_asked_in_french_with_french_answers(client, treatment, slot, questions):
    response = client.post("/fr" + url(treatment), details(slot))
    html = response.content.decode()

    assert response.status_code == 200
    text = text_of(response)
    assert "Êtes-vous enceinte, essayez-vous de le devenir, ou allaitez-vous\u202f?" in text
    assert "N’arrêtez jamais un médicament de vous-même" in text
    assert "Are you pregnant" not in text
    # The patient reads « Oui » and « Non »; the form sends the English answer.
    assert len(re.findall(r'value="Yes"[^>]*>\s*<label[^>]*>\s*Oui\s*</label>', html)) == 4
    assert len(re.findall(r'value="No"[^>]*>\s*<label[^>]*>\s*Non\s*</label>', html)) == 4


def test_a_french_patients_answers_are_stored_in_english_beside_the_question_they_read(
    client, treatment, slot, questions
):
    data = {**details(slot), "step": "questions", **answers(questions)}

    response = client.post("/fr" + url(treatment), data)

    assert response.status_code == 303
    stored = list(Appointment.objects.get().health_answers.all())
    assert stored[0].question_text.startswith("Êtes-vous enceinte")
    assert {answer.answer for answer in stored if answer.question_kind == QuestionKind.YES_NO} == {"No"}


def test_a_french_yes_that_means_talk_first_books_nothing(client, treatment, slot, questions):
    data = {**details(slot), "step": "questions", **answers(questions, **{first_yes_no(questions): "Yes"})}

    response = client.post("/fr" + url(treatment), data)

    assert response.status_code == 200
    assert Appointment.objects.count() == 0 and HealthAnswer.objects.count() == 0
    assert "Parlons-en d’abord" in text_of(response)


@pytest.fixture
def how_often(treatment):
    return HealthQuestion.objects.create(
        treatment=treatment,
        position=1,
        text_en_gb="How often have you had mesotherapy?",
        text_fr="Combien de fois avez-vous eu une séance de mésothérapie ?",
        kind=QuestionKind.CHOICE,
        choices_en_gb="Never\nOnce\nOften",
        choices_fr="Jamais\nUne fois\nSouvent",
        talk_first_answers="Often",
    )


def test_a_choice_is_read_in_french_and_stored_and_compared_in_english(client, treatment, slot, how_often):
    questions = list(HealthQuestion.objects.asked_for(treatment))
    page = "/fr" + url(treatment)
    html = client.post(page, details(slot)).content.decode()
    assert re.search(r'value="Often"[^>]*>\s*<label[^>]*>\s*Souvent\s*</label>', html)
    assert "Combien de fois avez-vous eu une séance de mésothérapie" in html

    data = {**details(slot), "step": "questions", **answers(questions, **{f"health-{how_often.pk}": "Often"})}
    response = client.post(page, data)

    assert response.status_code == 200
    assert "Parlons-en d’abord" in text_of(response)  # "talk to us first", though the patient read « Souvent »
    assert Appointment.objects.count() == 0


def test_french_choices_that_do_not_match_the_english_are_refused_and_never_shown(how_often):
    how_often.choices_fr = "Jamais\nSouvent"
    with pytest.raises(ValidationError) as refused:
        how_often.clean()
    assert "choices_fr" in refused.value.message_dict

    with translation.override("fr"):
        assert how_often.answer_labels() == [("Never", "Never"), ("Once", "Once"), ("Often", "Often")]


def test_a_french_booking_is_confirmed_with_the_french_before_the_visit_text(client, treatment, starts):  # noqa: F811
    book_online(client, treatment, starts[0], prefix="/fr")

    sent = send_due()

    body = "\n".join(message.body for message in sent.values())
    assert "crème anesthésiante locale trente minutes avant votre séance" in body
    assert "local anaesthetic cream" not in body


def admin_form(html):
    """The admin change form's fields as the page fills them in."""
    form = dict(re.findall(r'<input type="(?:text|number|hidden)" name="([^"]+)" value="([^"]*)"', html))
    form |= dict(re.findall(r'<textarea name="([^"]+)"[^>]*>\n?([^<]*)</textarea>', html))
    form |= dict(re.findall(r'<select name="([^"]+)"[^>]*>.*?<option value="([^"]*)" selected', html, re.S))
    form = {name: unescape(value) for name, value in form.items()}
    return form | dict.fromkeys(re.findall(r'<input type="checkbox" name="([^"]+)"[^>]*checked', html), "on")


def test_a_choice_question_written_only_in_french_is_refused_on_its_english_answers(admin_client, treatment):
    change = reverse("admin:booking_treatment_change", args=[treatment.pk])
    form = admin_form(admin_client.get(change).content.decode())
    form |= {
        "health_questions-0-kind": QuestionKind.CHOICE,
        "health_questions-0-choices_en_gb": "",
        "health_questions-0-choices_fr": "Jamais\nSouvent",
        "health_questions-0-talk_first_answers": "",
    }

    response = admin_client.post(change, form)

    assert response.status_code == 200
    assert "Give at least two answers in English, one per line." in response.content.decode()
    assert HealthQuestion.objects.get(pk=form["health_questions-0-id"]).kind == QuestionKind.YES_NO
