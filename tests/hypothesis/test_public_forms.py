"""Property-based tests of every public form: generated submissions, valid and hostile (issue 6, "Bad input").

Each submission goes through Django's test client, so the whole request path runs: middleware,
URL routing, the form, the view and PostgreSQL. The properties, for every form:

- never a 5xx: each endpoint answers only with the statuses listed for it here;
- invalid input gets a 4xx with the form back and its errors (or, for a body over Django's size
  limit, the site's 400 page before any view runs), and stores nothing;
- valid input is stored exactly as sent, after the documented normalisation: email and message
  stripped of surrounding white space (Django's CharField and EmailField strip; neither changes
  case), names stripped of the invisible characters around them too (white space, controls, format
  characters such as zero-width spaces, the Hangul fillers), the phone number in E.164, "yes"/"no"
  as a boolean;
- a name with no letter left to see (only zero-width spaces, say) is never accepted.

Hostile input: all of Unicode but surrogates (no HTTP request can carry one), with white space,
control, format (RTL marks, zero-width joiners, BOM), combining, private-use and unassigned
characters and emoji; NUL bytes; values up to 1 MB; the same key twice (a list where a scalar is
expected); missing fields; random extra fields; bodies multipart, urlencoded from UTF-8 or from
Latin-1 (read back as replacement characters), or JSON (no form at all); query strings that are
not UTF-8 at all.

Every test runs its examples in one test transaction, and each example's writes roll back to a
savepoint, so each example sees the same rows and the same free times. Each test asserts how many
submissions it sent; the total per form is in the section headings below.
"""

import json
import operator
import unicodedata
from contextlib import contextmanager
from datetime import date, time, timedelta
from urllib.parse import quote, urlencode

import phonenumbers
import pytest
from django import forms
from django.conf import settings as django_settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from booking.appointments.services import appointment_request
from booking.emails.compose import email_build
from booking.links import manage_token, waitlist_claim_token
from booking.models import (
    Appointment,
    AppointmentStatus,
    Message,
    MessageKind,
    Practitioner,
    Treatment,
    WaitlistEntry,
    WaitlistStatus,
    WorkingHours,
)
from booking.requests.botcheck import form_token, form_token_read
from booking.requests.forms import start_format, start_parse
from booking.requests.services import request_email_confirm
from booking.schedule.availability import first_day_today, free_slots
from clinic.models import ClinicDetails, PrivacyNotice
from tests.factories import answers_fine

pytestmark = pytest.mark.django_db

ERROR_SUMMARY = "There is a problem"

# --- Running examples ------------------------------------------------------------------------------


@contextmanager
def rolled_back():
    """Undo whatever one example wrote, so the next one starts from the same rows and free times."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def examples_run(check, strategy, *, examples, explicit=()):
    """Call ``check`` with ``examples`` generated values, each in its own rolled-back savepoint.

    ``explicit`` values run first, every time (the 1 MB fields). Returns how many values were
    sent, so that each test can assert its share of the 1000 per form.
    """
    sent = 0

    def property_holds(value):
        nonlocal sent
        sent += 1
        with rolled_back():
            check(value)

    for value in explicit:
        property_holds = example(value)(property_holds)
    settings(max_examples=examples)(given(strategy)(property_holds))()
    return sent


def last_values(pairs):
    """What a Django form reads from a submission: for a key sent several times, its last value."""
    return dict(pairs)


def post(client, url, submission):
    pairs, encoding = submission
    if encoding == "multipart":
        grouped = {}
        for key, value in pairs:
            grouped.setdefault(key, []).append(value)
        return client.post(url, grouped)
    if encoding == "json":  # not a form at all
        return client.post(url, json.dumps(pairs), content_type="application/json")
    return client.post(url, urlencoded(pairs, encoding), content_type="application/x-www-form-urlencoded")


def urlencoded(pairs, encoding):
    """The body a client sends, percent-encoding UTF-8 or (a broken client) Latin-1."""
    return urlencode(pairs, encoding="latin-1" if encoding == "latin-1" else "utf-8", errors="replace")


def received(submission):
    """The fields as the site reads them: a JSON body is no form, a Latin-1 body is read as UTF-8."""
    pairs, encoding = submission
    if encoding == "json":
        return []
    if encoding == "latin-1":
        return [(mojibake(key), mojibake(value)) for key, value in pairs]
    return pairs


def mojibake(text):
    return text.encode("latin-1", "replace").decode("utf-8", "replace")


def get(client, url, pairs):
    return client.get(f"{url}?{urlencode(pairs)}" if pairs else url)


def assert_form_back_with_errors(response, status):
    assert response.status_code == status, response.status_code
    assert ERROR_SUMMARY in response.content.decode()


def body_too_big(submission):
    """Whether Django refuses the body before any view reads it: form data over DATA_UPLOAD_MAX_MEMORY_SIZE.

    A 1 MB field is 1 MB of UTF-8 in a multipart body but up to 3 MB once percent-encoded.
    """
    pairs, encoding = submission
    if encoding == "json":  # never read as form data
        return False
    if encoding == "multipart":
        size = sum(len(key.encode()) + 2 + len(value.encode()) for key, value in pairs)
    else:
        size = len(urlencoded(pairs, encoding))
    return size > django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def assert_refused_or_form_back_with_errors(response, submission):
    """A 4xx: the form again with its errors, or the site's 400 page for a body over the size limit."""
    if body_too_big(submission):
        assert response.status_code == 400
        assert ERROR_SUMMARY not in response.content.decode()  # refused before the view ran
    else:
        assert_form_back_with_errors(response, response.status_code)


# --- Strategies -----------------------------------------------------------------------------------

