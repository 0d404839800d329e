"""One practitioner with ordinary hours, so booking works from the first start. Staff rename and adjust."""

from datetime import time

from django.db import migrations

HOURS = [(time(9), time(12, 30)), (time(13, 30), time(17, 30))]


def create_practitioner(apps, schema_editor):
    Practitioner = apps.get_model("booking", "Practitioner")
    WorkingHours = apps.get_model("booking", "WorkingHours")
    Treatment = apps.get_model("booking", "Treatment")
    if Practitioner.objects.exists():
        return
    practitioner = Practitioner.objects.create(name="Clinic practitioner", position=0)
    practitioner.treatments.set(Treatment.objects.all())
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, weekday=weekday, start_time=start, end_time=end)
        for weekday in range(5)
        for start, end in HOURS
    )


class Migration(migrations.Migration):
    dependencies = [("booking", "0003_practitioners_and_appointments")]

    operations = [migrations.RunPython(create_practitioner, migrations.RunPython.noop)]
