"""Health questions before the visit: the step, its two outcomes, and the answers kept as health data."""

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from booking.intake.models import Enquiry, HealthAnswer, HealthQuestion, QuestionKind
from booking.models import Appointment, Treatment
from booking.privacy import patient_erase, patient_export
from booking.requests.botcheck import form_token
from booking.requests.forms import start_format
from booking.schedule.availability import first_day_today, free_slots
from clinic.cache import content_changed
from clinic.models import ClinicDetails
from tests.factories import answers_fine

pytestmark = pytest.mark.django_db

TYPED = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "020 7946 0000",
    "message": "",
    "first_visit": "yes",
    "consent": "on",
}
SECRET = "Takes SecretMedicine9 daily"


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


def url(treatment):
    return reverse("booking:details", kwargs={"treatment_slug": treatment.slug})


def details(slot, **changes):
    data = {"start": start_format(slot.start), "practitioner": "any", "started": form_token(), **TYPED}
    data.update(changes)
    return data


def named(questions, kind):
    return next(f"health-{question.pk}" for question in questions if question.kind == kind)


def first_yes_no(questions):
    return named(questions, QuestionKind.YES_NO)


def answers(questions, **changes):
    data = {name: value for name, value in answers_fine().items() if name != "step"}
    data = {name: value for name, value in data.items() if int(name.split("-")[1]) in {q.pk for q in questions}}
    data.update(changes)
    return data


def test_every_mesotherapy_treatment_starts_with_the_five_questions():
    for treatment in Treatment.objects.all():
        texts = [question.text for question in HealthQuestion.objects.asked_for(treatment)]
        assert len(texts) == 5, treatment
        assert "pregnant" in texts[0] and "blood thinners" in texts[1] and "allergic" in texts[2]
        assert "skin infection" in texts[3] and "other medicines" in texts[4]


def test_valid_details_lead_to_the_questions_with_nothing_booked(client, treatment, slot, questions):
    response = client.post(url(treatment), details(slot))
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1>Health questions</h1>" in html and "Step 4 of 4" in html
    assert Appointment.objects.count() == 0
    # One question per fieldset, each with its legend; the details typed travel on as hidden fields.
    assert html.count("<fieldset") >= len(questions)
    for question in questions:
        assert question.text in html
    assert re.search(r"<legend[^>]*>\s*Are you pregnant", html)
    assert 'type="hidden" name="email" value="ada@example.com"' in html
    assert 'name="step" value="questions"' in html
    assert "noindex" in html


def test_fine_answers_book_the_visit_and_keep_the_answers_with_the_questions_as_asked(
    client, treatment, slot, questions
):
    text_field = named(questions, QuestionKind.TEXT)
    data = {**details(slot), "step": "questions", **answers(questions, **{text_field: SECRET})}

    response = client.post(url(treatment), data)

    assert response.status_code == 303
    appointment = Appointment.objects.get()
    stored = list(appointment.health_answers.all())
    assert [answer.question_text for answer in stored] == [question.text for question in questions]
    assert [answer.question_version for answer in stored] == [question.version for question in questions]
    assert stored[-1].answer == SECRET and not any(answer.talk_first for answer in stored)
    # The confirmation page, the email's task and the address never carry the answers.
    page = client.get(response["Location"]).content.decode()
    assert "SecretMedicine9" not in page and "SecretMedicine9" not in response["Location"]


def test_a_missing_answer_is_asked_again_with_every_other_answer_and_detail_kept(client, treatment, slot, questions):
    missing = first_yes_no(questions)
    text_field = named(questions, QuestionKind.TEXT)
    given = answers(questions, **{text_field: SECRET})
    del given[missing]

    response = client.post(url(treatment), {**details(slot), "step": "questions", **given})
    html = response.content.decode()

    assert response.status_code == 400
    assert f"Answer the question “{questions[0].text}”." in html
    assert "There is a problem" in html
    assert SECRET in html  # the text answer is kept
    assert len(re.findall(r'type="radio"[^>]*checked', html)) == len(questions) - 2
    assert 'value="ada@example.com"' in html
    assert Appointment.objects.count() == 0 and HealthAnswer.objects.count() == 0