# The Unicode categories where input handling goes wrong: white space (Zs, Zl, Zp), controls (Cc),
# format characters such as RTL marks and zero-width joiners (Cf), private use (Co), unassigned
# (Cn), combining marks (Mn, Me), digits that are not ASCII (Nd, No, Nl), emoji and symbols (So, Sk).
HOSTILE_CATEGORIES = ["Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Cn", "Mn", "Me", "Nd", "No", "Nl", "So", "Sk", "Lo", "Po"]
NASTY = [
    "\x00",
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\ufeff",  # byte order mark
    "\u0301",  # combining acute accent
    "\u2028",
    "\u2029",
    "\x85",
    "\xa0",
    "\u3000",
    "\ufffd",
    "\uffff",
    "\U0010ffff",
    "\r\n",
    "\n",
    "\t",
    "'",
    '"',
    "\\",
    "%",
    "%00",
    "<script>alert(1)</script>",
    "{{ clinic }}",
    "{% csrf_token %}",
    "'; DROP TABLE booking_appointment; --",
    "😀",
    "👩🏽‍⚕️",
    "🇬🇧",
    "²",
    "٣",
    "１",
    "Ⅻ",
]
ONE_MB = 1_000_000
ONE_MB_TEXT = "é" * (ONE_MB // 2)  # 1 MB of UTF-8


def chars(**kwargs):
    """Characters that UTF-8 can carry: all of Unicode but the surrogates."""
    return st.characters(**{"codec": "utf-8", **kwargs})


def long_value(unit, length):
    """``unit`` repeated ``length`` times, but never more than 1 MB of UTF-8."""
    return unit * min(length, ONE_MB // len(unit.encode()))


long_text = st.builds(
    long_value,
    st.sampled_from(["x", "é", "李", "😀", "\x00", " ", "a\u0301", "\u200f"]),
    st.sampled_from([101, 255, 2001, 10_000, 100_000, ONE_MB]),
)
short_hostile_text = st.one_of(
    st.text(chars(), max_size=40),  # all of Unicode but surrogates
    st.text(chars(categories=HOSTILE_CATEGORIES), max_size=40),
    st.lists(st.sampled_from(NASTY), max_size=12).map("".join),
    st.text(chars(codec="ascii"), max_size=40),
)
# About 1 value in 40 is long (up to 1 MB): enough to cross every length limit, few enough to stay quick.
hostile_text = st.integers(0, 39).flatmap(lambda pick: long_text if pick == 0 else short_hostile_text)
extra_key = st.one_of(
    st.text(chars(codec="ascii", exclude_characters='"\r\n'), min_size=1, max_size=20),
    st.text(chars(exclude_characters='"\r\n'), min_size=1, max_size=20),
    st.sampled_from(["csrfmiddlewaretoken", "id", "pk", "status", "reference", "staff_notes", "is_staff", "q[]"]),
)
# How a browser sends a form, and (for hostile submissions) how a broken client might.
encodings = st.sampled_from(["multipart", "urlencoded"])
hostile_encodings = st.sampled_from(["multipart", "urlencoded", "multipart", "urlencoded", "latin-1", "json"])

REAL_NAMES = [
    "Zoë",
    "Zoe\u0308",  # the same name with a combining diaeresis
    "Łukasz",
    "Nguyễn",
    "O'Brien",
    "D'Arcy-Smith",
    "李",
    "王小明",
    "محمد",
    "فاطمة الزهراء",
    "נועה",
    "יוסף כהן",
    "Siobhán",
    "José María",
    "Müller-Lüdenscheidt",
    "Þórunn",
    "Ólafsdóttir",
    "Αλέξανδρος",
    "Дмитрий",
    "ज्योति",
    "สมชาย",
    "김민준",
    "Ngũgĩ",
    "Nuñez",
    "Ørsted",
    "Çağrı",
    "Dvořák",
    "Mary-Jane",
    "St. John",
    "X Æ A-12",
]
# Text around an email or phone number that the form strips (Python's str.strip: any Unicode white space).
padding = st.text(st.sampled_from(" \t\xa0\u3000\u2003"), max_size=3)
# Around a name, invisible characters are stripped as well.
name_padding = st.text(st.sampled_from(" \t\xa0\u3000\u2003\u200b\u200e\u200f\u2060\ufeff\u3164"), max_size=3)
# Letters (Unicode's L categories) that draw nothing.
BLANK_LETTERS = "\u115f\u1160\u3164\uffa0"


def visible(char):
    return unicodedata.category(char) not in {"Zs", "Zl", "Zp", "Cc", "Cf"} and char not in BLANK_LETTERS + "\u2800"


def name_as_stored(sent):
    """The name from its first to its last visible character."""
    shown = [index for index, char in enumerate(sent) if visible(char)]
    return sent[shown[0] : shown[-1] + 1] if shown else ""


def has_a_letter(name):
    return any(unicodedata.category(char).startswith("L") and char not in BLANK_LETTERS for char in name)


bare_names = st.one_of(
    st.sampled_from(REAL_NAMES),
    st.text(chars(categories=["L", "M"]), min_size=1, max_size=100).filter(
        lambda n: name_as_stored(n) == n and has_a_letter(n)
    ),
    st.from_regex(r"\A[A-Z][a-z]{1,20}(['\- ][A-Z][a-z]{1,20}){0,2}\Z"),
)
names = st.tuples(name_padding, bare_names, name_padding).map("".join)

email_locals = st.one_of(
    st.from_regex(r"\A[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\.[a-zA-Z0-9_+-]{1,10}){0,2}\Z"),
    st.sampled_from(["ada", "ada.lovelace", "ada+clinic", "o'brien", '"ada..lovelace"', "ADA"]),
)
email_domains = st.one_of(
    st.from_regex(r"\A([a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\.){1,2}(com|org|co\.uk|de|clinic|museum)\Z"),
    st.sampled_from(["Example.COM", "münchen.de", "例え.テスト", "пример.рф", "xn--mnchen-3ya.de", "localhost"]),
)
emails = st.tuples(padding, email_locals, st.just("@"), email_domains, padding).map("".join)


def example_phone_numbers():
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                numbers.append(number)
    return numbers


PHONE_NUMBERS = example_phone_numbers()
PHONE_FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]


@st.composite
def phones(draw):
    """(as typed, as stored): numbers from every region, typed in the ways people and phones write them."""
    number = draw(st.sampled_from(PHONE_NUMBERS))
    formats = PHONE_FORMATS + ([phonenumbers.PhoneNumberFormat.NATIONAL] if number.country_code == 44 else [])
    typed = phonenumbers.format_number(number, draw(st.sampled_from(formats)))
    assume(len(typed) <= 30)
    return draw(padding) + typed, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


messages = st.one_of(
    st.just(""),
    st.text(chars(exclude_characters="\x00"), max_size=300),
    st.lists(st.sampled_from([n for n in NASTY if "\x00" not in n] + ["Hello", "\n\n", "😀🎉", "שלום", "مرحبا"]))
    .map(" ".join)
    .filter(lambda m: len(m.strip()) <= 2000),
    st.builds(long_value, st.sampled_from(["a", "é", "😀", "\u200f"]), st.just(2000)),
)


@st.composite
def mutated(draw, valid, hostile_for):
    """A valid submission (``valid``: a strategy of (key, value) pairs) broken in one to four ways.

    ``hostile_for(key)`` gives the hostile values for one field. Returns (pairs, encoding).
    """
    pairs = list(draw(valid))
    for operation in draw(st.lists(st.sampled_from(["replace", "drop", "twice", "extra"]), min_size=1, max_size=4)):
        if operation == "extra" or not pairs:
            pairs.append((draw(extra_key), draw(hostile_text)))
            continue
        index = draw(st.integers(0, len(pairs) - 1))
        key = pairs[index][0]
        if operation == "replace":
            pairs[index] = (key, draw(hostile_for(key)))
        elif operation == "drop":
            del pairs[index]
        else:  # the same key twice, the hostile value first or last
            pairs.insert(index + draw(st.integers(0, 1)), (key, draw(hostile_for(key))))
    return pairs, draw(hostile_encodings)


# Query strings that are not UTF-8, or not even well-formed percent-encoding.
raw_queries = st.one_of(
    st.binary(max_size=60).map(lambda data: "".join(f"%{byte:02X}" for byte in data)),
    st.text(chars(codec="ascii", exclude_characters="#"), max_size=60).map(lambda s: quote(s, safe="=&%+;")),
)


def raw_get(client, url, query):
    return client.get(url, QUERY_STRING=query)


# --- Shared rows --------------------------------------------------------------------------------


@pytest.fixture
def treatment():
    return Treatment.objects.get(slug="hair-loss")


@pytest.fixture
def working_hours():
    return time(8), time(20)


# Pages that list free times render every one of them: tests that send many such pages use a
# shorter day (three hours, not twelve), so that a thousand of them stay quick. What the page
# does with the input does not depend on how many times it lists.
mornings_only = pytest.mark.parametrize("working_hours", [(time(9), time(12))], ids=["mornings"])


@pytest.fixture
def practitioner(treatment, working_hours):
    """The only active practitioner, working every day (08:00-20:00 unless a test says otherwise)."""
    Practitioner.objects.update(active=False)
    person = Practitioner.objects.create(name="Dr Ada Test")
    person.treatments.add(treatment)
    start, end = working_hours
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=person, weekday=day, start_time=start, end_time=end) for day in range(7)
    )
    return person


