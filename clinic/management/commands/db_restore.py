import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinic.management.commands._pgtools import connection_env, pg_tool


class Command(BaseCommand):
    help = (
        "Restore a pg_dump custom-format backup into an EMPTY database (the configured one, or --database-name "
        "on the same server). Refuses a database that already has tables."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="The .dump file written by db_backup.")
        parser.add_argument("--database-name", help="Restore into this database on the same server instead.")

    def handle(self, *args, backup, database_name=None, **options):
        if not Path(backup).is_file():
            raise CommandError(f"No backup file at {backup}.")
        env = connection_env(database=database_name)
        tables = subprocess.run(
            [pg_tool("psql"), "-tAc", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if tables.returncode != 0:
            raise CommandError(f"Cannot reach database {env['PGDATABASE']}: {tables.stderr.strip()}")
        if tables.stdout.strip() != "0":
            raise CommandError(f"Database {env['PGDATABASE']} is not empty; restore only into an empty database.")
        result = subprocess.run(
            [
                pg_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--dbname",
                env["PGDATABASE"],
                backup,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
        self.stdout.write(f"Restored {backup} into {env['PGDATABASE']}.")
