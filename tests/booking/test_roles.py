"""The staff groups: each can do its part of the work in the admin, and gets a 403 elsewhere."""

import importlib
import re
from datetime import datetime, time, timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment, AppointmentStatus, Practitioner, Treatment
from faq.models import Question
from tests.factories import appointment_at

pytestmark = pytest.mark.django_db

AGENDA = "/admin/booking/agenda/"
PASSWORD = "a long staff password"

# Written out here, not read from the migration, so a wrong list there fails these tests.
RECEPTION = {
    "booking.view_appointment",
    "booking.add_appointment",
    "booking.change_appointment",
    "booking.export_appointment",
    "booking.view_appointmentevent",
    "booking.view_course",
    "booking.add_course",
    "booking.change_course",
    "booking.view_waitlistentry",
    "booking.change_waitlistentry",
    "booking.view_message",
    # Sending a failed email again, from the outbox.
    "booking.change_message",
    "booking.view_practitioner",
    "booking.view_workinghours",
    "booking.view_closure",
    "booking.view_treatment",
    # Enquiries after the health questions, and the questions: never the answers.
    "intake.view_enquiry",
    "intake.change_enquiry",
    "intake.view_healthquestion",
}
PRACTITIONERS = {
    "booking.view_appointment",
    "booking.change_appointment",
    "booking.view_closure",
    "booking.view_workinghours",
    "booking.view_practitioner",
    "booking.view_treatment",
    "intake.read_health_answers",
    "intake.view_enquiry",
    "intake.change_enquiry",
}
CONTENT_EDITORS = {
    *(f"faq.{action}_{model}" for model in ("category", "question") for action in ("add", "change", "delete", "view")),
    "booking.view_treatment",
    "booking.change_treatment",
}

CLINIC_MANAGERS = {
    "booking.view_treatment",
    "booking.add_treatment",
    "booking.change_treatment",
    "booking.change_treatment_booking",
    "booking.view_practitioner",
    "booking.add_practitioner",
    "booking.change_practitioner",
    *(
        f"booking.{action}_{model}"
        for model in ("workinghours", "closure")
        for action in ("add", "change", "delete", "view")
    ),
    *(f"intake.{action}_healthquestion" for action in ("add", "change", "delete", "view")),
    "intake.read_health_answers",
    "intake.view_enquiry",
    "intake.change_enquiry",
    # The outbox, without the patients' addresses (no appointment permission), and "send again".
    "booking.view_message",
    "booking.change_message",
    "insights.view_insights",
}


def group_permissions(name):
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def member(group, username):
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def treatment():
    return Treatment.objects.create(
        name="Skin boost", slug="skin-boost", summary="s", description="d", duration_minutes=45, buffer_minutes=15
    )


@pytest.fixture
def practitioners(treatment):
    """Two practitioners with one appointment each tomorrow at 10:00."""
    day = timezone.localdate() + timedelta(days=1)
    start = datetime.combine(day, time(10), tzinfo=timezone.get_default_timezone())
    people = []
    for name, reference in [("Dr Ada Moss", "ADAREF"), ("Dr Ben Oyelaran", "BENREF")]:
        person = Practitioner.objects.create(name=name)
        appointment_at(
            start, treatment=treatment, practitioner=person, status=AppointmentStatus.CONFIRMED, reference=reference
        )
        people.append(person)
    return people


@pytest.fixture
def editor_client(client):
    client.force_login(member("Content editors", "editor"))
    return client


@pytest.fixture
def reception_client(client):
    client.force_login(member("Reception", "reception"))
    return client


@pytest.fixture
def practitioner_client(client, practitioners):
    ada = practitioners[0]
    ada.user = member("Practitioners", "ada")
    ada.save()
    client.force_login(ada.user)
    return client


def action_names(response):
    return [name for name, _ in response.context["action_form"].fields["action"].choices if name]


def export_action(response):
    return next((name for name in action_names(response) if "export" in name), None)


# The groups as the migration leaves them.


def test_each_group_has_exactly_its_permissions():
    assert group_permissions("Reception") == RECEPTION
    assert group_permissions("Practitioners") == PRACTITIONERS
    assert group_permissions("Content editors") == CONTENT_EDITORS
    assert group_permissions("Clinic managers") == CLINIC_MANAGERS


def test_running_the_group_migration_again_changes_nothing():
    migration = importlib.import_module("booking.migrations.0007_staff_groups")
    before = {name: group_permissions(name) for name in ("Reception", "Practitioners", "Content editors")}

    migration.groups_create(apps, None)
    migration.groups_create(apps, None)

    assert Group.objects.filter(name__in=before).count() == 3
    assert {name: group_permissions(name) for name in before} == before