@pytest.fixture
def slots(treatment, practitioner):
    """Free times two to eight days ahead: well inside the notice, the horizon and the self-service cutoff."""
    first = first_day_today() + timedelta(days=2)
    found = free_slots(treatment=treatment, first_day=first, last_day=first + timedelta(days=6))
    assert len(found) > 50
    return found


def url_of(name, **kwargs):
    return reverse(f"booking:{name}", kwargs=kwargs)


def phone_e164(typed):
    return phonenumbers.format_number(phonenumbers.parse(typed, "GB"), phonenumbers.PhoneNumberFormat.E164)


def start_values(slots):
    """Hostile values for a chosen time: near misses of real free times, and garbage."""
    real = st.sampled_from(slots).map(operator.attrgetter("start"))
    return st.one_of(
        real.map(start_format),
        real.map(lambda s: s.astimezone(timezone.get_default_timezone()).isoformat()),  # same instant, local zone
        real.map(lambda s: (s + timedelta(minutes=7)).isoformat()),  # off the slot grid
        real.map(lambda s: s.replace(tzinfo=None).isoformat()),  # no zone
        real.map(lambda s: (s - timedelta(days=30)).isoformat()),  # in the past
        real.map(lambda s: (s + timedelta(days=400)).isoformat()),  # past the horizon
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        st.sampled_from(
            [
                "0001-01-01T00:00:00+14:00",
                "9999-12-31T23:59:59-14:00",
                "2026-02-30T10:00:00Z",
                "2026-12-01T25:00:00Z",
                "2026-12-01T10:00:00+24:00",
                "2026-12-01",
                "now",
                "1e308",
                "",
            ]
        ),
        hostile_text,
    )


def practitioner_values(practitioner):
    return st.one_of(
        st.sampled_from(["any", str(practitioner.pk), "", "0", "-1", "1.0", " 1", "99999999999999999999", "ANY"]),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.text(chars(categories=["Nd", "No", "Nl"]), min_size=1, max_size=5),
        hostile_text,
    )


# === FAQ search: GET /faq/?q= ===============================================================
# 1001 submissions: 300 real searches + 601 hostile queries (one 1 MB) + 100 raw query strings.

FAQ_WORDS = ["mesotherapy", "hair", "fat", "cellulite", "bruising", "sessions", "Mesotherapy?", "face neck"]


def test_faq_search_answers_every_real_search_and_shows_it_back_escaped(client):
    """300 searches: words from the FAQ, real names and free Unicode text, all within the 200-character limit."""
    queries = st.one_of(
        st.sampled_from(FAQ_WORDS),
        st.lists(st.sampled_from(FAQ_WORDS + REAL_NAMES + ["OR", "-", '"', "and"]), min_size=1, max_size=6).map(
            " ".join
        ),
        st.text(chars(exclude_characters="\x00"), min_size=1, max_size=200),
    )

    def check(query):
        response = get(client, "/faq/", [("q", query)])
        assert response.status_code == 200
        shown = query.strip()
        if shown:
            assert escape(shown) in response.content.decode()

    sent = examples_run(check, queries, examples=300)
    assert sent >= 300


