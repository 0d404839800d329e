"""Rate limits on the public forms, counted in the cache that every worker and every host shares.

Hand-written, not django-ratelimit, because of the store a clinic runs by default: measured with
`make bench-ratelimit` (bench/ratelimit_compare.py; 2026-12-06, 2 cores, while the test suite ran
beside it), 20 threads at one key, 10 attempts each, limit 50: on the DatabaseCache tables this
module let exactly 50 through and django-ratelimit 4.1 all 200 (its count is cache.add() then
incr(), and the DatabaseCache's incr() is a read then a write); per attempt 1,142 us against
1,464 us. On Redis both let 50 through, at 360 us and 374 us: with REDIS_URL set the library would
do as well, but one code path for both stores is simpler to trust.

A fixed window per limit: "10 in 10 minutes" counts attempts in the current ten-minute window,
and the window's end is when the client may try again (the Retry-After header).

The counters live in the ``CLINIC_RATELIMIT_CACHE`` cache: Redis, whose INCR is atomic, or
Django's database cache, whose ``incr()`` is a read then a write (two workers could both read 4
and both write 5), so there each count takes a PostgreSQL advisory lock on its key first.
Process memory is refused: each worker would keep its own count and a restart would reset it.
Counter keys hold a keyed hash of the address or email, never the value itself.
"""

import functools
import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router, transaction
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.crypto import salted_hmac
from redis.exceptions import RedisError

from clinic.client_ip import address_parse, client_ip

logger = logging.getLogger(__name__)

# What is counted -> the setting holding its (attempts, seconds).
RATE_SETTINGS = {
    "address": "CLINIC_RATELIMIT_PER_ADDRESS",
    "email": "CLINIC_RATELIMIT_PER_EMAIL",
    "appointment": "CLINIC_RATELIMIT_PER_APPOINTMENT",
    "waitlist_entry": "CLINIC_RATELIMIT_PER_APPOINTMENT",
    "booking_address": "CLINIC_RATELIMIT_BOOKINGS_PER_ADDRESS",
    "username": "CLINIC_ADMIN_LOGIN_PER_USERNAME",
}
# First key of pg_advisory_xact_lock(int, int): this module's own range of locks.
LOCK_CLASS = 0x726C


@dataclass(frozen=True)
class Limited:
    """An attempt over the limit, and how long until the window ends."""

    retry_after: int  # seconds

    @property
    def minutes(self):
        return max(1, math.ceil(self.retry_after / 60))


def address_key(address):
    """The address a limit counts: an IPv6 client is its /64, which one household or phone holds whole."""
    parsed = address_parse(address) if address else None
    if parsed is not None and parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed or address)


def email_key(email):
    """The mailbox an address reaches: case and a "+tag" do not make a new one."""
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def advisory_xact_lock(*, lock_class, key, using="default"):
    """PostgreSQL's pg_advisory_xact_lock on ``key`` (any text) in ``lock_class``, held to the commit."""
    lock = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big", signed=True)
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [lock_class, lock])


def ratelimit_hit(*, scope, kind, value):
    """Count one attempt at ``scope`` (a form) by ``value`` (of ``kind``); Limited when it is over the limit.

    A store that does not answer lets the attempt through (and says so in the log): the forms
    stay usable, and the database rules still stop double bookings.
    """
    if not settings.CLINIC_RATELIMIT_ENABLED:
        return None
    limit, period = getattr(settings, RATE_SETTINGS[kind])
    now = time.time()
    window = int(now // period)
    retry_after = max(1, math.ceil((window + 1) * period - now))
    digest = salted_hmac("clinic.ratelimit", f"{kind}:{value}", algorithm="sha256").hexdigest()[:32]
    key = f"{scope}:{kind}:{period}:{window}:{digest}"
    try:
        count = counter_incr(caches[settings.CLINIC_RATELIMIT_CACHE], key, timeout=retry_after + 1)
    except (DatabaseError, RedisError) as error:
        logger.error("Rate limit for %s per %s not counted: %s", scope, kind, type(error).__name__)
        return None
    if count <= limit:
        return None
    logger.warning("Rate limit reached for %s per %s (%s in %s s)", scope, kind, limit, period)
    return Limited(retry_after=retry_after)


def counter_incr(cache, key, *, timeout):
    """Add one to the counter at ``key`` (created with ``timeout``) and return its new value, atomically."""
    if isinstance(cache, RedisCache):
        cache.add(key, 0, timeout)
        try:
            return cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, timeout)
            return 1
    if isinstance(cache, DatabaseCache):
        alias = router.db_for_write(cache.cache_model_class)
        with transaction.atomic(using=alias):
            advisory_xact_lock(lock_class=LOCK_CLASS, key=key, using=alias)
            count = cache.get(key, 0) + 1
            cache.set(key, count, timeout)  # not incr(): it would reset the expiry to the default
        return count
    raise ImproperlyConfigured(
        f"CLINIC_RATELIMIT_CACHE ({settings.CLINIC_RATELIMIT_CACHE!r}) must be a RedisCache or a DatabaseCache "
        f"shared by every worker and host, not {type(cache).__name__}."
    )


def ratelimit_response(request, *, limited):
    """The site's 429 page: nothing was stored; wait, or phone the clinic."""
    response = render(request, "429.html", {"minutes": limited.minutes}, status=429)
    response["Retry-After"] = str(limited.retry_after)
    add_never_cache_headers(response)
    return response


def ratelimit_posts(scope):
    """Decorate a view: every POST counts against the client's address, and past the limit gets the 429 page."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                limited = ratelimit_hit(scope=scope, kind="address", value=address_key(client_ip(request)))
                if limited is not None:
                    return ratelimit_response(request, limited=limited)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
