"""Tasks queued before the booking app was grouped into rooms name their old module paths; the
worker imports a task by that path, so each waiting task is pointed at where it lives now."""

from django.db import migrations

MOVED = {
    "booking.tasks.message_send": "booking.emails.tasks.message_send",
    "booking.tasks.waitlist_match": "booking.waitlist.tasks.waitlist_match",
}


def task_paths_update(apps, schema_editor):
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in MOVED.items():
        DBTaskResult.objects.filter(task_path=old).update(task_path=new)


def task_paths_restore(apps, schema_editor):
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in MOVED.items():
        DBTaskResult.objects.filter(task_path=new).update(task_path=old)


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0009_security_keys_and_manager_role"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(task_paths_update, task_paths_restore)]
