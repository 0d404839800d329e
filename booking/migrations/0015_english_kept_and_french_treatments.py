"""The treatments' and practitioners' English texts move to their English columns, and the seeded
treatments get the clinic's French version.

django-modeltranslation reads ``name_en_gb`` (not ``name``) for English: without the copy, every
treatment would show blank. French is written only where the English is still the seed's own text
and no French has been written yet, field by field.
"""

import importlib

from django.db import migrations
from django.db.models import F, Q

from clinic.typography import french_typography

seed = importlib.import_module("booking.migrations.0002_seed_treatments")

TRANSLATED = {"Treatment": ["name", "summary", "description", "before_visit", "aftercare"], "Practitioner": ["bio"]}

BEFORE_VISIT_FR = (
    "Si vous souhaitez que votre peau soit insensibilisée, vous pouvez appliquer une crème anesthésiante "
    "locale trente minutes avant votre séance.\n\n"
    "Les bleus sont fréquents après une séance de mésothérapie. Si vous prenez un anticoagulant, parlez-en "
    "à votre médecin avant le traitement : lui seul peut vous dire si vous pouvez l'interrompre sans danger."
)
AFTERCARE_FR = (
    "Buvez beaucoup d'eau pendant toute la durée du traitement : cela aide votre organisme à éliminer ce "
    "que le traitement a dégradé.\n\n"
    "Des bleus et un léger gonflement aux points d'injection sont fréquents et disparaissent d'eux-mêmes. "
    "Le traitement ne demande aucun arrêt d'activité : vous pouvez reprendre vos activités habituelles.\n\n"
    "Une alimentation équilibrée et une activité physique régulière vous aident à conserver vos résultats."
)
# slug: (name, summary, description), in the seed's order.
TREATMENTS_FR = {
    "hair-loss": (
        "Chute des cheveux",
        "La mésothérapie contre les cheveux clairsemés : un mélange de vitamines, de minéraux et de "
        "médicaments injecté dans le cuir chevelu.",
        "La mésothérapie consiste à injecter un mélange de médicaments, de vitamines et de minéraux dans le "
        "mésoderme, la couche située juste sous la peau. Contre la chute des cheveux, le mélange est injecté "
        "dans le cuir chevelu, au fil d'une série de séances.",
    ),
    "fat-loss-body-contouring": (
        "Graisse localisée et remodelage de la silhouette",
        "Dissoudre les amas graisseux localisés sans chirurgie, en une série de séances, sans arrêt d'activité.",
        "Contrairement à la liposuccion, la mésothérapie dissout la graisse sans chirurgie, en une série de "
        "séances, sans arrêt d'activité. Les résultats sont progressifs : certains patients les voient après "
        "une ou deux séances, d'autres ont besoin d'une dizaine de séances. La mésothérapie sert à sculpter et "
        "à remodeler la silhouette, non à perdre du poids.",
    ),
    "face-neck-rejuvenation": (
        "Rajeunissement du visage et du cou",
        "Redonner de l'éclat à la peau du visage et du cou grâce à un mélange de vitamines et de minéraux "
        "adapté à votre peau.",
        "Un mélange adapté à votre peau est injecté juste sous la peau du visage et du cou, à l'aide d'une "
        "aiguille très fine. Le traitement est personnalisé pour chaque patient.",
    ),
    "cellulite-reduction": (
        "Réduction de la cellulite",
        "Lisser la peau capitonnée en traitant la graisse et les bandes fibreuses situées en dessous.",
        "Pour traiter la cellulite, une formule peut servir à dissoudre la graisse et une autre à relâcher les "
        "bandes fibreuses qui retiennent la peau, pour un aspect plus lisse. Des séances d'entretien tous les "
        "six mois à un an peuvent être nécessaires.",
    ),
}


def blank(field):
    """The rows where ``field`` is empty: NULL in a new column, "" once a form saved it."""
    return Q(**{f"{field}__isnull": True}) | Q(**{field: ""})


def english_keep(apps, schema_editor):
    for model_name, fields in TRANSLATED.items():
        model = apps.get_model("booking", model_name)
        for field in fields:
            model.objects.filter(blank(f"{field}_en_gb")).update(**{f"{field}_en_gb": F(field)})


def french_write(apps, schema_editor):
    Treatment = apps.get_model("booking", "Treatment")
    english = {slug: (name, summary, description) for slug, name, summary, description, _ in seed.TREATMENTS}
    for slug, french in TREATMENTS_FR.items():
        texts = [
            *zip(["name", "summary", "description"], english[slug], french, strict=True),
            ("before_visit", seed.BEFORE_VISIT, BEFORE_VISIT_FR),
            ("aftercare", seed.AFTERCARE, AFTERCARE_FR),
        ]
        for field, seed_english, text in texts:
            Treatment.objects.filter(blank(f"{field}_fr"), **{"slug": slug, f"{field}_en_gb": seed_english}).update(
                **{f"{field}_fr": french_typography(text)}
            )


class Migration(migrations.Migration):
    dependencies = [("booking", "0014_treatments_in_english_and_french")]

    operations = [
        migrations.RunPython(english_keep, migrations.RunPython.noop),
        migrations.RunPython(french_write, migrations.RunPython.noop),
    ]