def test_faq_search_answers_hostile_queries_with_the_page_or_a_400(client):
    """601 queries: hostile text, NUL bytes, 1 MB values, the key twice, missing, extra keys."""

    def check(submission):
        pairs, _ = submission
        response = get(client, "/faq/", pairs)
        query = last_values(pairs).get("q", "").strip()
        valid = len(query) <= 200 and "\x00" not in query
        assert response.status_code == (200 if valid else 400)
        html = response.content.decode()
        assert "<script>alert(1)" not in html
        if not valid:
            assert "is-invalid" in html  # the search box comes back marked, with its message

    valid = st.tuples(st.just(("q", "mesotherapy")))
    submissions = mutated(valid, lambda key: hostile_text)
    one_mb = [([("q", ONE_MB_TEXT)], "get")]
    sent = examples_run(check, submissions, examples=600, explicit=one_mb)
    assert sent >= 601


def test_faq_search_survives_query_strings_that_are_not_utf8(client):
    """100 raw query strings: invalid UTF-8 and broken percent-encoding."""

    def check(query):
        response = raw_get(client, "/faq/", query)
        assert response.status_code in {200, 400}

    sent = examples_run(check, raw_queries.map(lambda q: f"q={q}"), examples=100)
    assert sent >= 100


# === Booking step 1: GET /book/?treatment= =====================================================
# 1001 submissions: 701 generated (real slugs and hostile, one 1 MB) + 300 raw query strings.


def test_choose_treatment_redirects_a_real_treatment_and_refuses_anything_else(client, practitioner):
    """701 submissions: active and inactive slugs, near misses and hostile text, sent once, twice or not at all."""
    active = set(Treatment.objects.active().values_list("slug", flat=True))
    every = sorted(Treatment.objects.values_list("slug", flat=True))
    slugs = st.one_of(
        st.sampled_from(every),
        st.sampled_from(every).map(str.upper),
        st.sampled_from(every).map(lambda s: s + "\x00"),
        st.sampled_from(every).map(lambda s: f" {s} "),
        hostile_text,
    )

    def check(submission):
        pairs, _ = submission
        response = get(client, reverse("booking:book"), pairs)
        chosen = last_values(pairs).get("treatment", "")
        if not chosen:
            assert response.status_code == 200
        elif chosen[:120] in active:
            assert response.status_code == 302
            assert response["Location"] == url_of("times", treatment_slug=chosen)
        else:
            assert response.status_code == 404
            assert "We could not find that treatment" in response.content.decode()

    valid = st.sampled_from(every).map(lambda slug: [("treatment", slug)])
    one_mb = [([("treatment", ONE_MB_TEXT)], "get")]
    sent = examples_run(check, mutated(valid, lambda key: slugs), examples=700, explicit=one_mb)
    assert sent >= 701


def test_choose_treatment_survives_query_strings_that_are_not_utf8(client, practitioner):
    """300 raw query strings: invalid UTF-8 and broken percent-encoding."""

    def check(query):
        response = raw_get(client, reverse("booking:book"), query)
        assert response.status_code in {200, 302, 404}

    queries = st.one_of(raw_queries.map(lambda q: f"treatment={q}"), raw_queries)
    sent = examples_run(check, queries, examples=300)
    assert sent >= 300


# === Booking step 2: the free times (GET /book/<slug>/?from=&practitioner=) and the time chosen ===
# (GET /book/<slug>/details/?start=&practitioner=, the times page's own form).
# 1003 submissions: 452 times pages + 50 unknown treatments in the address + 501 chosen times.


@mornings_only
def test_times_page_shows_times_or_says_what_it_could_not_read(client, treatment, practitioner):
    """452 submissions of the period and practitioner, valid and hostile."""
    today = first_day_today()
    days = st.dates(min_value=today - timedelta(days=30), max_value=today + timedelta(days=90)).map(date.isoformat)
    valid = st.tuples(
        st.tuples(st.just("from"), days),
        st.tuples(st.just("practitioner"), st.sampled_from(["any", str(practitioner.pk)])),
    )

    def hostile_for(key):
        if key == "practitioner":
            return practitioner_values(practitioner)
        return st.one_of(days, st.sampled_from(["2026-02-30", "0001-01-01", "9999-12-31", "20261201"]), hostile_text)

    def check(submission):
        pairs, _ = submission
        response = get(client, url_of("times", treatment_slug=treatment.slug), pairs)
        sent = last_values(pairs)
        readable = True
        if "from" in sent:
            try:
                date.fromisoformat(sent["from"][:10])
            except ValueError:
                readable = False
        if sent.get("practitioner") not in (None, "", "any", str(practitioner.pk)):
            readable = False
        assert response.status_code == (200 if readable else 400)
        html = response.content.decode()
        assert f"Choose a time for {treatment.name}" in html
        if not readable:
            assert ERROR_SUMMARY in html

    one_mb = [([("from", ONE_MB_TEXT)], "get"), ([("practitioner", ONE_MB_TEXT)], "get")]
    sent = examples_run(check, mutated(valid, hostile_for), examples=450, explicit=one_mb)
    assert sent >= 452


def test_times_page_for_an_unknown_treatment_is_not_found(client, practitioner):
    """50 addresses naming no active treatment."""
    active = set(Treatment.objects.active().values_list("slug", flat=True))

    def check(slug):
        assume(slug not in active)
        response = client.get(f"/book/{quote(slug, safe='')}/")
        assert response.status_code == 404

    slugs = st.one_of(st.from_regex(r"\A[-a-zA-Z0-9_]+\Z"), short_hostile_text)
    sent = examples_run(check, slugs, examples=50)
    assert sent >= 50


