"""The privacy notice's English moves to its English column, and the first notice gets the clinic's
French, where it is still the text published at the start.

The French says what the English says: a patient who read either agreed to the same version.
"""

import importlib

from django.db import migrations
from django.db.models import F, Q

from clinic.typography import french_typography

first_notice = importlib.import_module("clinic.migrations.0004_first_privacy_notice")

NOTICE_FR = """Nous vous demandons votre nom, votre adresse e-mail et votre numéro de téléphone, ainsi que ce que vous choisissez de nous dire dans votre message, afin d'organiser et de confirmer votre rendez-vous et de vous contacter à son sujet.

Vos données ne sont vues que par le personnel de la clinique. Nous ne les vendons pas et ne les partageons pas avec des annonceurs, et notre site n'envoie aucune donnée à des tiers.

Nous conservons vos données aussi longtemps que nécessaire pour vous soigner et aussi longtemps que la loi l'exige pour les dossiers médicaux, puis nous les supprimons ou les anonymisons.

Vous pouvez à tout moment nous demander une copie des données que nous détenons à votre sujet, les faire rectifier ou les faire effacer. Contactez la clinique grâce aux coordonnées indiquées sur notre page de contact."""


def blank(field):
    """The rows where ``field`` is empty: NULL in a new column, "" once a form saved it."""
    return Q(**{f"{field}__isnull": True}) | Q(**{field: ""})


def english_keep(apps, schema_editor):
    PrivacyNotice = apps.get_model("clinic", "PrivacyNotice")
    PrivacyNotice.objects.filter(blank("body_en_gb")).update(body_en_gb=F("body"))


def french_write(apps, schema_editor):
    PrivacyNotice = apps.get_model("clinic", "PrivacyNotice")
    PrivacyNotice.objects.filter(blank("body_fr"), version=1, body_en_gb=first_notice.NOTICE).update(
        body_fr=french_typography(NOTICE_FR)
    )


class Migration(migrations.Migration):
    dependencies = [("clinic", "0010_privacy_notice_in_english_and_french")]

    operations = [
        migrations.RunPython(english_keep, migrations.RunPython.noop),
        migrations.RunPython(french_write, migrations.RunPython.noop),
    ]