def test_a_tampered_choice_and_an_overlong_answer_get_clear_messages(client, treatment, slot, questions):
    text_field = named(questions, QuestionKind.TEXT)
    given = answers(questions, **{first_yes_no(questions): "Maybe", text_field: "x" * 501})

    response = client.post(url(treatment), {**details(slot), "step": "questions", **given})
    html = response.content.decode()

    assert response.status_code == 400
    assert f"Choose one of the answers given to “{questions[0].text}”." in html
    assert "Please keep this answer to 500 characters (it has 501)" in html
    assert "x" * 501 in html
    assert Appointment.objects.count() == 0


def test_tampered_details_on_the_questions_step_go_back_to_the_details_page(client, treatment, slot, questions):
    data = {**details(slot, email="not-an-email"), "step": "questions", **answers(questions)}
    response = client.post(url(treatment), data)
    html = response.content.decode()

    assert response.status_code == 400
    assert "Enter an email address like name@example.com." in html
    assert "<h1>Your details</h1>" in html
    assert Appointment.objects.count() == 0


def test_changing_the_details_keeps_the_answers_given(client, treatment, slot, questions):
    given = answers(questions)
    data = {**details(slot), "step": "questions", "edit": "details", **given}
    html = client.post(url(treatment), data).content.decode()

    assert "<h1>Your details</h1>" in html and 'value="Lovelace"' in html
    for name, value in given.items():
        assert f'type="hidden" name="{name}" value="{value}"' in html
    assert Appointment.objects.count() == 0


def test_an_answer_that_means_talk_first_books_nothing_and_shows_how_to_reach_the_clinic(
    client, treatment, slot, questions
):
    clinic = ClinicDetails.objects.current()
    clinic.phone, clinic.email = "020 7946 0999", "hello@clinic.example"
    clinic.save()
    content_changed()  # as the admin's save does
    data = {**details(slot), "step": "questions", **answers(questions, **{first_yes_no(questions): "Yes"})}

    response = client.post(url(treatment), data)
    html = response.content.decode()

    assert response.status_code == 200
    assert "Please talk to us before booking" in html
    assert "Nothing has been booked and no time is held for you." in html
    assert 'href="tel:02079460999"' in html and "hello@clinic.example" in html
    assert Appointment.objects.count() == 0 and HealthAnswer.objects.count() == 0


def test_the_patient_asked_to_talk_first_leaves_a_message_once_for_staff(client, treatment, slot, questions):
    form = details(slot)
    data = {**form, "step": "enquiry", **answers(questions, **{first_yes_no(questions): "Yes"})}
    data |= {"enquiry-phone": "020 7946 0123", "enquiry-message": "Mornings are best."}

    response = client.post(url(treatment), data)
    again = client.post(url(treatment), data)  # the same form sent twice

    assert response.status_code == 303 and again.status_code == 303
    assert client.get(response["Location"]).status_code == 200
    enquiry = Enquiry.objects.get()
    assert (enquiry.treatment, enquiry.phone, enquiry.message) == (treatment, "+442079460123", "Mornings are best.")
    assert enquiry.health_answers.filter(talk_first=True).count() == 1
    assert Appointment.objects.count() == 0


def test_a_bad_phone_number_for_the_message_is_refused_with_the_message_kept(client, treatment, slot, questions):
    data = {**details(slot), "step": "enquiry", **answers(questions, **{first_yes_no(questions): "Yes"})}
    data |= {"enquiry-phone": "12", "enquiry-message": "Call me please"}

    response = client.post(url(treatment), data)
    html = response.content.decode()

    assert response.status_code == 400
    assert "Enter a phone number we can call" in html and "Call me please" in html
    assert Enquiry.objects.count() == 0


# Staff: who reads the answers.


