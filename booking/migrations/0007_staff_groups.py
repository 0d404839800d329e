"""The staff groups: each one can do its part of the clinic's work in the admin, and nothing else.

Safe to run again: groups are looked up by name and permissions only ever added.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

RECEPTION = "Reception"
PRACTITIONERS = "Practitioners"
CONTENT_EDITORS = "Content editors"

# (app label, codename). Nothing from clinic (details, privacy notice), auth (users) or faq.
GROUP_PERMISSIONS = {
    RECEPTION: [
        ("booking", "view_appointment"),
        ("booking", "add_appointment"),
        ("booking", "change_appointment"),
        ("booking", "export_appointment"),
        ("booking", "view_appointmentevent"),
        # Planning a course of sessions is part of handling appointments.
        ("booking", "view_course"),
        ("booking", "add_course"),
        ("booking", "change_course"),
        ("booking", "view_waitlistentry"),
        ("booking", "change_waitlistentry"),
        ("booking", "view_message"),
        ("booking", "view_practitioner"),
        ("booking", "view_workinghours"),
        ("booking", "view_closure"),
        ("booking", "view_treatment"),
    ],
    # The admin narrows these to the practitioner's own appointments and to notes and outcomes.
    PRACTITIONERS: [
        ("booking", "view_appointment"),
        ("booking", "change_appointment"),
        ("booking", "view_closure"),
        ("booking", "view_workinghours"),
        ("booking", "view_practitioner"),
        ("booking", "view_treatment"),
    ],
    # Added to the FAQ permissions the group got in faq 0003: the treatments' texts, not the list.
    CONTENT_EDITORS: [
        ("booking", "view_treatment"),
        ("booking", "change_treatment"),
    ],
}


def permissions_create(apps):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)  # migration stubs have none
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module


def groups_create(apps, schema_editor):
    permissions_create(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def groups_remove(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.filter(name__in=[RECEPTION, PRACTITIONERS]).delete()
    for group in Group.objects.filter(name=CONTENT_EDITORS):
        for app_label, codename in GROUP_PERMISSIONS[CONTENT_EDITORS]:
            group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0006_staff_workspace"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("faq", "0003_content_editors_group"),
        ("clinic", "0005_self_service_and_reminder_rules"),
    ]

    operations = [migrations.RunPython(groups_create, groups_remove)]