@mornings_only
def test_chosen_time_opens_the_details_form_only_for_a_real_free_time(client, treatment, slots, practitioner):
    """501 chosen times: real free times and near misses, past, unreadable and hostile values."""
    free = {slot.start for slot in slots}
    valid = st.tuples(
        st.tuples(st.just("start"), st.sampled_from(slots).map(lambda slot: start_format(slot.start))),
        st.tuples(st.just("practitioner"), st.sampled_from(["any", str(practitioner.pk)])),
    )

    def hostile_for(key):
        return practitioner_values(practitioner) if key == "practitioner" else start_values(slots)

    def check(submission):
        pairs, _ = submission
        response = get(client, url_of("details", treatment_slug=treatment.slug), pairs)
        assert response.status_code in {200, 400, 409}
        sent = last_values(pairs)
        start = start_parse(sent.get("start"))
        if start in free and sent.get("practitioner") in (None, "", "any", str(practitioner.pk)):
            assert response.status_code == 200
        html = response.content.decode()
        if response.status_code == 200:
            assert f'name="start" value="{start_format(start)}"' in html
            assert 'name="first_name"' in html
        else:
            assert ERROR_SUMMARY in html

    one_mb = [([("start", ONE_MB_TEXT), ("practitioner", "any")], "get")]
    sent = examples_run(check, mutated(valid, hostile_for), examples=500, explicit=one_mb)
    assert sent >= 501


# === The details form: POST /book/<slug>/details/ ===============================================
# 1010 submissions: 350 valid bookings + 660 hostile ones (8 with a 1 MB field).


@st.composite
def booking_submissions(draw, slots, practitioner):
    """(pairs, expected row): a valid booking as a browser would send it."""
    slot = draw(st.sampled_from(slots))
    first_name, last_name, email = draw(names), draw(names), draw(emails)
    typed_phone, stored_phone = draw(phones())
    message = draw(messages)
    first_visit = draw(st.sampled_from(["yes", "no"]))
    chosen = draw(st.sampled_from(["any", str(practitioner.pk)]))
    pairs = [
        ("start", start_format(slot.start)),
        ("practitioner", chosen),
        ("first_name", first_name),
        ("last_name", last_name),
        ("email", email),
        ("phone", typed_phone),
        ("message", message),
        ("first_visit", first_visit),
        ("consent", "on"),
        ("website", ""),
        ("started", form_token()),
        *answers_fine().items(),
    ]
    expected = {
        "starts_at": slot.start,
        "practitioner_id": practitioner.pk,
        "first_name": name_as_stored(first_name),
        "last_name": name_as_stored(last_name),
        "email": email.strip(),
        "phone": stored_phone,
        "message": message.strip(),
        "first_visit": first_visit == "yes",
    }
    return pairs, expected


def assert_stored_as(row, expected):
    for field, value in expected.items():
        assert getattr(row, field) == value, field


def test_valid_booking_is_stored_exactly_as_typed(client, treatment, slots, practitioner):
    """350 valid bookings with names from many scripts, every kind of email and phone, emoji and RTL messages.

    Each is stored in PostgreSQL exactly as sent (after the documented normalisation), and the
    patient's queued email greets them by that exact name.
    """
    url = url_of("details", treatment_slug=treatment.slug)
    notice = PrivacyNotice.objects.current()

    def check(example):
        (pairs, expected), encoding, extras = example
        response = post(client, url, (pairs + extras, encoding))
        assert response.status_code == 303, response.content.decode()[:2000]
        assert response["Location"].startswith("/book/done/")
        row = Appointment.objects.get()  # read back from PostgreSQL
        assert_stored_as(row, expected)
        assert row.status == AppointmentStatus.REQUESTED
        assert row.consent_at is not None
        assert row.privacy_notice == notice
        assert row.submission_key == form_token_read(last_values(pairs)["started"]).key
        queued = {message.kind: message for message in Message.objects.filter(appointment=row)}
        # A new address: the clinic hears of the request once the patient has confirmed it.
        assert set(queued) == {MessageKind.REQUEST_RECEIVED}
        to_patient = email_build(message=queued[MessageKind.REQUEST_RECEIVED])
        assert to_patient.to == [expected["email"]]
        assert f"Dear {expected['first_name']}," in to_patient.body  # the name survives into the email intact
        assert "/book/confirm-email/" in to_patient.body
        assert to_patient.message().as_bytes()
        request_email_confirm(appointment=row)
        queued = {message.kind: message for message in Message.objects.filter(appointment=row)}
        to_clinic = email_build(message=queued[MessageKind.CLINIC_NEW_REQUEST])
        assert to_clinic is None or to_clinic.message().as_bytes()  # None: the clinic has no address set

    # Extra fields a browser extension or a bot might add, which the form ignores.
    extras = st.lists(st.tuples(extra_key, short_hostile_text), max_size=2)
    examples = st.tuples(booking_submissions(slots, practitioner), encodings, extras)
    sent = examples_run(check, examples, examples=350)
    assert sent >= 350


# Near misses of what each field expects, beside the hostile text every field gets.
NEAR_MISSES = {
    "email": st.sampled_from(
        ["ada", "ada@", "@example.com", "ada@@example.com", "ada@exa mple.com", "ada@example", "a" * 250 + "@x.co"]
    ),
    "phone": st.sampled_from(["+44", "999", "+999 123", "020 7946 000", "0000000000", "+1 555 0100", "٠٢٠٧٩٤٦٠٠٠٠"]),
    "first_visit": st.sampled_from(["maybe", "YES", "", "true", "1"]),
    "consent": st.sampled_from(["", "off", "false", "0", "no"]),
    "website": st.sampled_from(["http://spam.example", " ", "x"]),
    "started": st.sampled_from(["1", "garbage", "1.0:bad-signature", "00000000-0000-0000-0000-000000000000", "{}"]),
}


# A valid patient as a browser sends them, for the explicit examples.
TYPED = [
    ("first_name", "Zoë"),
    ("last_name", "Nguyễn"),
    ("email", "zoe@example.com"),
    ("phone", "020 7946 0000"),
    ("consent", "on"),
    ("website", ""),
    # One form, sent with every variation: the database's key makes the first valid one the only one.
    ("started", form_token()),
]
PATIENT_FIELDS = ["first_name", "last_name", "email", "phone"]
INVISIBLE_NAME = "\u200b\u00a0\u2060\u202e\u3164"


