"""The clinic's opening hours and home photo description move to their English columns.

django-modeltranslation reads ``opening_hours_en_gb`` for English; without the copy the footer
would lose the hours staff wrote. The seeded details have neither yet, so there is no French to
start with: staff write it beside the English in the admin.
"""

from django.db import migrations
from django.db.models import F, Q

TRANSLATED = ["opening_hours", "home_photo_alt"]


def blank(field):
    """The rows where ``field`` is empty: NULL in a new column, "" once a form saved it."""
    return Q(**{f"{field}__isnull": True}) | Q(**{field: ""})


def english_keep(apps, schema_editor):
    ClinicDetails = apps.get_model("clinic", "ClinicDetails")
    for field in TRANSLATED:
        ClinicDetails.objects.filter(blank(f"{field}_en_gb")).update(**{f"{field}_en_gb": F(field)})


class Migration(migrations.Migration):
    dependencies = [("clinic", "0008_details_in_english_and_french")]

    operations = [migrations.RunPython(english_keep, migrations.RunPython.noop)]
