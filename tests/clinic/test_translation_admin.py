"""Staff edit each text in English and French one under the other, and see what is not yet in French
(and so shows in English on French pages): a "French" column, a filter, and a warning on the record."""

import re
from html import unescape
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from booking.intake.models import HealthQuestion
from booking.models import Treatment
from clinic.images import alt_required
from clinic.models import ClinicDetails
from clinic.typography import french_typography
from faq.models import Question

pytestmark = pytest.mark.django_db

QUESTIONS = reverse("admin:faq_question_changelist")


def cells(html, column):
    """The text of each row's cell in ``column`` (its field-... class) of an admin list."""
    found = re.findall(rf'<td class="field-{column}[^"]*">(.*?)</td>', html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in found]


def warnings(html):
    return [unescape(text).strip() for text in re.findall(r'<li class="warning">(.*?)</li>', html, re.S)]


def test_the_question_list_says_the_seed_questions_are_written_in_french(admin_client):
    html = admin_client.get(QUESTIONS).content.decode()

    assert re.search(r'<th scope="col" class="column-french_status">\s*<div class="text"><span>French</span>', html)
    assert cells(html, "french_status") == ["Written"] * 5


def test_the_question_list_marks_a_question_whose_french_is_missing(admin_client):
    Question.objects.filter(slug="procedure").update(answer_fr="")
    Question.objects.filter(slug="aftercare-and-recovery").update(question_fr="", answer_fr=None)

    statuses = cells(admin_client.get(QUESTIONS).content.decode(), "french_status")

    assert sorted(statuses) == sorted(
        ["Written"] * 3 + ["Missing – English shown for: answer", "Missing – English shown"]
    )


def test_staff_can_list_only_the_questions_still_to_translate(admin_client):
    Question.objects.filter(slug="procedure").update(answer_fr="")

    html = admin_client.get(QUESTIONS, {"french": "missing"}).content.decode()
    assert cells(html, "french_status") == ["Missing – English shown for: answer"]
    assert "What is the procedure of Mesotherapy?" in html

    written = admin_client.get(QUESTIONS, {"french": "written"}).content.decode()
    assert len(cells(written, "french_status")) == 4


def test_a_question_edited_in_english_and_french_one_under_the_other(admin_client):
    question = Question.objects.get(slug="procedure")
    html = admin_client.get(reverse("admin:faq_question_change", args=[question.pk])).content.decode()

    names = re.findall(r'name="((?:question|answer)_(?:en_gb|fr))"', html)
    assert names == ["question_en_gb", "question_fr", "answer_en_gb", "answer_fr"]
    assert warnings(html) == []


def test_the_page_of_a_question_missing_its_french_says_the_english_is_shown(admin_client):
    question = Question.objects.get(slug="procedure")
    Question.objects.filter(pk=question.pk).update(answer_fr="")

    html = admin_client.get(reverse("admin:faq_question_change", args=[question.pk])).content.decode()

    assert warnings(html) == ["Not yet in French: answer. French pages show the English text until you write it."]


def test_staff_saving_a_question_with_its_french_left_blank_see_the_french_page_show_english(admin_client, client):
    question = Question.objects.get(slug="procedure")
    data = {
        "category": question.category_id,
        "question_en_gb": question.question_en_gb,
        "question_fr": "",
        "answer_en_gb": question.answer_en_gb,
        "answer_fr": "",
        "slug": question.slug,
        "position": question.position,
        "published": "on",
    }
    response = admin_client.post(reverse("admin:faq_question_change", args=[question.pk]), data)
    assert response.status_code == 302

    page = client.get("/fr/faq/").content.decode()
    assert "What is the procedure of Mesotherapy?" in page
    assert cells(admin_client.get(QUESTIONS).content.decode(), "french_status").count("Missing – English shown") == 1


def test_a_new_questions_address_is_made_from_its_english_title(admin_client):
    html = admin_client.get(reverse("admin:faq_question_add")).content.decode()

    assert "&quot;dependency_list&quot;: [&quot;question_en_gb&quot;]" in html


def test_the_treatment_list_and_page_mark_what_is_missing_in_french(admin_client):
    treatment = Treatment.objects.get(slug="hair-loss")
    Treatment.objects.filter(pk=treatment.pk).update(aftercare_fr="")
    HealthQuestion.objects.create(treatment=treatment, position=99, text_en_gb="Do you smoke?", kind="yes_no")

    listed = admin_client.get(reverse("admin:booking_treatment_changelist")).content.decode()
    page = admin_client.get(reverse("admin:booking_treatment_change", args=[treatment.pk])).content.decode()

    assert sorted(cells(listed, "french_status")) == ["Missing – English shown for: aftercare"] + ["Written"] * 3
    assert warnings(page) == [
        "Not yet in French: aftercare, 1 health question(s) (below). French pages show the English text until "
        "you write it."
    ]
    assert 'name="health_questions-0-text_fr"' in page


def test_the_clinic_details_mark_opening_hours_not_yet_in_french(admin_client):
    ClinicDetails.objects.filter(pk=1).update(opening_hours_en_gb="Mon–Fri 9:00–18:00")

    listed = admin_client.get(reverse("admin:clinic_clinicdetails_changelist")).content.decode()
    page = admin_client.get(reverse("admin:clinic_clinicdetails_change", args=[1])).content.decode()

    assert cells(listed, "french_status") == ["Missing – English shown"]  # the one text written in English
    assert "Not yet in French: opening hours." in warnings(page)[0]
    assert 'name="opening_hours_fr"' in page and 'name="home_photo_alt_fr"' in page


def test_the_french_starting_texts_use_french_typography():
    assert french_typography("Des bleus ? Oui : c'est « normal » ; buvez !") == (
        "Des bleus\u202f? Oui\u00a0: c\u2019est «\u00a0normal\u00a0»\u202f; buvez\u202f!"
    )


def test_a_question_needs_its_english_text_while_its_french_may_wait(admin_client):
    category = Question.objects.first().category
    data = {"category": category.pk, "slug": "new-question", "position": 9, "published": "on"}
    add = reverse("admin:faq_question_add")

    refused = admin_client.post(add, {**data, "question_fr": "Combien de séances ?", "answer_fr": "Une dizaine."})
    assert refused.status_code == 200
    assert refused.content.decode().count("This field is required.") == 2  # the English question and answer
    assert not Question.objects.filter(slug="new-question").exists()

    saved = admin_client.post(add, {**data, "question_en_gb": "How many sessions?", "answer_en_gb": "About ten."})
    assert saved.status_code == 302
    assert Question.objects.get(slug="new-question").question_fr in ("", None)


def test_a_home_photo_needs_its_description_in_english_the_field_staff_see_it_asked_on():
    # The clinic's details as the admin's form leaves them: a photo, its description only in French.
    details = SimpleNamespace(home_photo="identity/room.jpg", home_photo_alt_en_gb="", home_photo_alt_fr="Notre salle")

    with pytest.raises(ValidationError) as refused:
        alt_required(details, "home_photo", "home_photo_alt")

    assert list(refused.value.message_dict) == ["home_photo_alt_en_gb"]
