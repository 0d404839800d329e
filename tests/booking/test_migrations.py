"""Migrations keep what a running clinic has: tasks queued before the booking app was regrouped
still reach their functions afterwards, and texts written before French came keep showing in English."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking.intake.models import HealthQuestion
from booking.models import Treatment

pytestmark = pytest.mark.django_db

migration = importlib.import_module("booking.migrations.0010_task_paths_after_redesign")


def queued(path, *args):
    return DBTaskResult.objects.create(
        task_path=path,
        args_kwargs={"args": list(args), "kwargs": {}},
        queue_name="default",
        backend_name="default",
        run_after=timezone.now(),
        exception_class_path="",
        traceback="",
    )


def test_tasks_queued_under_the_old_module_paths_run_the_functions_they_named():
    email = queued("booking.tasks.message_send", 7)
    offer = queued("booking.tasks.waitlist_match", "2030-01-02T09:30:00+00:00", 3)

    migration.task_paths_update(apps, None)

    email.refresh_from_db()
    offer.refresh_from_db()
    assert email.task.name == "message_send"
    assert email.task.module_path == "booking.emails.tasks.message_send"
    assert offer.task.module_path == "booking.waitlist.tasks.waitlist_match"
    assert (email.args_kwargs, offer.args_kwargs["args"]) == (
        {"args": [7], "kwargs": {}},
        ["2030-01-02T09:30:00+00:00", 3],
    )


def apps_at(app_label, migration_name):
    """The models as the migration ``migration_name`` sees them (not django-modeltranslation's)."""
    return MigrationLoader(connection).project_state((app_label, migration_name)).apps


treatment_texts = importlib.import_module("booking.migrations.0015_english_kept_and_french_treatments")
question_texts = importlib.import_module("booking.intake.migrations.0004_english_kept_and_french_questions")


def test_a_treatment_written_before_the_translation_columns_keeps_its_english_name(client):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE booking_treatment SET name = %s, name_en_gb = NULL, aftercare_en_gb = '' WHERE slug = %s",
            ["Scalp care", "hair-loss"],
        )

    treatment_texts.english_keep(apps_at("booking", "0015_english_kept_and_french_treatments"), None)

    treatment = Treatment.objects.get(slug="hair-loss")
    assert treatment.name_en_gb == "Scalp care"
    assert treatment.aftercare_en_gb.startswith("Drink plenty of water")
    assert "Scalp care" in client.get("/treatments/hair-loss/").content.decode()


def test_the_treatments_french_is_written_field_by_field_where_the_english_is_still_the_seeds():
    Treatment.objects.filter(slug="hair-loss").update(
        name_en_gb="Hair care", name_fr=None, description_fr=None, aftercare_fr="Déjà écrit."
    )

    treatment_texts.french_write(apps_at("booking", "0015_english_kept_and_french_treatments"), None)

    treatment = Treatment.objects.get(slug="hair-loss")
    assert treatment.name_fr is None  # staff renamed it: their French is theirs to write
    assert treatment.description_fr.startswith("La mésothérapie consiste à injecter")
    assert treatment.aftercare_fr == "Déjà écrit."


def test_every_seeded_treatment_and_starting_question_is_in_french_with_french_typography():
    for treatment in Treatment.objects.all():
        texts = [getattr(treatment, f"{name}_fr") for name in ("name", "summary", "description", "before_visit")]
        texts.append(treatment.aftercare_fr)
        assert all(texts), treatment.slug
        assert not any("'" in text or " :" in text for text in texts), treatment.slug
    for question in HealthQuestion.objects.all():
        assert question.text_fr.endswith("\u202f?") and "'" not in question.text_fr


def test_a_health_question_written_before_the_translation_columns_keeps_its_english_text():
    question = HealthQuestion.objects.first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE intake_healthquestion SET text = %s, text_en_gb = NULL, text_fr = NULL WHERE id = %s",
            ["Do you smoke?", question.pk],
        )

    apps_then = apps_at("intake", "0004_english_kept_and_french_questions")
    question_texts.english_keep(apps_then, None)
    question_texts.french_write(apps_then, None)

    question.refresh_from_db()
    assert (question.text_en_gb, question.text_fr) == ("Do you smoke?", None)
