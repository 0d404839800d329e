import subprocess
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinic.management.commands._pgtools import connection_env, pg_tool


class Command(BaseCommand):
    help = "Back up the database with pg_dump (custom format) to a file; prints its path."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="File to write (default var/backups/clinic-<time>.dump).")

    def handle(self, *args, output=None, **options):
        if output is None:
            folder = Path(settings.VAR_DIR) / "backups"
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            output = folder / f"clinic-{datetime.now():%Y%m%d-%H%M%S}.dump"
        output = Path(output)
        env = connection_env()
        result = subprocess.run(
            [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(output)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        output.chmod(0o600)  # patients' data: readable by this account only
        self.stdout.write(str(output))
