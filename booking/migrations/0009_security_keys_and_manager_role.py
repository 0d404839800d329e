"""Waitlist entries remember the form that made them; how a treatment is booked becomes the
clinic manager's permission, held by a "Clinic managers" group (content editors keep the texts)."""

import importlib

from django.db import migrations, models

CLINIC_MANAGERS = "Clinic managers"
MANAGER_PERMISSIONS = [
    ("booking", "view_treatment"),
    ("booking", "add_treatment"),
    ("booking", "change_treatment"),
    ("booking", "change_treatment_booking"),
    ("booking", "view_practitioner"),
    ("booking", "add_practitioner"),
    ("booking", "change_practitioner"),
    ("booking", "view_workinghours"),
    ("booking", "add_workinghours"),
    ("booking", "change_workinghours"),
    ("booking", "delete_workinghours"),
    ("booking", "view_closure"),
    ("booking", "add_closure"),
    ("booking", "change_closure"),
    ("booking", "delete_closure"),
]


def managers_create(apps, schema_editor):
    importlib.import_module("booking.migrations.0007_staff_groups").permissions_create(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=CLINIC_MANAGERS)
    for app_label, codename in MANAGER_PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def managers_remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=CLINIC_MANAGERS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0008_patient_data_permission"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="treatment",
            options={
                "ordering": ["position", "name"],
                "permissions": [("change_treatment_booking", "Can change how a treatment is booked")],
                "verbose_name": "treatment",
                "verbose_name_plural": "treatments",
            },
        ),
        migrations.AddField(
            model_name="waitlistentry",
            name="submission_key",
            field=models.UUIDField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.RunPython(managers_create, managers_remove),
    ]
