from django.db import migrations


def create_details(apps, schema_editor):
    ClinicDetails = apps.get_model("clinic", "ClinicDetails")
    # Staff fill in the real address, phone, email and hours in the admin.
    ClinicDetails.objects.get_or_create(pk=1, defaults={"name": "Mesotherapy Clinic"})


class Migration(migrations.Migration):
    dependencies = [("clinic", "0001_initial")]

    operations = [migrations.RunPython(create_details, migrations.RunPython.noop)]
