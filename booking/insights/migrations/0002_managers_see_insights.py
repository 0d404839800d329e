"""Clinic managers see the insights page."""

import importlib

from django.db import migrations

CLINIC_MANAGERS = "Clinic managers"


def grant(apps, schema_editor):
    importlib.import_module("booking.migrations.0007_staff_groups").permissions_create(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=CLINIC_MANAGERS)
    group.permissions.add(Permission.objects.get(content_type__app_label="insights", codename="view_insights"))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name=CLINIC_MANAGERS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="insights"))


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_initial"),
        ("booking", "0009_security_keys_and_manager_role"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