def one_mb_in_each(pairs, fields):
    """The submission once for each of ``fields``, with that field 1 MB long."""
    return [([(key, ONE_MB_TEXT if key == field else value) for key, value in pairs], "multipart") for field in fields]


def hostile_values(key):
    return st.one_of(NEAR_MISSES[key], hostile_text) if key in NEAR_MISSES else hostile_text


def test_hostile_booking_gets_the_form_back_with_errors_and_stores_nothing(client, treatment, slots, practitioner):
    """660 bookings broken in one to four ways: hostile values, near misses, missing, doubled and extra fields.

    Those that are still valid (say, a name wrapped in right-to-left marks) are stored as sent;
    a name that is only such marks is refused.
    """
    url = url_of("details", treatment_slug=treatment.slug)
    valid = booking_submissions(slots, practitioner).map(operator.itemgetter(0))

    def hostile_for(key):
        if key == "start":
            return start_values(slots)
        if key == "practitioner":
            return practitioner_values(practitioner)
        return hostile_values(key)

    def check(submission):
        response = post(client, url, submission)
        assert response.status_code in {200, 303, 400, 409}
        if response.status_code == 200:
            # Valid details with a broken step or answers: the health questions are asked (again).
            assert "<h1>Health questions</h1>" in response.content.decode()
            assert not Appointment.objects.exists()
            return
        if response.status_code != 303:
            assert_refused_or_form_back_with_errors(response, submission)
            assert not Appointment.objects.exists()
            assert not Message.objects.exists()
            return
        sent = last_values(received(submission))
        assert has_a_letter(sent["first_name"]) and has_a_letter(sent["last_name"])
        practitioner_sent = sent.get("practitioner") or "any"
        assert_stored_as(
            Appointment.objects.get(),
            {
                "starts_at": start_parse(sent["start"]),
                "practitioner_id": practitioner.pk if practitioner_sent == "any" else int(practitioner_sent),
                "first_name": name_as_stored(sent["first_name"]),
                "last_name": name_as_stored(sent["last_name"]),
                "email": sent["email"].strip(),
                "phone": phone_e164(sent["phone"]),
                "message": sent.get("message", "").strip(),
                "first_visit": sent["first_visit"] == "yes",
            },
        )

    base = [
        ("start", start_format(slots[0].start)),
        ("practitioner", "any"),
        *TYPED,
        ("message", "Bonjour 😀"),
        ("first_visit", "yes"),
        *answers_fine().items(),
    ]
    one_mb = one_mb_in_each(base, ["start", "practitioner", "started", *PATIENT_FIELDS, "message"])
    # A digit to str.isdigit() that int() cannot read: once a 500 (booking/forms.py).
    superscript = [([(k, "²" if k == "practitioner" else v) for k, v in base], "urlencoded")]
    # Names that look empty: once stored, and staff saw a blank name.
    invisible = [([(k, INVISIBLE_NAME if k == "last_name" else v) for k, v in base], "urlencoded")]
    sent = examples_run(check, mutated(valid, hostile_for), examples=650, explicit=one_mb + superscript + invisible)
    assert sent >= 660


# === The waitlist: POST /waitlist/<slug>/ ======================================================
# 1007 submissions: 350 valid + 657 hostile (6 with a 1 MB field).


@st.composite
def waitlist_submissions(draw):
    """(pairs, expected row): a valid place on the waitlist as a browser would send it."""
    today = first_day_today()
    last = today + timedelta(days=ClinicDetails.objects.current().booking_horizon_days)
    date_from = draw(st.dates(min_value=today, max_value=last))
    date_to = draw(st.dates(min_value=date_from, max_value=last))
    first_name, last_name, email = draw(names), draw(names), draw(emails)
    typed_phone, stored_phone = draw(phones())
    pairs = [
        ("first_name", first_name),
        ("last_name", last_name),
        ("email", email),
        ("phone", typed_phone),
        ("date_from", date_from.isoformat()),
        ("date_to", date_to.isoformat()),
        ("consent", "on"),
        ("website", ""),
        ("started", form_token()),
    ]
    expected = {
        "first_name": name_as_stored(first_name),
        "last_name": name_as_stored(last_name),
        "email": email.strip(),
        "phone": stored_phone,
        "date_from": date_from,
        "date_to": date_to,
    }
    return pairs, expected


def test_valid_waitlist_place_is_stored_exactly_as_typed(client, treatment):
    """350 valid places on the waitlist, with the same range of names, emails and phones as the booking form."""
    url = url_of("waitlist_join", treatment_slug=treatment.slug)
    notice = PrivacyNotice.objects.current()

    def check(example):
        (pairs, expected), encoding, extras = example
        response = post(client, url, (pairs + extras, encoding))
        assert response.status_code == 303, response.content.decode()[:2000]
        assert response["Location"] == f"{url}?joined=1"
        row = WaitlistEntry.objects.get()
        assert_stored_as(row, expected)
        assert row.treatment == treatment
        assert row.status == WaitlistStatus.WAITING
        assert row.consent_at is not None
        assert row.privacy_notice == notice

    extras = st.lists(st.tuples(extra_key, short_hostile_text), max_size=2)
    sent = examples_run(check, st.tuples(waitlist_submissions(), encodings, extras), examples=350)
    assert sent >= 350


