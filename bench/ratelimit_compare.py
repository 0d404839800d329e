"""clinic/ratelimit.py against django-ratelimit 4.1 on the same caches, speed and exactness.

`make bench-ratelimit` (or `.venv/bin/python bench/ratelimit_compare.py`) creates a scratch database
on the server of DATABASE_URL (or the embedded one), migrates it (which makes the cache tables),
and for each shared store the site supports (the DatabaseCache tables, and Redis when one answers
on 127.0.0.1:6379, database 15):

1. times 2,000 counted attempts at one key, one after the other (microseconds per attempt);
2. sends 20 threads at one key at once, 10 attempts each, against a limit of 50, and counts how
   many attempts each library let through: exactly 50 is right.

Then drops the scratch database. Only loopback is used.
"""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ATTEMPTS = 2000
THREADS, EACH, LIMIT = 20, 10, 50
REDIS = "redis://127.0.0.1:6379/15"


def inner(store):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connections
    from django.test import RequestFactory
    from django_ratelimit.core import is_ratelimited

    from clinic import ratelimit

    settings.CLINIC_RATELIMIT_ENABLED = True
    if store == "redis":
        settings.CACHES["ratelimit"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS}
    settings.RATELIMIT_USE_CACHE = "ratelimit"
    caches["ratelimit"].clear()
    request = RequestFactory().post("/book/", REMOTE_ADDR="192.0.2.1")

    def ours(value, limit):
        settings.CLINIC_RATELIMIT_PER_ADDRESS = (limit, 3600)
        return ratelimit.ratelimit_hit(scope="bench", kind="address", value=value) is None

    def theirs(value, limit):
        return not is_ratelimited(
            request, group="bench", key=lambda group, req: value, rate=f"{limit}/h", increment=True
        )

    results = {}
    for name, attempt in (("clinic/ratelimit.py", ours), ("django-ratelimit 4.1", theirs)):
        key = f"{name}-{time.time()}"
        started = time.perf_counter()
        for _ in range(ATTEMPTS):
            attempt(key, 10**9)
        per_attempt = (time.perf_counter() - started) / ATTEMPTS * 1e6

        key = f"{name}-race-{time.time()}"
        barrier = threading.Barrier(THREADS)
        allowed = []

        def racer(attempt=attempt, key=key, barrier=barrier, allowed=allowed):
            barrier.wait()
            try:
                allowed.extend(attempt(key, LIMIT) for _ in range(EACH))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=racer) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results[name] = (per_attempt, sum(allowed))
    for name, (per_attempt, passed) in results.items():
        print(f"{store:<9} {name:<22} {per_attempt:>9.0f} us {passed:>6} of {THREADS * EACH} (limit {LIMIT})")


def main():
    sys.path.insert(0, str(ROOT / "bench"))
    from run import scratch_site

    with scratch_site("clinic_ratelimit") as env:
        print(f"{'store':<9} {'library':<22} {'per attempt':>12} {'let through':>18}")
        stores = ["database"]
        try:
            import redis

            redis.Redis.from_url(REDIS).ping()
            stores.append("redis")
        except Exception as error:  # noqa: BLE001  (no Redis here: measure the database alone)
            print(f"redis: not measured ({type(error).__name__})")
        for store in stores:
            subprocess.run([sys.executable, __file__, "--inner", store], env=env, check=True, cwd=ROOT)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inner"]:
        inner(sys.argv[2])
    else:
        main()
