"""The free-times page as this worker rendered it, served before sessions, CSRF, authentication and
URL resolution, which decide nothing for a visitor with no cookie of theirs.

The page is kept with this worker's free-time lists (booking.schedule.availability.Computed), so it
is served only while the shared availability version is the one it was rendered under (one small
cache read per request: a time booked through another worker is never shown free), the content
version is unchanged, and the moment ``until`` has not come: the first moment at which the passing
of time alone would change the page (a shown time falls inside the minimum notice, a new one comes
within the horizon, the day changes). Anything else goes on to the view, which renders it afresh.

It stands in settings.MIDDLEWARE just after clinic.cache.cached_page_middleware, after every
middleware that adds a header, so the page carries the same headers as when it was rendered.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import get_language

from booking.schedule.availability import availability_computed, computed
from clinic.cache import content_version, page_response, visitor_is_anonymous


@dataclass(frozen=True)
class KeptPage:
    until: datetime
    content_version: str | None
    entry: tuple


def kept_key(request):
    return ("kept-page", get_language(), request.build_absolute_uri())


def kept_times_page_keep(request, *, entry, until):
    """Keep a free-times page everyone sees, rendered for this request, until ``until`` at most."""
    computed.keep(kept_key(request), KeptPage(until=until, content_version=content_version(), entry=entry))


def kept_times_middleware(get_response):
    def middleware(request):
        # Only an address this worker keeps a page for costs the version read; others go on untouched.
        if visitor_is_anonymous(request) and kept_key(request) in computed.entries:
            kept = availability_computed().get(kept_key(request))  # forgets every page on a new version
            if kept is not None and timezone.now() < kept.until and kept.content_version == content_version():
                return page_response(kept.entry)
        return get_response(request)

    return middleware