def test_no_group_may_touch_site_settings_users_or_the_privacy_notice():
    for name in ("Reception", "Practitioners", "Content editors", "Clinic managers"):
        granted = group_permissions(name)
        assert not {p for p in granted if p.startswith(("clinic.", "auth.", "admin."))}, name
        assert not {p for p in granted if p.startswith("booking.delete_") and "hours" not in p and "closure" not in p}


# Content editors: the FAQ and the treatments' texts.


@pytest.mark.parametrize(
    "url_name", ["admin:booking_appointment_changelist", "booking_agenda", "admin:booking_treatment_add"]
)
def test_content_editor_gets_403_on_appointments_the_agenda_and_adding_treatments(editor_client, url_name):
    assert editor_client.get(reverse(url_name)).status_code == 403


def test_content_editor_can_edit_a_treatments_text_and_the_faq(editor_client):
    treatment = Treatment.objects.get(slug="hair-loss")
    response = editor_client.get(reverse("admin:booking_treatment_change", args=[treatment.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<textarea name="description_en_gb"', html)  # editable, not read-only
    assert re.search(r'<textarea name="description_fr"', html)

    question = Question.objects.get(slug="procedure")
    assert editor_client.get(reverse("admin:faq_question_change", args=[question.pk])).status_code == 200


def treatment_form(treatment, **changes):
    """The treatment's change form as the admin would post it back, with ``changes``."""
    data = {
        "name_en_gb": treatment.name,
        "slug": treatment.slug,
        "summary_en_gb": treatment.summary,
        "description_en_gb": treatment.description,
        "position": treatment.position,
        "active": "on" if treatment.active else "",
        "duration_minutes": treatment.duration_minutes,
        "buffer_minutes": treatment.buffer_minutes,
        "before_visit_en_gb": treatment.before_visit,
        "aftercare_en_gb": treatment.aftercare,
        "image_alt_en_gb": treatment.image_alt,
        # The health questions' inline (clinic managers): its management form, no question changed.
        "health_questions-TOTAL_FORMS": "0",
        "health_questions-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value != ""}


# What an editor posts for each field that decides the calendar, and what it would have become.
BOOKING_FIELD_ATTEMPTS = {
    "duration_minutes": ("240", "duration_minutes"),
    "buffer_minutes": ("120", "buffer_minutes"),
    "active": ("", "active"),  # unticked: the treatment hidden from booking
    "slug": ("moved-away", "slug"),
}


@pytest.mark.parametrize("field", BOOKING_FIELD_ATTEMPTS, ids=list(BOOKING_FIELD_ATTEMPTS))
def test_content_editor_cannot_change_how_a_treatment_is_booked(editor_client, treatment, field):
    before = Treatment.objects.get(pk=treatment.pk)
    value, attribute = BOOKING_FIELD_ATTEMPTS[field]
    url = reverse("admin:booking_treatment_change", args=[treatment.pk])
    html = editor_client.get(url).content.decode()
    assert not re.search(rf'name="{field}"', html)  # shown as text, not as a field

    response = editor_client.post(url, treatment_form(treatment, **{field: value, "summary_en_gb": "New summary"}))

    assert response.status_code == 302
    after = Treatment.objects.get(pk=treatment.pk)
    assert getattr(after, attribute) == getattr(before, attribute)
    assert after.summary == "New summary"  # the text the editor may change did change


def test_content_editor_cannot_hide_a_treatment_from_the_list(editor_client, treatment):
    url = reverse("admin:booking_treatment_changelist")
    html = editor_client.get(url).content.decode()
    assert 'name="form-0-active"' not in html and 'name="form-0-position"' in html
    rows = list(Treatment.objects.all())
    data = {"form-TOTAL_FORMS": len(rows), "form-INITIAL_FORMS": len(rows), "_save": "Save"}
    for index, row in enumerate(rows):
        data |= {f"form-{index}-id": row.pk, f"form-{index}-position": row.position, f"form-{index}-active": ""}

    editor_client.post(url, data)

    assert not Treatment.objects.filter(active=False).exists()


def test_clinic_manager_changes_how_a_treatment_is_booked(client, treatment):
    client.force_login(member("Clinic managers", "manager"))
    url = reverse("admin:booking_treatment_change", args=[treatment.pk])

    response = client.post(url, treatment_form(treatment, duration_minutes="60", buffer_minutes="10", active=""))

    assert response.status_code == 302
    after = Treatment.objects.get(pk=treatment.pk)
    assert (after.duration_minutes, after.buffer_minutes, after.active) == (60, 10, False)
    assert client.get(reverse("admin:booking_treatment_add")).status_code == 200


# Practitioners: their own agenda and appointments; no export.


def test_practitioner_sees_only_their_own_agenda_even_when_asking_for_another(practitioner_client, practitioners):
    ada, ben = practitioners
    day = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = practitioner_client.get(AGENDA, {"date": day, "practitioner": ben.pk})

    assert response.status_code == 200
    html = response.content.decode()
    assert "ADAREF" in html and "BENREF" not in html
    assert "Your agenda: Dr Ada Moss." in html
    assert 'name="practitioner"' not in html  # no choice offered


def test_practitioner_sees_only_their_own_appointments_in_the_list(practitioner_client):
    response = practitioner_client.get(reverse("admin:booking_appointment_changelist"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "ADAREF" in html
    assert "BENREF" not in html


def test_practitioner_is_offered_no_export_and_cannot_run_it(practitioner_client):
    url = reverse("admin:booking_appointment_changelist")
    response = practitioner_client.get(url)

    assert not User.objects.get(username="ada").has_perm("booking.export_appointment")
    assert export_action(response) is None
    ids = [a.pk for a in Appointment.objects.filter(reference="ADAREF")]
    posted = practitioner_client.post(url, {"action": "export_csv", "_selected_action": ids})
    assert posted.status_code in (200, 302, 403)
    assert "text/csv" not in posted.get("Content-Type", "")
    assert practitioner_client.get(reverse("admin:booking_appointment_export")).status_code == 403


def test_practitioner_in_the_group_but_not_linked_sees_nobodys_agenda(client, practitioners):
    client.force_login(member("Practitioners", "unlinked"))

    html = client.get(AGENDA).content.decode()

    assert "Your login is not linked to a practitioner" in html
    assert "ADAREF" not in html and "BENREF" not in html and "<table" not in html.split('id="content-main"')[1]


def test_practitioner_cannot_add_appointments_nor_book_for_a_patient(practitioner_client):
    assert practitioner_client.get(reverse("admin:booking_appointment_add")).status_code == 403
    assert practitioner_client.get(reverse("admin:booking_appointment_book")).status_code == 403
    for page in ("admin:booking_appointment_changelist", "admin:index"):
        assert "Book for a patient" not in practitioner_client.get(reverse(page)).content.decode(), page


# Reception: appointments, waitlist, agenda and export; no site settings.


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:booking_appointment_changelist",
        "admin:booking_appointment_book",
        "admin:booking_waitlistentry_changelist",
        "booking_agenda",
    ],
)
def test_reception_opens_appointments_the_waitlist_and_the_agenda(reception_client, practitioners, url_name):
    assert reception_client.get(reverse(url_name)).status_code == 200


def test_reception_adding_an_appointment_is_sent_to_book_for_a_patient(reception_client):
    book_url = reverse("admin:booking_appointment_book")
    response = reception_client.get(reverse("admin:booking_appointment_add"))
    assert response.status_code == 302 and response["Location"] == book_url
    for page in ("admin:booking_appointment_changelist", "admin:index"):
        html = reception_client.get(reverse(page)).content.decode()
        assert re.search(rf'<a href="{book_url}" class="[a-z]+">Book for a patient</a>', html), page


def test_reception_sees_everyones_agenda(reception_client, practitioners):
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    html = reception_client.get(AGENDA, {"date": day}).content.decode()
    assert "ADAREF" in html and "BENREF" in html


def test_reception_can_export_the_appointment_list(reception_client, practitioners):
    url = reverse("admin:booking_appointment_changelist")
    response = reception_client.get(url)

    assert User.objects.get(username="reception").has_perm("booking.export_appointment")
    action = export_action(response)
    assert action is not None, f"no export action among {action_names(response)}"
    exported = reception_client.post(
        url, {"action": action, "_selected_action": [a.pk for a in Appointment.objects.all()]}
    )
    assert exported.status_code == 200
    assert "text/csv" in exported["Content-Type"]
    whole_list = reception_client.get(reverse("admin:booking_appointment_export"))
    assert whole_list.status_code == 200
    assert "text/csv" in whole_list["Content-Type"]


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:clinic_clinicdetails_changelist",
        "admin:clinic_privacynotice_add",
        "admin:auth_user_changelist",
        "admin:auth_group_changelist",
        "admin:faq_question_changelist",
    ],
)
def test_reception_gets_403_on_site_settings_users_and_the_faq(reception_client, url_name):
    assert reception_client.get(reverse(url_name)).status_code == 403
