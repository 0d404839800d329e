"""Production settings pass Django's deployment checklist, and the real server names no software."""

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def production_env(**changes):
    """The environment of a production start: DEBUG off, a real secret, HTTPS behind a proxy."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "clinic.example,127.0.0.1",
        "DJANGO_HTTPS": "1",
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    env.update(changes)
    return {name: value for name, value in env.items() if value is not None}


def deploy_check(env):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deployment_checklist():
    result = deploy_check(production_env())
    assert result.returncode == 0, result.stderr
    # Only HSTS preloading is silenced, and settings.py says why.
    assert "System check identified no issues (1 silenced)." in result.stdout
    assert "security.W021" in (BASE_DIR / "clinic" / "settings.py").read_text()


def test_with_preloading_chosen_nothing_is_silenced():
    result = deploy_check(production_env(DJANGO_HSTS_PRELOAD="1"))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_the_https_switch_the_checklist_fails():
    result = deploy_check(production_env(DJANGO_HTTPS=None))
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_response_headers(*config):
    """Start a real gunicorn on a free loopback port, ask for /robots.txt, and stop it; at most ~30 s."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *config, "clinic.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--no-control-socket", "--log-level", "warning"],
        cwd=BASE_DIR,
        env=production_env(DJANGO_HTTPS=None),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/robots.txt")
                response = connection.getresponse()
                response.read()
                connection.close()
                return response.status, dict(response.getheaders())
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_real_server_sends_no_server_header_with_the_sites_gunicorn_config():
    status, headers = gunicorn_response_headers()
    assert status == 200
    assert headers.get("Server", "").startswith("gunicorn")  # what gunicorn does on its own

    status, headers = gunicorn_response_headers("-c", "deploy/gunicorn.conf.py")
    assert status == 200
    assert "Server" not in headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
