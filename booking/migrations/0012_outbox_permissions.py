"""The outbox: Reception and Clinic managers may send a failed email again ("Can change email");
managers may see the outbox too."""

import importlib

from django.db import migrations

GRANTS = {
    "Reception": ["change_message"],
    "Clinic managers": ["view_message", "change_message"],
}


def grants_add(apps, schema_editor):
    importlib.import_module("booking.migrations.0007_staff_groups").permissions_create(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for codename in codenames:
            group.permissions.add(Permission.objects.get(content_type__app_label="booking", codename=codename))


def grants_remove(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="booking", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0011_request_holds"),
    ]

    operations = [migrations.RunPython(grants_add, grants_remove)]
