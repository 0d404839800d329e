"""`make bench`: the real site under load, against its own ceiling (a static file from the same workers).

Creates a scratch database (on the server of DATABASE_URL, or on the embedded PostgreSQL when it is
unset), fills it (bench/fill.py), starts gunicorn with deploy/gunicorn.conf.py (DEBUG off, rate
limits off, a throwaway secret) on a loopback port, drives each page with wrk for BENCH_SECONDS
(10 by default) at BENCH_CONNECTIONS (10) connections, posts bookings from as many Python threads,
prints the table and the workers' memory, then stops gunicorn and drops the database.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django_otp.oath import totp

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "10"))
POSTS = int(os.environ.get("BENCH_POSTS", "300"))
# The ratio to the favicon each page should reach (docs/benchmarks.md).
RATIO_GOALS = {
    "/ (home, cached)": 0.8,
    "/faq/ (cached)": 0.8,
    "/book/ (cached)": 0.8,
    "treatment page (cached)": 0.8,
    "free times": 0.5,
    "/faq/?q=fat (search)": 0.3,
    # The same pages in French, under /fr/: each language has its own cached copy and search configuration.
    "/fr/ (home, cached)": 0.8,
    "/fr/faq/ (cached)": 0.8,
    "/fr/book/ (cached)": 0.8,
    "fr treatment (cached)": 0.8,
    "fr free times": 0.5,
    "/fr/faq/?q=graisse (search)": 0.3,
}
# Bookings each followed by a view of the free times, one client alone (times_after_change).
FRESH_VIEWS = 50


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def wrk_ensure():
    if shutil.which("wrk"):
        return
    log("wrk is missing; installing Debian's package")
    command = ["apt-get", "install", "-y", "-q", "wrk"]
    subprocess.run(command if os.geteuid() == 0 else ["sudo", *command], check=True, stdout=subprocess.DEVNULL)


def server_connect():
    """(psycopg2 connect kwargs for the server's maintenance database, URL template for a database on it)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        parts = urllib.parse.urlsplit(url)
        kwargs = {
            "host": parts.hostname or "localhost",
            "port": parts.port or 5432,
            "user": urllib.parse.unquote(parts.username or "postgres"),
            "password": urllib.parse.unquote(parts.password or "") or None,
            "dbname": "postgres",
        }
        return kwargs, lambda name: urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    sys.path.insert(0, str(ROOT))
    from clinic.embedded_db import ensure_running

    socket_dir = ensure_running()
    kwargs = {"host": socket_dir, "user": "postgres", "dbname": "postgres"}
    return kwargs, lambda name: f"postgres://postgres@{urllib.parse.quote(socket_dir, safe='')}/{name}"


def sql(kwargs, statement):
    import psycopg2

    connection = psycopg2.connect(**kwargs)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(url, *, data=None, cookies=None):
    """(status, headers, body) without following redirects; cookies is a dict updated from Set-Cookie."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body)
    if cookies:
        req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(req, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    if cookies is not None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
    return response.status, response.headers, response.read().decode("utf-8", "replace")


def hidden_inputs(html):
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]*)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            if name:
                fields[name.group(1)] = value.group(1).replace("&amp;", "&") if value else ""
    return fields


def wrk(url, *, cookie=None):
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "--timeout", "10s", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def millis(label):
        found = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(found.group(1)), found.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    requests_count = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": millis("50"),
        "p99": millis("99"),
        "errors": errors,
        "requests": requests_count,
    }


def bookings(base, treatment, starts, answers):
    """POSTs valid booking forms from CONNECTIONS threads, each for a time nobody else is given.

    Each thread first GETs the details page (untimed) for the form's CSRF cookie and token, its
    submission key and its signed start time; only the POST and its answer are timed.
    """
    details = f"{base}/book/{treatment}/details/"
    starts = list(starts[:POSTS])
    lock = threading.Lock()
    latencies, errors = [], []
    began = time.monotonic()

    def client():
        while True:
            with lock:
                if not starts or time.monotonic() - began > SECONDS * 3:
                    return
                start = starts.pop(0)
            form = booking_form(details, start, answers)
            if isinstance(form, str):
                errors.append(form)
                continue
            moment = time.monotonic()
            status, _, _ = request(details, data=form[0], cookies=form[1])
            elapsed = (time.monotonic() - moment) * 1000
            with lock:
                latencies.append(elapsed)
                if status not in (302, 303):
                    errors.append(f"POST {status}")

    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duration = time.monotonic() - began
    latencies.sort()
    return {
        "rps": len(latencies) / duration if duration else 0,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "errors": len(errors),
        "requests": len(latencies),
        "error_kinds": sorted(set(errors)),
    }


def percentile(ordered, p):
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def booking_form(details, start, answers):
    """A filled-in details form for ``start`` and its cookies, or what went wrong (GET status)."""
    cookies = {}
    query = urllib.parse.urlencode({"start": start, "practitioner": "any"})
    status, _, html = request(f"{details}?{query}", cookies=cookies)
    if status != 200:
        return f"GET {status}"
    data = hidden_inputs(html) | {
        "first_name": "Bench",
        "last_name": "Patient",
        "email": f"bench{secrets.token_hex(4)}@example.com",
        "phone": "020 7946 0000",
        "first_visit": "yes",
        "consent": "on",
        **answers,
    }
    data.pop("website", None)
    return data, cookies


def times_after_change(base, treatment, starts, answers, count=FRESH_VIEWS):
    """The free-times page right after a booking, one client alone: each booking wrote a new
    availability version, so every view timed here is computed afresh, never served as kept."""
    details = f"{base}/book/{treatment}/details/"
    latencies, errors = [], []
    for start in starts[:count]:
        form = booking_form(details, start, answers)
        if isinstance(form, str) or request(details, data=form[0], cookies=form[1])[0] not in (302, 303):
            errors.append("booking")
            continue
        moment = time.monotonic()
        status, _, _ = request(f"{base}/book/{treatment}/")
        latencies.append((time.monotonic() - moment) * 1000)
        if status != 200:
            errors.append(f"GET {status}")
    latencies.sort()
    return {
        "rps": len(latencies) / (sum(latencies) / 1000) if latencies else 0,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": percentile(latencies, 0.99),
        "errors": len(errors),
        "requests": len(latencies),
    }


def admin_login(base, password, totp_key):
    cookies = {}
    _, _, html = request(f"{base}/admin/login/", cookies=cookies)
    code = f"{totp(bytes.fromhex(totp_key)):06d}"
    data = hidden_inputs(html) | {"username": "bench", "password": password, "otp_token": code, "next": "/admin/"}
    status, _, _ = request(f"{base}/admin/login/?next=/admin/", data=data, cookies=cookies)
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"bench: the admin login failed ({status})")
    return f"sessionid={cookies['sessionid']}"


def worker_rss(master_pid):
    out = subprocess.run(["ps", "-o", "pid=,rss=", "--ppid", str(master_pid)], capture_output=True, text=True).stdout
    return [int(rss) / 1024 for _pid, rss in (line.split() for line in out.splitlines())]


def machine():
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem = next(line.split()[1] for line in meminfo if line.startswith("MemTotal"))
    return f"{os.cpu_count()} CPUs ({model}), {int(mem) / 1024 / 1024:.1f} GiB RAM"


@contextlib.contextmanager
def scratch_site(prefix):
    """A migrated scratch database with the site's environment for it (no Redis); dropped afterwards."""
    admin, url_for = server_connect()
    name = f"{prefix}_{os.getpid()}"
    sql(admin, f'CREATE DATABASE "{name}"')
    try:
        env = os.environ | {
            "DATABASE_URL": url_for(name),
            "DJANGO_SECRET_KEY": f"{prefix}-only-" + secrets.token_urlsafe(32),
            "DJANGO_ALLOWED_HOSTS": "localhost",
            "LOG_LEVEL": "ERROR",
        }
        env.pop("REDIS_URL", None)
        site_prepare(env)
        yield env
    finally:
        sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def site_prepare(env):
    """Migrate the scratch database (which makes the cache tables too) and collect static files."""
    manage = [PY, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run(manage + command, env=env, check=True, cwd=ROOT)


def gunicorn_start(env, port, *, who):
    """The real site under its production config; returns the process once /healthz answers 200."""
    gunicorn = subprocess.Popen(
        [PY, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            if request(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                return gunicorn
        except OSError:
            pass
        time.sleep(0.2)
    gunicorn.kill()
    raise SystemExit(f"{who}: gunicorn did not answer /healthz")


def main():
    wrk_ensure()
    admin, url_for = server_connect()
    name = f"clinic_bench_{os.getpid()}"
    password = secrets.token_urlsafe(16)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "DATABASE_URL": url_for(name),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-" + secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CLINIC_RATELIMIT_ENABLED": "0",
        "CLINIC_FORM_MIN_SECONDS": "0",
        "BENCH_ADMIN_PASSWORD": password,
        "LOG_LEVEL": "WARNING",
        # The measure: 2 sync workers (deploy/gunicorn.conf.py would start 2 x cores + 1).
        "WEB_CONCURRENCY": os.environ.get("BENCH_WORKERS", "2"),
    }
    sql(admin, f'CREATE DATABASE "{name}"')
    gunicorn = None
    try:
        log(f"scratch database {name}: migrate, fill")
        site_prepare(env)
        filled = json.loads(
            subprocess.run(
                [PY, str(ROOT / "bench" / "fill.py")], env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        log(f"{filled['appointments']} appointments; starting gunicorn on {base}")
        gunicorn = gunicorn_start(env, port, who="bench")
        manifest = json.loads((ROOT / "staticfiles" / "staticfiles.json").read_text())
        static = f"/static/{manifest['paths']['css/site.css']}"
        session = admin_login(base, password, filled["admin_totp_key"])
        treatment = filled["treatment"]
        targets = [
            # The smallest file the site serves, through the same gunicorn and WhiteNoise: the ceiling.
            ("favicon (ceiling)", "/favicon.ico", None),
            ("static file", static, None),
            ("/ (home, cached)", "/", None),
            ("/faq/ (cached)", "/faq/", None),
            ("/book/ (cached)", "/book/", None),
            ("treatment page (cached)", f"/treatments/{treatment}/", None),
            ("/faq/?q=fat (search)", "/faq/?q=fat", None),
            ("free times", f"/book/{treatment}/", None),
            ("/fr/ (home, cached)", "/fr/", None),
            ("/fr/faq/ (cached)", "/fr/faq/", None),
            ("/fr/book/ (cached)", "/fr/book/", None),
            ("fr treatment (cached)", f"/fr/treatments/{treatment}/", None),
            ("/fr/faq/?q=graisse (search)", "/fr/faq/?q=graisse", None),
            ("fr free times", f"/fr/book/{treatment}/", None),
            ("appointment page", f"/appointment/{filled['manage_token']}/", None),
            ("admin appointment list", "/admin/booking/appointment/", session),
        ]
        results = []
        for label, path, cookie in targets:
            status = request(base + path, cookies={"sessionid": cookie.split("=", 1)[1]} if cookie else None)[0]
            if status != 200:
                raise SystemExit(f"bench: {path} answered {status} before the run")
            log(f"wrk {label}")
            results.append((label, wrk(base + path, cookie=cookie)))
        log("booking POSTs")
        post = bookings(base, treatment, filled["starts"], filled["answers"])
        results.append(("booking POST", post))
        log("free times after a change")
        after = times_after_change(base, treatment, filled["starts"][POSTS:], filled["answers"])
        results.append(("free times after a change", after))
        rss = worker_rss(gunicorn.pid)

        ceiling = results[0][1]["rps"]
        print(f"\nMachine: {machine()}; gunicorn workers: {len(rss)}; {CONNECTIONS} connections, {SECONDS} s each")
        print(
            f"{'target':<28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'requests':>9} {'ratio':>6} "
            f"{'goal':>6}"
        )
        for label, r in results:
            goal = RATIO_GOALS.get(label)
            verdict = "" if goal is None else f">={goal:.1f} {'met' if r['rps'] / ceiling >= goal else 'NOT met'}"
            print(
                f"{label:<28} {r['rps']:>9.1f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['errors']:>7} "
                f"{r['requests']:>9} {r['rps'] / ceiling:>6.2f} {verdict}"
            )
        kinds = post["error_kinds"] or "none"
        print(f"booking POST p95: {post['p95']:.1f} ms ({post['requests']} POSTs, errors: {kinds})")
        print("worker RSS after the run (MB): " + ", ".join(f"{mb:.0f}" for mb in rss))
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=40)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped {name}")


if __name__ == "__main__":
    main()
