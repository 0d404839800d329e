"""Rendered public pages (home, FAQ and its searches, treatments, the first booking step) and the
clinic's details, cached for every visitor alike.

Two layers. The shared `default` cache (Redis, or the DatabaseCache table) holds a content
version, and each page under the version it was built from. Each worker process keeps its own
copy of the pages and of the clinic's details for the version it last read, and reads the shared
version again at most once every VERSION_CHECK_SECONDS. So a page served again costs no query at
all; a worker reads the version (one small cache read) at most once a second, whatever the load.

Staff edits (the admin, see `ContentAdminMixin`) call `content_changed()`, which writes a new
version: the worker that saved shows the change at once, every other worker and host within
VERSION_CHECK_SECONDS. Nothing else in the cache is touched (never `cache.clear()`: on Redis it
would also empty the rate-limit counters). Measured in docs/benchmarks.md.

Hand-written rather than Django's cache_page / cache middleware: those read the shared cache on
every request (a PostgreSQL round trip with the DatabaseCache), cannot be served before sessions
and CSRF, and have no "staff changed something" version. `make bench-pagecache` (one process, the
home page, best of 5 x 1,000 calls; two runs on 2026-12-06 while the test suite ran beside them):
73-155 us per request here against 717-926 us with cache_page(60) on the same view.
"""

import functools
import hashlib
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils.translation import get_language

VERSION_KEY = "clinic:content-version"
# How stale another worker's pages may be after a staff edit, at most.
VERSION_CHECK_SECONDS = 1.0
# A safety net only: staff edits replace the version, so pages never wait for this to expire.
PAGE_SECONDS = 24 * 3600
MESSAGES_COOKIE = "messages"
# Pages one worker keeps in its memory; past it they are forgotten and read again from the shared
# cache. A search page per query string: random queries cost recomputation, never unbounded memory.
MEMORY_PAGES = 512


class ProcessMemory:
    """This worker's copy: the version last read, when, and what was built under it.

    One per process, shared by its threads (gunicorn's sync workers have one; the test server
    has its own thread, and must see a test's change too).
    """

    def __init__(self):
        self.reset()

    def reset(self, version=None):
        self.version = version
        self.checked = time.monotonic() if version else 0.0
        self.pages = {}
        self.details = None


memory = ProcessMemory()


@receiver(setting_changed)
def _memory_reset(*, setting, **kwargs):
    # Tests swap the cache for each test; a copy from the previous one must not survive it.
    if setting == "CACHES":
        memory.reset()


def content_version():
    """The shared content version, read at most once every VERSION_CHECK_SECONDS by this worker."""
    if memory.version is not None and time.monotonic() - memory.checked < VERSION_CHECK_SECONDS:
        return memory.version
    version = cache.get(VERSION_KEY)
    if version is None:
        # Never set (or evicted): a fresh one, so that no page built before can match it.
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    if version != memory.version:
        memory.reset(version)
    memory.checked = time.monotonic()
    return version


def content_changed():
    """Staff changed what public pages show: every cached page is rebuilt, the clinic's details re-read."""
    version = uuid.uuid4().hex
    cache.set(VERSION_KEY, version, None)
    memory.reset(version)


def page_address(request):
    # The page shows its own absolute address (canonical link), so scheme and host are part of it;
    # and it is written in the request's language (LocaleMiddleware runs before), which keys it too.
    return hashlib.sha256(f"{get_language()} {request.build_absolute_uri()}".encode()).hexdigest()


def page_key(version, address):
    return f"clinic:page:{version}:{address}"


def clinic_details(request=None):
    """The clinic's details (the footer of every page, the booking rules), read once per content version."""
    from clinic.models import ClinicDetails

    version = content_version()
    details = memory.details
    if details is None:
        details = ClinicDetails.objects.current()
        if memory.version == version:
            memory.details = details
    return details


def visitor_is_anonymous(request):
    """A GET or HEAD from a visitor with no session and no message waiting: their page is everyone's."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and MESSAGES_COOKIE not in request.COOKIES
    )


def page_is_shared(request, query=()):
    """A request whose page is the same for every visitor: no session, no messages, and no query
    string but the parameters in ``query`` (once each: the address is the page's key)."""
    if not visitor_is_anonymous(request):
        return False
    return all(name in query and len(request.GET.getlist(name)) == 1 for name in request.GET)


def memory_keep(address, entry):
    if len(memory.pages) >= MEMORY_PAGES:
        memory.pages.clear()
    memory.pages[address] = entry


def response_is_shared(request, response):
    """Nothing personal was used to build it: no CSRF token, no session, no cookie set."""
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not (session is not None and session.accessed)
    )


def page_response(entry):
    content, content_type = entry
    response = HttpResponse(content, content_type=content_type)
    response["Content-Length"] = str(len(content))
    return response


def cached_page_middleware(get_response):
    """Serves a page this worker keeps (see cached_page) before sessions, CSRF, authentication and URL
    resolution, which decide nothing for a visitor with no cookie of theirs and no query string.

    It stands in settings.MIDDLEWARE after every middleware that adds a header to pages, so a page
    served here carries the same headers as when it was rendered (tests/clinic/test_page_cache.py).
    A page this worker does not keep goes on to its view, which reads the shared cache or renders it.
    """

    def middleware(request):
        # Only for an address this worker keeps a page for: any other request (/healthz, say) goes
        # on untouched, without even the version read, which needs the database's cache table.
        # Any query string may name a kept page (cached_page decides which ones it keeps).
        address = page_address(request) if visitor_is_anonymous(request) else None
        if address in memory.pages:
            version = content_version()  # forgets every page if staff have changed something
            entry = memory.pages.get(address)
            if entry is not None and memory.version == version:
                return page_response(entry)
        return get_response(request)

    return middleware


def cached_page(view=None, *, query=()):
    """Serves the page from this worker's memory, else the shared cache, to visitors who all see the
    same page; ``query``: the query parameters that make a page of their own (the FAQ's search)."""
    if view is None:
        return functools.partial(cached_page, query=query)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not page_is_shared(request, query):
            return view(request, *args, **kwargs)
        version = content_version()
        address = page_address(request)
        key = page_key(version, address)
        entry = (memory.pages.get(address) if memory.version == version else None) or cache.get(key)
        if entry is None:
            response = view(request, *args, **kwargs)
            if not response_is_shared(request, response):
                return response
            entry = (response.content, response["Content-Type"])
            # Stored under the version read before rendering: an edit made meanwhile makes it a miss.
            cache.set(key, entry, PAGE_SECONDS)
        if memory.version == version:
            memory_keep(address, entry)
        return page_response(entry)

    return wrapper


class ContentAdminMixin:
    """For the admin of anything public pages show: every save, delete and action rebuilds them."""

    def content_saved(self):
        content_changed()
        # Again once the admin's transaction commits: a page rendered meanwhile from the old
        # rows (under the new version) is dropped too.
        transaction.on_commit(content_changed)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self.content_saved()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self.content_saved()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self.content_saved()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        self.content_saved()

    def response_action(self, request, queryset):
        # Bulk actions (publish, unpublish, ...) write with queryset.update().
        response = super().response_action(request, queryset)
        self.content_saved()
        return response
