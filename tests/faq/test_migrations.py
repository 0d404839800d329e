import re
from pathlib import Path

import pytest

from faq.models import Question

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
