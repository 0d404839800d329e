"""The tables of every DatabaseCache in settings.CACHES, so that `migrate` alone gives a working site.

Before this, a deploy that forgot `manage.py createcachetable` answered 500 on every page. The
command's own code makes them (it skips a table that exists), so it and this never disagree;
with Redis (REDIS_URL) there is nothing to make. Reversing leaves the tables: they hold only
what can be rebuilt, and `createcachetable` would make them again anyway.
"""

from django.core.management import call_command
from django.db import migrations


def cache_tables_create(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0005_self_service_and_reminder_rules")]

    operations = [migrations.RunPython(cache_tables_create, migrations.RunPython.noop, elidable=False)]