def test_hostile_waitlist_place_gets_the_form_back_with_errors_and_stores_nothing(client, treatment):
    """657 waitlist forms broken in one to four ways; those still valid are stored as sent."""
    url = url_of("waitlist_join", treatment_slug=treatment.slug)
    today = first_day_today()
    days = st.one_of(
        st.dates().map(date.isoformat),
        st.sampled_from(
            [
                (today - timedelta(days=1)).isoformat(),
                (today + timedelta(days=400)).isoformat(),
                today.strftime("%d/%m/%Y"),
                "2026-02-30",
                "0001-01-01",
                "9999-12-31",
                "99999-01-01",
                "２０２６-１２-０１",
            ]
        ),
    )

    def hostile_for(key):
        if key in ("date_from", "date_to"):
            return st.one_of(days, hostile_text)
        return hostile_values(key)

    def check(submission):
        response = post(client, url, submission)
        assert response.status_code in {303, 400}
        if response.status_code == 400:
            assert_refused_or_form_back_with_errors(response, submission)
            assert not WaitlistEntry.objects.exists()
            return
        sent = last_values(received(submission))
        assert has_a_letter(sent["first_name"]) and has_a_letter(sent["last_name"])
        assert_stored_as(
            WaitlistEntry.objects.get(),
            {
                "first_name": name_as_stored(sent["first_name"]),
                "last_name": name_as_stored(sent["last_name"]),
                "email": sent["email"].strip(),
                "phone": phone_e164(sent["phone"]),
                # Django's DateField reads the formats of the site's locale, not only ISO 8601.
                "date_from": forms.DateField().clean(sent["date_from"]),
                "date_to": forms.DateField().clean(sent["date_to"]),
            },
        )

    valid = waitlist_submissions().map(operator.itemgetter(0))
    days_ahead = [(name, (today + timedelta(days=n)).isoformat()) for name, n in (("date_from", 1), ("date_to", 5))]
    one_mb = one_mb_in_each([*TYPED, *days_ahead], [*PATIENT_FIELDS, "date_from", "date_to"])
    invisible = [([(k, INVISIBLE_NAME if k == "first_name" else v) for k, v in [*TYPED, *days_ahead]], "multipart")]
    sent = examples_run(check, mutated(valid, hostile_for), examples=650, explicit=one_mb + invisible)
    assert sent >= 657


# === Signed links: tokens an attacker can send -------------------------------------------------


def garbled(token):
    """Tokens that are not ``token``: a character changed, cut short, with text inserted or added, or made up."""
    position = st.integers(0, len(token) - 1)
    return st.one_of(
        st.tuples(position, chars()).map(lambda p: token[: p[0]] + p[1] + token[p[0] + 1 :]),
        position.map(lambda i: token[:i]),
        st.tuples(position, short_hostile_text).map(lambda p: token[: p[0]] + p[1] + token[p[0] :]),
        short_hostile_text.map(lambda text: token + text),
        st.just(token.swapcase()),
        st.from_regex(r"\A[A-Za-z0-9_-]{1,40}:[A-Za-z0-9_-]{6}:[A-Za-z0-9_-]{43}\Z"),  # shaped like a real one
        st.text(chars(), max_size=100),
        # As long as a request line gets: gunicorn refuses one over 4094 bytes before Django sees it.
        st.builds(long_value, st.sampled_from(["A", "é", ":"]), st.just(2000)),
    ).filter(lambda garbled_token: garbled_token != token)


def link(name, token):
    """The address with ``token`` in it, percent-encoded as a browser would send it."""
    return url_of(name, token="TOKEN").replace("TOKEN", quote(token, safe=""))


# === The waitlist claim: GET and POST /waitlist/claim/<token>/ =================================
# 1002 submissions: 601 garbled or made-up tokens + 301 claims with hostile bodies + 100 views with hostile queries.


@pytest.fixture
def offer(treatment, slots):
    """A waiting patient offered a freed time, and the token from their email."""
    start = slots[10].start
    entry = WaitlistEntry.objects.create(
        treatment=treatment,
        date_from=timezone.localdate(start),
        date_to=timezone.localdate(start),
        first_name="Zoë",
        last_name="Nguyễn",
        email="zoe@example.com",
        phone="+442079460000",
        consent_at=timezone.now(),
        privacy_notice=PrivacyNotice.objects.current(),
        status=WaitlistStatus.OFFERED,
        offered_start=start,
        offered_at=timezone.now(),
    )
    return entry, waitlist_claim_token(entry=entry)


def test_garbled_claim_links_are_not_found(client, offer):
    """601 garbled or made-up claim tokens, opened or posted with a hostile body: always a 404, nothing booked."""
    _entry, token = offer
    bodies = st.lists(st.tuples(extra_key, hostile_text))
    methods = st.one_of(st.just(("GET", None)), st.tuples(st.just("POST"), bodies))

    def check(example):
        bad_token, (method, body) = example
        url = link("waitlist_claim", bad_token)
        response = client.get(url) if method == "GET" else post(client, url, (body, "urlencoded"))
        assert response.status_code == 404
        assert not Appointment.objects.exists()

    one_mb = [(token + "x", ("POST", [("start", ONE_MB_TEXT)]))]
    sent = examples_run(check, st.tuples(garbled(token), methods), examples=600, explicit=one_mb)
    assert sent >= 601


def test_claim_with_a_real_link_books_the_waiting_patient_whatever_the_body(client, offer):
    """301 claims whose bodies carry hostile fields (the claim reads none): each books the offered time."""
    entry, token = offer
    url = link("waitlist_claim", token)

    def check(body):
        response = post(client, url, body)
        assert response.status_code == 303
        booked = Appointment.objects.get()
        assert_stored_as(
            booked,
            {"starts_at": entry.offered_start, "first_name": "Zoë", "last_name": "Nguyễn", "email": entry.email},
        )
        assert WaitlistEntry.objects.get().status == WaitlistStatus.BOOKED

    keys = st.one_of(extra_key, st.sampled_from(["start", "entry"]))
    bodies = st.tuples(st.lists(st.tuples(keys, hostile_text)), hostile_encodings)
    one_mb = [([("start", ONE_MB_TEXT)], "multipart")]
    sent = examples_run(check, bodies, examples=300, explicit=one_mb)
    assert sent >= 301


def test_opening_a_real_claim_link_with_any_query_shows_the_offer_and_books_nothing(client, offer):
    """100 GETs of a real claim link with hostile query strings."""
    _entry, token = offer
    url = link("waitlist_claim", token)

    def check(pairs):
        response = get(client, url, pairs)
        assert response.status_code == 200
        assert not Appointment.objects.exists()

    sent = examples_run(check, st.lists(st.tuples(extra_key, short_hostile_text), max_size=4), examples=100)
    assert sent >= 100