def staff(group, username):
    user = User.objects.create_user(username, password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def booked(client, treatment, slot, questions):
    text_field = named(questions, QuestionKind.TEXT)
    client.post(url(treatment), {**details(slot), "step": "questions", **answers(questions, **{text_field: SECRET})})
    return Appointment.objects.get()


def test_reception_sees_that_answers_exist_but_not_what_they_are(client, booked):
    client.force_login(staff("Reception", "reception"))
    html = client.get(reverse("admin:booking_appointment_change", args=[booked.pk])).content.decode()

    assert "5 answer(s) given" in html
    assert "SecretMedicine9" not in html


def practitioner_of(appointment):
    user = staff("Practitioners", "practitioner")
    appointment.practitioner.user = user
    appointment.practitioner.save()
    return user


def test_a_practitioner_reads_the_answers_on_the_appointment_page(client, booked):
    client.force_login(practitioner_of(booked))
    html = client.get(reverse("admin:booking_appointment_change", args=[booked.pk])).content.decode()

    assert SECRET in html
    assert "Are you pregnant" in html


def test_the_agenda_flags_answers_to_review_only_for_those_who_may_read_them(client, booked):
    agenda = reverse("booking_agenda")
    day = timezone.localtime(booked.starts_at)
    client.force_login(practitioner_of(booked))
    manager = client.get(agenda, {"date": day.date().isoformat()}).content.decode()
    client.force_login(staff("Reception", "reception"))
    reception = client.get(agenda, {"date": day.date().isoformat()}).content.decode()

    assert "Answers to review" in manager and SECRET not in manager
    assert "Health answers given" in reception and "Answers to review" not in reception


def test_the_csv_export_carries_no_answer(client, booked, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:booking_appointment_changelist"),
        {"action": "export_csv", "_selected_action": [booked.pk]},
    )
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == booked.reference
    assert "SecretMedicine9" not in text


def test_answers_are_in_the_patients_export_and_go_with_the_erasure(booked, treatment, admin_user):
    Enquiry.objects.create(treatment=treatment, first_name="Ada", last_name="L", email="ADA@example.com", phone="+1")
    exported = patient_export(email="ada@example.com", by=admin_user)
    assert exported["appointments"][0]["health_answers"][-1]["answer"] == SECRET
    assert len(exported["enquiries"]) == 1

    erasure = patient_erase(email="ada@example.com", by=admin_user)

    assert erasure.enquiries == 1
    assert HealthAnswer.objects.count() == 0 and Enquiry.objects.count() == 0


def test_editing_a_question_in_the_admin_makes_a_new_version(client, treatment, questions):
    client.force_login(staff("Clinic managers", "manager"))
    change = reverse("admin:booking_treatment_change", args=[treatment.pk])
    html = client.get(change).content.decode()
    form = dict(re.findall(r'<input type="(?:text|number|hidden)" name="([^"]+)" value="([^"]*)"', html))
    form |= dict(re.findall(r'<textarea name="([^"]+)"[^>]*>\n?([^<]*)</textarea>', html))
    form |= dict(re.findall(r'<select name="([^"]+)"[^>]*>.*?<option value="([^"]*)" selected', html, re.S))
    form = {name: unescape(value) for name, value in form.items()}
    form |= dict.fromkeys(re.findall(r'<input type="checkbox" name="([^"]+)"[^>]*checked', html), "on")
    form["health_questions-0-text_en_gb"] = "Are you pregnant or breastfeeding?"
    form["health_questions-1-text_fr"] = "Prenez-vous un anticoagulant ?"
    response = client.post(change, form)

    assert response.status_code == 302, response.content.decode()[:3000]
    edited = HealthQuestion.objects.get(pk=questions[0].pk)
    assert (edited.text, edited.version) == ("Are you pregnant or breastfeeding?", 2)
    # What a patient reading French reads changed too: answers given before keep the old version.
    assert HealthQuestion.objects.get(pk=questions[1].pk).version == 2
    assert HealthQuestion.objects.get(pk=questions[2].pk).version == 1
