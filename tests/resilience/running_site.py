"""The real site under gunicorn, started as production starts it, for the resilience tests."""

import contextlib
import functools
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psycopg2
from django.core import signing

from booking.requests.botcheck import STARTED_SALT

REPO = Path(__file__).resolve().parents[2]
PYTHON = str(REPO / ".venv/bin/python") if (REPO / ".venv/bin/python").exists() else sys.executable
TREATMENT = "hair-loss"
DETAILS_PATH = f"/book/{TREATMENT}/details/"
SECRET_KEY = "resilience-test-only-" + "k" * 40
# One practitioner working every day, so there are plenty of free times; prints, as JSON, free
# times far enough apart that booking one never takes another.
SEED = """
import json

import psycopg2
from datetime import time, timedelta
from booking.schedule.availability import first_day_today, free_slots
from booking.requests.forms import start_format
from booking.models import Practitioner, Treatment, WorkingHours
treatment = Treatment.objects.get(slug="hair-loss")
Practitioner.objects.update(active=False)
person = Practitioner.objects.create(name="Dr Resilience")
person.treatments.add(treatment)
WorkingHours.objects.bulk_create(
    WorkingHours(practitioner=person, weekday=day, start_time=time(8), end_time=time(20)) for day in range(7)
)
today = first_day_today()
visit = timedelta(minutes=treatment.duration_minutes + treatment.buffer_minutes)
starts = []
for slot in free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(days=13)):
    if not starts or slot.start >= starts[-1] + visit:
        starts.append(slot.start)
print("SLOTS" + json.dumps([start_format(start) for start in starts]))
"""


def site_env(database_url, **extra):
    """The environment of a production start: settings from variables only, nothing from this test run."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CLINIC_", "PG"))}
    env.pop("REDIS_URL", None)
    env.pop("GUNICORN_BIND", None)
    env.pop("WEB_CONCURRENCY", None)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="tests.resilience.site_settings",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        CLINIC_RATELIMIT_ENABLED="0",
        CLINIC_FORM_MIN_SECONDS="0",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(env, *args, timeout=180):
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=REPO, env=env, check=True, capture_output=True, text=True, timeout=timeout
    ).stdout


def database_prepare(env):
    """Migrate (which makes the cache tables too) and seed a bookable practitioner; the free start times."""
    manage(env, "migrate", "--noinput", "-v0")
    output = manage(env, "shell", "-c", SEED)
    return json.loads(output.split("SLOTS", 1)[1])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """One gunicorn instance (its own process group) from deploy/gunicorn.conf.py on a loopback port."""

    def __init__(self, env, log_path, workers=2):
        self.port = free_port()
        self.log_path = log_path
        self.database_url = env["DATABASE_URL"]
        env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        with open(log_path, "w") as out:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "gunicorn", "-c", str(REPO / "deploy/gunicorn.conf.py"), "--workers", str(workers)],
                cwd="/",
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, seconds=40):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if self.request("GET", "/healthz", timeout=2)[0] == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer /healthz within {seconds} s:\n{self.log_tail()}")

    @functools.cached_property
    def questions(self):
        """(id, kind, answer that needs no talk first) of the site's active health questions, from its database."""
        with contextlib.closing(psycopg2.connect(self.database_url)) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT id, kind FROM intake_healthquestion WHERE active")
            return cursor.fetchall()

    def answers_fine(self):
        """The health questions' step answered with nothing to talk about first (tests.factories.answers_fine)."""
        answers = {f"health-{pk}": "" if kind == "text" else "No" for pk, kind in self.questions}
        return {"step": "questions", **answers}

    def log_tail(self, lines=40):
        return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])

    def request(self, method, path, body=None, headers=None, timeout=10):
        """(status, headers as a dict with lower-case names and Set-Cookie values in a list, text)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            received = {"set-cookie": []}
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    received["set-cookie"].append(value)
                else:
                    received[name.lower()] = value
            return response.status, received, response.read().decode(errors="replace")
        finally:
            connection.close()

    def stop(self):
        """SIGTERM, then SIGKILL to the whole process group: no worker outlives the test."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def cookies_from(headers):
    jar = SimpleCookie()
    for value in headers["set-cookie"]:
        jar.load(value)
    return {name: morsel.value for name, morsel in jar.items()}


def csrf_token_in(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def booking_form(site, start, headers=None):
    """A patient's CSRF cookie and token, from the details page for ``start``."""
    query = urlencode({"start": start, "practitioner": "any"})
    status, received, html = site.request("GET", f"{DETAILS_PATH}?{query}", headers=headers)
    assert status == 200, (status, html[:500])
    return cookies_from(received)["csrftoken"], csrf_token_in(html)


def form_token_signed():
    """A details form's "started" token as the running site makes it (booking.forms.form_token), signed
    with that site's key: each booking POST is a form of its own, shown a minute ago."""
    payload = {"t": time.time() - 60, "k": uuid.uuid4().hex}
    return signing.dumps(payload, key=SECRET_KEY, salt=STARTED_SALT, compress=False)


def booking_post(site, *, start, csrf, email, headers=None, timeout=10):
    cookie, token = csrf
    body = urlencode(
        {
            "csrfmiddlewaretoken": token,
            "start": start,
            "practitioner": "any",
            "started": form_token_signed(),
            "first_name": "Resilience",
            "last_name": "Patient",
            "email": email,
            "phone": "020 7946 0000",
            "first_visit": "yes",
            "consent": "on",
            **site.answers_fine(),
        }
    )
    return site.request(
        "POST",
        DETAILS_PATH,
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "Referer": f"http://127.0.0.1:{site.port}{DETAILS_PATH}",
            **(headers or {}),
        },
        timeout=timeout,
    )