# === The patient's own pages: /appointment/<token>/, cancel/, move/ ============================
# 1003 submissions: 401 garbled or made-up tokens + 401 move forms + 100 move pages + 51 cancels + 50 views.


@pytest.fixture
def appointment(treatment, slots, practitioner):
    return appointment_request(
        treatment=treatment,
        start=slots[20].start,
        practitioner=practitioner,
        patient={
            "first_name": "Łukasz",
            "last_name": "O'Brien",
            "email": "lukasz@example.com",
            "phone": "+442079460000",
            "message": "",
            "first_visit": True,
        },
    )


# (page, method) -> the only answer a garbled token may get: the page says the link is not valid,
# or the method is not allowed at all on a page that only shows.
GARBLED_ANSWERS = {
    ("manage", "GET"): 404,
    ("manage", "POST"): 405,
    ("manage_cancel", "GET"): 404,
    ("manage_cancel", "POST"): 404,
    ("manage_move", "GET"): 404,
    ("manage_move", "POST"): 404,
    ("manage_calendar", "GET"): 404,
    ("manage_calendar", "POST"): 405,
}


def test_garbled_patient_links_are_not_found_and_change_nothing(client, appointment):
    """401 garbled or made-up tokens on every patient page, opened or posted with hostile bodies."""
    token = manage_token(appointment=appointment)

    def check(example):
        bad_token, (page, method), body = example
        url = link(page, bad_token)
        response = client.get(url) if method == "GET" else post(client, url, (body, "multipart"))
        routed = bad_token and "/" not in bad_token  # else no page has this address at all
        assert response.status_code == (GARBLED_ANSWERS[page, method] if routed else 404)
        assert Appointment.objects.get().status == AppointmentStatus.REQUESTED
        assert Appointment.objects.get().starts_at == appointment.starts_at

    bodies = st.lists(st.tuples(st.one_of(extra_key, st.sampled_from(["start", "practitioner"])), hostile_text))
    examples = st.tuples(garbled(token), st.sampled_from(sorted(GARBLED_ANSWERS)), bodies)
    one_mb = [(token + "x", ("manage_move", "POST"), [("start", ONE_MB_TEXT)])]
    sent = examples_run(check, examples, examples=400, explicit=one_mb)
    assert sent >= 401


@mornings_only
def test_move_form_moves_only_to_a_real_free_time_and_says_why_not(client, appointment, slots, practitioner):
    """401 move forms, valid and broken: moved to exactly the time sent, or the page back with the problem, unmoved."""
    url = link("manage_move", manage_token(appointment=appointment))
    others = [slot for slot in slots if slot.start != appointment.starts_at]
    valid = st.tuples(
        st.tuples(st.just("start"), st.sampled_from(others).map(lambda slot: start_format(slot.start))),
        st.tuples(st.just("practitioner"), st.sampled_from(["any", str(practitioner.pk)])),
    )

    def hostile_for(key):
        return practitioner_values(practitioner) if key == "practitioner" else start_values(slots)

    def check(submission):
        response = post(client, url, submission)
        assert response.status_code in {303, 400, 409}
        row = Appointment.objects.get()
        if response.status_code == 303:
            assert row.starts_at == start_parse(last_values(received(submission))["start"])
            assert row.practitioner == practitioner
            assert row.status == AppointmentStatus.REQUESTED
        else:
            assert_refused_or_form_back_with_errors(response, submission)
            assert row.starts_at == appointment.starts_at

    # Half the examples send a valid move untouched, the others break it.
    submissions = st.one_of(st.tuples(valid.map(list), encodings), mutated(valid, hostile_for))
    one_mb = [([("start", ONE_MB_TEXT), ("practitioner", "any")], "multipart")]
    sent = examples_run(check, submissions, examples=400, explicit=one_mb)
    assert sent >= 401


@mornings_only
def test_move_page_shows_times_or_says_what_it_could_not_read(client, appointment, practitioner):
    """100 GETs of the move page with hostile periods and practitioners."""
    url = link("manage_move", manage_token(appointment=appointment))
    valid = st.tuples(
        st.tuples(st.just("from"), st.dates().map(date.isoformat)),
        st.tuples(st.just("practitioner"), st.sampled_from(["any", str(practitioner.pk)])),
    )

    def hostile_for(key):
        return practitioner_values(practitioner) if key == "practitioner" else hostile_text

    def check(submission):
        response = get(client, url, submission[0])
        assert response.status_code in {200, 400}
        if response.status_code == 400:
            assert ERROR_SUMMARY in response.content.decode()

    sent = examples_run(check, mutated(valid, hostile_for), examples=100)
    assert sent >= 100


def test_cancel_form_cancels_whatever_else_the_body_holds(client, appointment):
    """51 cancels with hostile extra fields: each cancels (303), and a second press is refused (409)."""
    url = link("manage_cancel", manage_token(appointment=appointment))

    def check(body):
        assert post(client, url, body).status_code == 303
        assert Appointment.objects.get().status == AppointmentStatus.CANCELLED_BY_PATIENT
        assert post(client, url, body).status_code == 409

    bodies = st.tuples(st.lists(st.tuples(extra_key, hostile_text), max_size=4), hostile_encodings)
    one_mb = [([("reason", ONE_MB_TEXT)], "urlencoded")]
    sent = examples_run(check, bodies, examples=50, explicit=one_mb)
    assert sent >= 51


def test_appointment_page_shows_the_appointment_whatever_the_query(client, appointment):
    """50 GETs of the patient's page with hostile query strings: always the page, never a change."""
    url = link("manage", manage_token(appointment=appointment))

    def check(pairs):
        response = get(client, url, pairs)
        assert response.status_code == 200
        assert appointment.reference in response.content.decode()
        assert Appointment.objects.get().status == AppointmentStatus.REQUESTED

    sent = examples_run(check, st.lists(st.tuples(extra_key, short_hostile_text), max_size=4), examples=50)
    assert sent >= 50
