"""The health questions' English texts move to their English columns, and the starting questions
get the clinic's French version.

django-modeltranslation reads ``text_en_gb`` for English; without the copy, every question would
show blank. French is written only where the English is still the starting text and no French has
been written yet. The answers stay the English ones ("Yes", "No"): the form shows them in the
patient's language, and stores and compares the English one (booking/intake/models.py).
"""

import importlib

from django.db import migrations
from django.db.models import F, Q

from clinic.typography import french_typography

starting = importlib.import_module("booking.intake.migrations.0002_starting_questions")

TRANSLATED = ["text", "help_text", "choices"]

# (text, help), in the order of the starting questions.
STARTING_QUESTIONS_FR = [
    (
        "Êtes-vous enceinte, essayez-vous de le devenir, ou allaitez-vous ?",
        "La mésothérapie n'est pas pratiquée pendant la grossesse ni pendant l'allaitement.",
    ),
    (
        "Prenez-vous un anticoagulant ou un antiagrégant plaquettaire (par exemple de la warfarine, de "
        "l'apixaban, ou de l'aspirine tous les jours) ?",
        "Les bleus sont fréquents après une séance de mésothérapie, et la clinique conseille d'interrompre "
        "les anticoagulants avant le traitement. N'arrêtez jamais un médicament de vous-même : le praticien "
        "en parlera avec vous et avec votre médecin.",
    ),
    (
        "Êtes-vous allergique à l'un des produits utilisés en mésothérapie, ou aux anesthésiques locaux ?",
        "Par exemple à la lidocaïne, ou si vous avez déjà réagi à une crème anesthésiante ou à une "
        "anesthésie chez le dentiste.",
    ),
    (
        "Avez-vous une infection de la peau, un bouton de fièvre ou une plaie ouverte sur la zone à traiter ?",
        "",
    ),
    (
        "Prenez-vous d'autres médicaments, ou avez-vous une maladie dont le praticien doit avoir connaissance ?",
        "Par exemple un diabète, une maladie cardiaque, une maladie auto-immune, ou un médicament que vous "
        "prenez tous les jours. Laissez vide si vous n'avez rien à signaler.",
    ),
]


def blank(field):
    """The rows where ``field`` is empty: NULL in a new column, "" once a form saved it."""
    return Q(**{f"{field}__isnull": True}) | Q(**{field: ""})


def english_keep(apps, schema_editor):
    HealthQuestion = apps.get_model("intake", "HealthQuestion")
    for field in TRANSLATED:
        HealthQuestion.objects.filter(blank(f"{field}_en_gb")).update(**{f"{field}_en_gb": F(field)})


def french_write(apps, schema_editor):
    HealthQuestion = apps.get_model("intake", "HealthQuestion")
    for (text, help_text, *_), (text_fr, help_fr) in zip(
        starting.STARTING_QUESTIONS, STARTING_QUESTIONS_FR, strict=True
    ):
        HealthQuestion.objects.filter(blank("text_fr"), text_en_gb=text).update(text_fr=french_typography(text_fr))
        if help_fr:
            HealthQuestion.objects.filter(blank("help_text_fr"), text_en_gb=text, help_text_en_gb=help_text).update(
                help_text_fr=french_typography(help_fr)
            )


class Migration(migrations.Migration):
    dependencies = [("intake", "0003_questions_in_english_and_french")]

    operations = [
        migrations.RunPython(english_keep, migrations.RunPython.noop),
        migrations.RunPython(french_write, migrations.RunPython.noop),
    ]
