"""The starting health questions for every treatment the clinic has, and who may read the answers.

Practitioners and clinic managers read the answers (the permission ``read_health_answers``);
reception sees that answers exist, never what they are. Clinic managers edit the questions.
Safe to run again: a treatment that already has questions is left alone.
"""

import importlib

from django.db import migrations

YES_NO = "yes_no"
TEXT = "text"

# (text, help, kind, answers that mean "talk to us first")
STARTING_QUESTIONS = [
    (
        "Are you pregnant, trying to become pregnant, or breastfeeding?",
        "Mesotherapy is not given during pregnancy or breastfeeding.",
        YES_NO,
        "Yes",
    ),
    (
        "Do you take blood thinners or anticoagulants (for example warfarin, apixaban, or aspirin every day)?",
        "Bruising is common after mesotherapy, and the clinic's advice is to stop blood thinners before "
        "treatment. Never stop a medicine on your own: the practitioner will talk it through with you and "
        "your doctor.",
        YES_NO,
        "Yes",
    ),
    (
        "Are you allergic to any of the products used in mesotherapy, or to local anaesthetics?",
        "For example lidocaine, or a reaction to a numbing cream or a dental injection.",
        YES_NO,
        "Yes",
    ),
    (
        "Do you have a skin infection, a cold sore or an open wound where you would like to be treated?",
        "",
        YES_NO,
        "Yes",
    ),
    (
        "Do you take other medicines, or have a condition the practitioner should know about?",
        "For example diabetes, a heart condition, an autoimmune disease, or a medicine you take every day. "
        "Leave it empty if there is nothing to say.",
        TEXT,
        "",
    ),
]

GROUP_PERMISSIONS = {
    "Practitioners": [("intake", "read_health_answers"), ("intake", "view_enquiry"), ("intake", "change_enquiry")],
    "Reception": [("intake", "view_enquiry"), ("intake", "change_enquiry"), ("intake", "view_healthquestion")],
    "Clinic managers": [
        ("intake", "read_health_answers"),
        ("intake", "view_enquiry"),
        ("intake", "change_enquiry"),
        ("intake", "view_healthquestion"),
        ("intake", "add_healthquestion"),
        ("intake", "change_healthquestion"),
        ("intake", "delete_healthquestion"),
    ],
}


def questions_create(apps, schema_editor):
    Treatment = apps.get_model("booking", "Treatment")
    HealthQuestion = apps.get_model("intake", "HealthQuestion")
    for treatment in Treatment.objects.all():
        if HealthQuestion.objects.filter(treatment=treatment).exists():
            continue
        HealthQuestion.objects.bulk_create(
            HealthQuestion(
                treatment=treatment,
                position=(position + 1) * 10,
                text=text,
                help_text=help_text,
                kind=kind,
                talk_first_answers=talk_first,
            )
            for position, (text, help_text, kind, talk_first) in enumerate(STARTING_QUESTIONS)
        )


def permissions_give(apps, schema_editor):
    importlib.import_module("booking.migrations.0007_staff_groups").permissions_create(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUP_PERMISSIONS.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for app_label, codename in wanted:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def forwards(apps, schema_editor):
    questions_create(apps, schema_editor)
    permissions_give(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0001_initial"),
        ("booking", "0010_task_paths_after_redesign"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
