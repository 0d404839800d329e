"""make backup / make restore: a dump of a database with appointments restores every row."""

import uuid
from datetime import timedelta

import psycopg2
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from booking.appointments.services import appointment_request
from booking.models import Treatment
from booking.schedule.availability import first_day_today, free_slots
from clinic.management.commands._pgtools import connection_env

pytestmark = pytest.mark.django_db(transaction=True)


def table_counts(cursor):
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from pg_tables
        counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def scratch_database():
    name = f"restore_{uuid.uuid4().hex[:10]}"
    env = connection_env(database="postgres")
    admin = psycopg2.connect(
        host=env.get("PGHOST"),
        port=env.get("PGPORT"),
        user=env.get("PGUSER"),
        dbname="postgres",
        password=env.get("PGPASSWORD"),
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_backup_restores_every_row_into_an_empty_database(
    clinic_content, scratch_database, tmp_path, working_every_day
):
    treatment = Treatment.objects.get(slug="hair-loss")
    person = working_every_day(treatment, name="Dr Backup", only=False)
    today = first_day_today()
    for index, slot in enumerate(
        free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(days=3), practitioner=person)[:20:4]
    ):
        appointment_request(
            treatment=treatment,
            start=slot.start,
            practitioner=person,
            patient={
                "first_name": f"Backup{index}",
                "last_name": "Patient",
                "email": f"b{index}@example.com",
                "phone": "+442079460000",
                "message": "",
                "first_visit": True,
            },
        )
    with connection.cursor() as cursor:
        source = table_counts(cursor)
    assert source["booking_appointment"] == 5

    dump = tmp_path / "clinic.dump"
    call_command("db_backup", output=str(dump))
    assert dump.stat().st_size > 0
    call_command("db_restore", str(dump), database_name=scratch_database)

    env = connection_env(database=scratch_database)
    restored = psycopg2.connect(
        host=env.get("PGHOST"),
        port=env.get("PGPORT"),
        user=env.get("PGUSER"),
        dbname=scratch_database,
        password=env.get("PGPASSWORD"),
    )
    with restored.cursor() as cursor:
        assert table_counts(cursor) == source
        cursor.execute("SELECT first_name FROM booking_appointment ORDER BY first_name")
        assert [row[0] for row in cursor.fetchall()] == [f"Backup{i}" for i in range(5)]
    restored.close()


def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    dump = tmp_path / "clinic.dump"
    call_command("db_backup", output=str(dump))
    with pytest.raises(CommandError, match="not empty"):
        call_command("db_restore", str(dump))
