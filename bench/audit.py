"""`make audit`: Lighthouse (node_modules, lighthouse@12.2.3) on home, FAQ and /book/, mobile profile.

Starts the real site the way `make bench` does (scratch database with the starting content,
gunicorn with deploy/gunicorn.conf.py, DEBUG off) and prints the four category scores per page.
Chromium is Debian's (CHROME_PATH, /usr/bin/chromium by default). The full reports are written
to var/lighthouse/.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import ROOT, free_port, gunicorn_start, log, server_connect, site_prepare, sql  # noqa: E402

PAGES = ["/", "/faq/", "/book/"]
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"


def main():
    lighthouse = ROOT / "node_modules" / ".bin" / "lighthouse"
    if not lighthouse.exists():
        raise SystemExit("audit: node_modules/.bin/lighthouse is missing; run `make install` (npm ci) first")
    admin, url_for = server_connect()
    name = f"clinic_audit_{os.getpid()}"
    port = free_port()
    # localhost, not 127.0.0.1: Lighthouse counts localhost as a secure origin, as browsers do.
    base = f"http://localhost:{port}"
    env = os.environ | {
        "DATABASE_URL": url_for(name),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "audit-only-" + secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    out_dir = ROOT / "var" / "lighthouse"
    out_dir.mkdir(parents=True, exist_ok=True)
    sql(admin, f'CREATE DATABASE "{name}"')
    gunicorn = None
    try:
        site_prepare(env)
        gunicorn = gunicorn_start(env, port, who="audit")
        rows = []
        for page in PAGES:
            report = out_dir / f"{page.strip('/').replace('/', '_') or 'home'}.json"
            log(f"lighthouse {base}{page}")
            command = [
                str(lighthouse),
                base + page,
                "--quiet",
                "--output=json",
                f"--output-path={report}",
                f"--only-categories={','.join(CATEGORIES)}",
                f"--chrome-flags={CHROME_FLAGS}",
            ]
            chrome = os.environ | {"CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
            # On a busy machine Chromium sometimes loses the page-load trace (NO_NAVSTART): once more.
            for attempt in (1, 2):
                if subprocess.run(command, env=chrome, timeout=240).returncode == 0:
                    break
                if attempt == 2:
                    raise SystemExit(f"audit: Lighthouse failed twice on {page}")
            result = json.loads(report.read_text())
            scores = {key: result["categories"][key]["score"] for key in CATEGORIES}
            failing = {
                key: [
                    ref["id"]
                    for ref in result["categories"][key]["auditRefs"]
                    if ref["weight"] and (result["audits"][ref["id"]]["score"] or 0) < 1
                ]
                for key in CATEGORIES
                if scores[key] is not None and scores[key] < 1
            }
            rows.append((page, scores, failing))
        print(f"\n{'page':<8} {'Performance':>12} {'Accessibility':>14} {'Best Practices':>15} {'SEO':>5}")
        for page, scores, _ in rows:
            values = [round(scores[key] * 100) if scores[key] is not None else "-" for key in CATEGORIES]
            print(f"{page:<8} {values[0]:>12} {values[1]:>14} {values[2]:>15} {values[3]:>5}")
        for page, _, failing in rows:
            for key, audits in failing.items():
                print(f"{page} {key} below 100: {', '.join(audits)}")
        print(f"(mobile profile, Lighthouse 12.2.3; full reports in {out_dir.relative_to(ROOT)}/)")
    finally:
        if gunicorn is not None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=40)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
