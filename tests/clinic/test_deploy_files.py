"""deploy/: what can be checked of a production install without a production machine.

nginx accepts the site and behaves as docs/deploy.md says, the systemd units pass
`systemd-analyze verify`, and gunicorn starts from its config file and logs JSON lines. The
tools are skipped with a reason when missing on a developer's machine, never in CI.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from clinic.management.commands._pgtools import connection_env

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
# gunicorn here serves the migrated test database: the mark makes pytest-django create it even
# when only this file runs (otherwise the settings still name the real, perhaps empty, database).
pytestmark = pytest.mark.django_db

TOKEN_PATH = "/appointment/IkFCQy0xMjMi:1xWmIg:KeehCybvmssqV6468QVh_cmAVv26UdLqX7g_DxIa-HA/"


def tool(name, package):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path:
        return path
    message = f"{name} is not installed (apt-get install {package})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: CI must install it.")
    pytest.skip(message)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, process, log, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} never answered; the process exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {seconds} s:\n{log.read_text()}")


def stop(process):
    """SIGTERM, then SIGKILL to the whole process group: nothing outlives the test."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


def json_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def gunicorn_site(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn started the way clinic-web.service starts it, against the test database."""
    with django_db_blocker.unblock():
        env = connection_env()
    port = free_port()
    env.update(
        DATABASE_URL=f"postgres:///{connection.settings_dict['NAME']}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,clinic.example",
        # The line's format is what is tested here; by default a page view that answered fast has none.
        CLINIC_LOG_ALL_REQUESTS="1",
    )
    env.pop("DJANGO_HTTPS", None)
    log = tmp_path_factory.mktemp("gunicorn") / "stdout.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(REPO / ".venv/bin/gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py")],
            cwd="/",  # the config file finds the project by itself, as under systemd
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process, log)
        yield {"url": f"http://127.0.0.1:{port}", "port": port, "log": log}
    finally:
        stop(process)


def test_gunicorn_starts_from_its_config_and_logs_each_request_as_json_without_the_query_string(gunicorn_site):
    request = urllib.request.Request(
        f"{gunicorn_site['url']}/healthz?patient=ada%40example.com", headers={"X-Request-ID": "deploy-test-0001"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.load(response) == {"status": "ok", "database": "ok"}
        assert response.headers["X-Request-ID"] == "deploy-test-0001"
        assert "Server" not in response.headers

    time.sleep(0.3)
    lines = json_lines(gunicorn_site["log"])
    ours = [line for line in lines if line.get("request_id") == "deploy-test-0001"]
    assert len(ours) == 1
    assert ours[0]["path"] == "/healthz"
    assert ours[0]["status"] == 200
    assert ours[0]["method"] == "GET"
    assert ours[0]["duration_ms"] >= 0
    text = gunicorn_site["log"].read_text()
    assert "patient=" not in text
    assert "ada" not in text
    # gunicorn's own lines are JSON too, and its access log (which would repeat the request) is off.
    assert any(line["logger"] == "gunicorn.error" and "Listening at" in line["message"] for line in lines)
    assert not any(line["logger"] == "gunicorn.access" for line in lines)


def nginx_site(root, *, http_port=80, https_port=443, upstream_port=8000):
    """deploy/nginx/clinic.conf inside a minimal nginx.conf, its paths moved under root."""
    openssl = tool("openssl", "openssl")
    for folder in ("certs", "static/css", "media", "logs", "tmp", "acme/.well-known/acme-challenge"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=clinic.example"]
        + ["-keyout", str(root / "certs/privkey.pem"), "-out", str(root / "certs/fullchain.pem")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = (DEPLOY / "nginx/clinic.conf").read_text()
    replacements = {
        "/etc/letsencrypt/live/clinic.example/": f"{root}/certs/",
        "/srv/clinic/staticfiles/": f"{root}/static/",
        "/var/lib/clinic/media/": f"{root}/media/",
        "/var/log/nginx/": f"{root}/logs/",
        "root /var/www/html;": f"root {root}/acme;",
        "listen 80": f"listen {http_port}",
        "listen [::]:80": f"listen [::]:{http_port}",
        "listen 443": f"listen {https_port}",
        "listen [::]:443": f"listen [::]:{https_port}",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx/clinic.conf no longer has {old!r}; update this test"
        site = site.replace(old, new)
    (root / "site.conf").write_text(site)
    # As root, nginx's workers would run as nobody, who cannot read pytest's private temp folders.
    user = "user root;" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {root}/tmp/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (root / "nginx.conf").write_text(
        f"""{user}
pid {root}/nginx.pid;
error_log {root}/logs/error.log;
events {{}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {root}/logs/access.log;
{temp_paths}
    include {root}/site.conf;
}}
"""
    )
    return root / "nginx.conf"


def test_nginx_accepts_the_site_configuration(tmp_path):
    nginx = tool("nginx", "nginx-light")
    conf = nginx_site(tmp_path)
    result = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_allows_the_largest_upload_the_site_accepts():
    site = (DEPLOY / "nginx/clinic.conf").read_text()
    limit = next(line.split()[1].rstrip(";") for line in site.splitlines() if "client_max_body_size" in line)
    assert limit.endswith("m")
    assert int(limit[:-1]) * 1024 * 1024 > settings.CLINIC_IMAGE_MAX_BYTES


@pytest.fixture
def nginx_in_front(gunicorn_site, tmp_path):
    nginx = tool("nginx", "nginx-light")
    curl = tool("curl", "curl")
    http_port, https_port = free_port(), free_port()
    conf = nginx_site(tmp_path, http_port=http_port, https_port=https_port, upstream_port=gunicorn_site["port"])
    (tmp_path / "static/css/site.0123456789ab.css").write_text("body{}")
    (tmp_path / "static/css/site.css").write_text("body{}")
    (tmp_path / "acme/.well-known/acme-challenge/renewal-token").write_text("proof")
    log = tmp_path / "logs/nginx.out"
    with log.open("w") as out:
        process = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def fetch(url, *args):
        """curl as a browser would, reaching clinic.example (SNI and Host) on the test ports."""
        result = subprocess.run(
            [curl, "-sk", "--max-time", "20", "-D", "-", "-o", "/dev/null", "-w", "%{http_code}"]
            + ["--resolve", f"clinic.example:{https_port}:127.0.0.1"]
            + ["--resolve", f"clinic.example:{http_port}:127.0.0.1", *args, url],
            capture_output=True,
            text=True,
            timeout=30,
        )
        headers = {}
        for line in result.stdout.splitlines()[1:]:
            name, _, value = line.partition(":")
            if value:
                headers.setdefault(name.strip().lower(), []).append(value.strip())
        return int(result.stdout.strip().splitlines()[-1][-3:]), headers

    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nginx did not start:\n{log.read_text()}\n{(tmp_path / 'logs/error.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield {
            "https": f"https://clinic.example:{https_port}",
            "http": f"http://clinic.example:{http_port}",
            "fetch": fetch,
            "access_log": tmp_path / "logs/clinic.access.log",
        }
    finally:
        stop(process)


def test_nginx_redirects_http_to_https_and_caches_hashed_static_files_for_a_year(nginx_in_front):
    fetch = nginx_in_front["fetch"]
    status, headers = fetch(f"{nginx_in_front['http']}/faq/")
    assert status == 301
    assert headers["location"] == ["https://clinic.example/faq/"]
    # Certificate renewals still reach certbot's challenge over plain HTTP.
    status, _headers = fetch(f"{nginx_in_front['http']}/.well-known/acme-challenge/renewal-token")
    assert status == 200

    status, headers = fetch(f"{nginx_in_front['https']}/static/css/site.0123456789ab.css", "--http2")
    assert status == 200
    assert "max-age=31536000" in headers["cache-control"]
    assert "public, immutable" in headers["cache-control"]
    status, headers = fetch(f"{nginx_in_front['https']}/static/css/site.css")
    assert status == 200
    assert headers["cache-control"] == ["max-age=3600"]


def test_nginx_passes_requests_to_gunicorn_with_one_request_id_and_logs_no_token_or_query(
    nginx_in_front, gunicorn_site
):
    fetch = nginx_in_front["fetch"]
    status, headers = fetch(f"{nginx_in_front['https']}{TOKEN_PATH}?email=ada%40example.com")
    assert status == 404  # a forged link: the site's own answer, through nginx
    request_id = headers["x-request-id"][0]

    time.sleep(0.3)
    nginx_lines = json_lines(nginx_in_front["access_log"])
    app_lines = [line for line in json_lines(gunicorn_site["log"]) if line.get("request_id") == request_id]
    assert [line["path"] for line in nginx_lines if line["request_id"] == request_id] == ["/appointment/<token>/"]
    assert [line["path"] for line in app_lines] == ["/appointment/<token>/"]
    for text in (nginx_in_front["access_log"].read_text(), gunicorn_site["log"].read_text()):
        assert "KeehCybvmss" not in text
        assert "email=" not in text
        assert "127.0.0.1" not in text.replace("Listening at: http://127.0.0.1", "")


def test_nginx_takes_a_five_megabyte_upload_and_refuses_a_bigger_one(nginx_in_front, tmp_path):
    fetch = nginx_in_front["fetch"]
    body = tmp_path / "body"
    body.write_bytes(b"x" * (5 * 1024 * 1024 + 4096))
    status, _headers = fetch(f"{nginx_in_front['https']}/healthz", "-X", "POST", "--data-binary", f"@{body}")
    # Not stopped by nginx: it reached the site, which refuses it for the missing CSRF token (403).
    # gunicorn answers before reading the whole body and closes; when nginx is still sending,
    # it reports that as 502 (seen once in three CI runs). Either way, not nginx's own 413.
    assert status in (403, 502)
    body.write_bytes(b"x" * (7 * 1024 * 1024))
    status, _headers = fetch(f"{nginx_in_front['https']}/healthz", "-X", "POST", "--data-binary", f"@{body}")
    assert status == 413


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = tool("systemd-analyze", "systemd")
    env_file = tmp_path / "clinic.env"
    env_file.write_text("DJANGO_SECRET_KEY=x\n")
    units = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        # The real paths, moved to ones that exist here: this checkout and its .venv.
        text = unit.read_text().replace("/etc/clinic/clinic.env", str(env_file)).replace("/srv/clinic", str(REPO))
        (tmp_path / unit.name).write_text(text)
        units.append(str(tmp_path / unit.name))
    assert {Path(unit).name for unit in units} >= {
        "clinic-web.service",
        "clinic-worker.service",
        "clinic-daily.service",
        "clinic-daily.timer",
        "clinic-backup.service",
        "clinic-backup.timer",
    }
    result = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, timeout=120)
    # Unknown keys and bad values are only warnings to systemd: any line about our units fails too.
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if "clinic" in line]
    assert result.returncode == 0, result.stderr
    assert complaints == []


def env_file_values(path):
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_the_production_environment_file_names_only_documented_settings():
    production = env_file_values(DEPLOY / "clinic.env.example")
    documented = env_file_values(REPO / ".env.example")
    assert set(production) - set(documented) == set()


def test_check_deploy_passes_with_the_documented_production_environment():
    env = env_file_values(DEPLOY / "clinic.env.example")
    env.update(
        PATH=os.environ["PATH"],
        HOME=os.environ.get("HOME", "/tmp"),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
