"""clinic/cache.py against Django's own per-view cache (cache_page) for the home page, in one process.

`make bench-pagecache` (or `.venv/bin/python bench/pagecache_compare.py`) creates a scratch database
(DATABASE_URL's server, or the embedded one), migrates it, and in one process with the site's
settings (DEBUG off, the shipped DatabaseCache) calls the WSGI application directly for a visitor
without cookies: the home page as the site serves it, and the same view behind Django's
`cache_page(60)`. It prints the best of 5 x 1,000 calls (microseconds per request). That a kept
page costs no SQL query is a test (tests/clinic/test_as_deployed.py). Then drops the scratch database.
"""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CALLS, ROUNDS = 1000, 5

urlpatterns = []  # filled by inner(): the site's URLs plus /django-cache-page/


def inner():
    os.environ["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import include, path
    from django.views.decorators.cache import cache_page
    from django.views.decorators.http import require_safe

    from clinic import urls as site_urls
    from clinic.views import home

    plain_home = home.__wrapped__.__wrapped__  # without require_safe and cached_page
    urlpatterns[:] = [
        path("django-cache-page/", require_safe(cache_page(60)(plain_home))),
        path("", include(site_urls.urlpatterns)),
    ]
    settings.ROOT_URLCONF = __name__
    app = WSGIHandler()

    def call(url):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": url,
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "HTTP_HOST": "localhost",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "QUERY_STRING": "",
        }
        body = b"".join(app(environ, lambda status, headers: None))
        return body

    for label, url in (("clinic/cache.py", "/"), ("django cache_page", "/django-cache-page/")):
        call(url)
        call(url)
        best = min(_timed(call, url) for _ in range(ROUNDS))
        print(f"{label:<20} {best:>10.0f}")


def _timed(call, url):
    started = time.perf_counter()
    for _ in range(CALLS):
        call(url)
    return (time.perf_counter() - started) / CALLS * 1e6


def main():
    sys.path.insert(0, str(ROOT / "bench"))
    from run import scratch_site

    with scratch_site("clinic_pagecache") as env:
        print(f"{'page cache':<20} {'us/request':>10}")
        subprocess.run([sys.executable, __file__, "--inner"], env=env, check=True, cwd=ROOT)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inner"]:
        inner()
    else:
        main()
