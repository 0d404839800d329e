import importlib
import re
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from faq.models import Category, Question

SEED_FILE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "mesotherapy-faq.txt"


def seed_pairs():
    text = SEED_FILE.read_text()
    return re.findall(r"Q: (.*?)\n\s*\nA: (.*?)(?=\n\s*\n|\Z)", text, re.S)


@pytest.mark.django_db
def test_migration_loads_exactly_the_five_seed_questions_verbatim():
    if not SEED_FILE.exists():
        pytest.skip(f"the clinic's seed text is not beside this checkout ({SEED_FILE})")
    expected = seed_pairs()
    assert len(expected) == 5
    loaded = [(q.question, q.answer) for q in Question.objects.order_by("position")]
    assert loaded == expected
    assert all(q.published for q in Question.objects.all())


@pytest.mark.django_db
def test_seed_questions_are_published_in_the_clinics_order():
    assert list(Question.objects.for_page().values_list("slug", flat=True)) == [
        "uses-of-mesotherapy",
        "mesotherapy-for-fat-loss",
        "what-happens-to-dissolved-fat",
        "procedure",
        "aftercare-and-recovery",
    ]


def apps_at(app_label, migration_name):
    """The models as the migration ``migration_name`` sees them (not django-modeltranslation's)."""
    return MigrationLoader(connection).project_state((app_label, migration_name)).apps


translations = importlib.import_module("faq.migrations.0005_english_kept_and_french_seed")


@pytest.mark.django_db
def test_an_english_question_written_before_the_translation_columns_keeps_showing(client):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE faq_question SET question = %s, question_en_gb = NULL WHERE slug = %s",
            ["How long does a session last?", "procedure"],
        )

    translations.english_keep(apps_at("faq", "0005_english_kept_and_french_seed"), None)

    assert Question.objects.get(slug="procedure").question_en_gb == "How long does a session last?"
    assert "How long does a session last?" in client.get("/faq/").content.decode()


@pytest.mark.django_db
def test_the_french_seed_is_written_only_where_the_english_is_still_the_seeds_and_french_is_blank():
    Question.objects.filter(slug="procedure").update(question_en_gb="Staff's own wording?", question_fr=None)
    Question.objects.filter(slug="uses-of-mesotherapy").update(question_fr="Écrit par l’équipe")
    Question.objects.filter(slug="aftercare-and-recovery").update(question_fr=None, answer_fr=None)

    translations.french_seed(apps_at("faq", "0005_english_kept_and_french_seed"), None)

    french = dict(Question.objects.values_list("slug", "question_fr"))
    assert french["procedure"] is None
    assert french["uses-of-mesotherapy"] == "Écrit par l’équipe"
    assert french["aftercare-and-recovery"].startswith("Quelles précautions prendre après une séance")
    assert Question.objects.get(slug="aftercare-and-recovery").answer_fr.startswith("Des bleus")


@pytest.mark.django_db
def test_the_seed_questions_are_in_french_with_french_typography():
    questions = list(Question.objects.order_by("position"))

    assert len(questions) == 5
    for question in questions:
        assert question.question_fr.endswith("\u202f?"), question.slug
        for text in (question.question_fr, question.answer_fr):
            assert "'" not in text and " :" not in text and " ;" not in text and " ?" not in text, question.slug
    assert Category.objects.get(slug="mesotherapy").name_fr == "Mésothérapie"
