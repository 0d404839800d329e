"""The patient's booking path: treatments, the free times, the details form and the confirmation."""

from datetime import date, datetime, time, timedelta
from functools import partial
from itertools import groupby
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import slug_re
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from booking.appointments.services import SlotTaken, TooManyOpenRequests, appointment_request
from booking.intake.services import answers_save, questions_for
from booking.intake.views import ENQUIRY, QUESTIONS, carried_answers, health_step, step_sent
from booking.links import (
    appointment_from_confirmation_token,
    appointment_from_email_confirm_token,
    confirmation_token,
    manage_token,
)
from booking.models import Appointment, Practitioner, Treatment
from booking.requests.forms import (
    ANY_PRACTITIONER,
    DetailsForm,
    TimeChoiceForm,
    start_format,
    start_parse,
)
from booking.requests.middleware import kept_times_page_keep
from booking.requests.services import RequestExpired, request_confirmable, request_email_confirm
from booking.schedule.availability import availability_computed, booking_window, first_day_today, nearest_free_slots
from clinic.cache import cached_page, clinic_details, page_response, response_is_shared, visitor_is_anonymous
from clinic.client_ip import client_ip
from clinic.i18n import language_from_link
from clinic.models import PrivacyNotice
from clinic.ratelimit import address_key, email_key, ratelimit_hit, ratelimit_posts, ratelimit_response

PERIOD_DAYS = 7  # free times shown per page: a week


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


@require_safe
@cached_page
def treatment_list(request):
    return render(request, "booking/treatment_list.html", {"treatments": Treatment.objects.active()})


@require_safe
@cached_page
def treatment_detail(request, slug):
    treatment = get_object_or_404(Treatment.objects.active(), slug=slug)
    questions = treatment.questions.for_page()
    return render(request, "booking/treatment_detail.html", {"treatment": treatment, "questions": questions})


@require_safe
@cached_page
def book(request):
    """Step 1: choose a treatment. A link from a treatment or the FAQ names it already."""
    treatments = Treatment.objects.active()
    slug = request.GET.get("treatment", "")
    if not slug:
        return render(request, "booking/book.html", {"treatments": treatments})
    # Anything but a slug names no treatment (and a NUL byte would not even reach PostgreSQL).
    treatment = treatments.filter(slug=slug[:120]).first() if slug_re.match(slug) else None
    if treatment is None:
        return render(request, "booking/book.html", {"treatments": treatments, "unknown_treatment": True}, status=404)
    return redirect("booking:times", treatment_slug=treatment.slug)


@require_safe
def times(request, treatment_slug):
    """Step 2: the free times for a period of days, for any practitioner or a named one."""
    computed = availability_computed()
    treatment = computed.remember(("treatment", treatment_slug), lambda: active_treatment(treatment_slug))
    if treatment is None:
        raise Http404("No such treatment.")
    return times_page(request, treatment=treatment, computed=computed)


def active_treatment(slug):
    return Treatment.objects.active().filter(slug=slug).first()


def times_page(request, *, treatment, problem=None, status=200, first_day=None, computed=None):
    """The free times of a period; ``computed`` (availability_computed) when the caller has it already."""
    computed = computed or availability_computed()
    rules = clinic_details(request)
    now = timezone.now()
    today = first_day_today(now)
    last_bookable = timezone.localtime(booking_window(rules=rules, now=now)[1]).date()
    problems = [problem] if problem else []

    if first_day is None and "from" in request.GET:
        try:
            first_day = date.fromisoformat(request.GET["from"][:10])
        except ValueError:
            problems.append(gettext("We could not read that date, so these are the free times from today."))
            status = 400
    # A whole period, never before today, never past the horizon.
    first_day = min(first_day or today, last_bookable - timedelta(days=PERIOD_DAYS - 1))
    first_day = max(first_day, today)
    last_day = min(first_day + timedelta(days=PERIOD_DAYS - 1), last_bookable)

    practitioners = computed.remember(
        ("practitioners", treatment.pk), lambda: list(Practitioner.objects.giving(treatment))
    )
    practitioner_value = request.GET.get("practitioner") or ANY_PRACTITIONER
    chosen = next((p for p in practitioners if str(p.pk) == practitioner_value), None)
    if chosen is None and practitioner_value != ANY_PRACTITIONER:
        problems.append(
            gettext("That practitioner does not give %(treatment)s, so these are everyone's free times.")
            % {"treatment": treatment.name}
        )
        status = 400
        practitioner_value = ANY_PRACTITIONER

    slots, slots_until = computed.free_slots_until(
        treatment=treatment, first_day=first_day, last_day=last_day, practitioner=chosen, now=now, rules=rules
    )
    # A page that is everyone's is kept with the free times it shows (availability changes, and
    # staff edits of the treatment, practitioners or the clinic's details, all write a new version).
    shared = status == 200 and not problems and visitor_is_anonymous(request)
    if shared:
        # What the page shows besides the times depends on the day (the period, the links).
        key = ("page", request.build_absolute_uri(), first_day, last_day, last_bookable)
        key += (slots[0].start if slots else None, len(slots))
        kept = computed.get(key)
        if kept is not None:
            return page_response(kept)

    def period_url(day):
        query = {"from": day.isoformat(), "practitioner": practitioner_value}
        return f"{reverse('booking:times', kwargs={'treatment_slug': treatment.slug})}?{urlencode(query)}"

    next_day = last_day + timedelta(days=1)
    context = {
        "clinic": rules,  # already loaded: spares the context processor's query
        "treatment": treatment,
        "practitioners": practitioners,
        "practitioner_value": practitioner_value,
        "chosen_practitioner": chosen,
        "first_day": first_day,
        "last_day": last_day,
        # Coming back to change it: the time chosen before is checked.
        "days": time_choices(slots, chosen=request.GET.get("start")),
        "previous_url": period_url(max(today, first_day - timedelta(days=PERIOD_DAYS))) if first_day > today else None,
        "next_url": period_url(next_day) if next_day <= last_bookable else None,
        "errors": [("times", problem) for problem in problems],
    }
    response = render(request, "booking/times.html", context, status=status)
    if shared and response_is_shared(request, response):
        entry = (response.content, response["Content-Type"])
        computed.keep(key, entry)
        # Served again by kept_times_middleware, before sessions and URL resolution, until the list
        # or the day changes (the period, the horizon's last day, the links).
        horizon = timedelta(days=rules.booking_horizon_days)
        until = min(slots_until, day_ends(now), day_ends(now + horizon) - horizon)
        kept_times_page_keep(request, entry=entry, until=until)
    return response


def day_ends(moment):
    """The next local midnight after ``moment``."""
    day = timezone.localtime(moment).date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time.min))


def time_choices(slots, *, chosen=None):
    """Free times grouped by local day, for the radio groups of includes/time_choices.html.

    A period can hold hundreds of times: their radio buttons are built here in one pass rather
    than by the template language, which costs a hundred times more per button. Every value is
    the site's own (a UTC time in START_FORMAT), and is escaped all the same.
    """
    tz = timezone.get_current_timezone()
    days = []
    for day, day_slots in groupby(
        ((slot.start.astimezone(tz), slot.start) for slot in slots), key=lambda s: s[0].date()
    ):
        options = []
        for local_start, start in day_slots:
            value = escape(start_format(start))
            ident = f"start-{value.lower().replace(':', '')}"
            checked = " checked" if value == chosen else ""
            options.append(
                f'<input class="btn-check" type="radio" name="start" id="{ident}" value="{value}"{checked}>'
                f'<label class="btn btn-outline-primary time-option" for="{ident}">{local_start:%H:%M}</label>'
            )
        days.append({"legend": date_format(day, "l j F"), "options": mark_safe("\n".join(options))})  # noqa: S308  (escaped above)
    return days


# Every posted value is hidden from error reports: the details, and the health answers with them.
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@ratelimit_posts("booking")
def details(request, treatment_slug):
    """Step 3: the patient's details for the chosen time; a valid POST requests the appointment,
    after the health questions when the treatment has any (booking.intake.views)."""
    treatment = get_object_or_404(Treatment.objects.active(), slug=treatment_slug)
    rules = clinic_details(request)
    notice = PrivacyNotice.objects.current()
    questions = questions_for(treatment)

    if request.method == "GET":
        choice = TimeChoiceForm(request.GET, treatment=treatment, rules=rules)
        if not choice.is_valid():
            return times_page(
                request,
                treatment=treatment,
                # A bad practitioner is reported by the times page itself.
                problem=choice.errors["start"][0] if "start" in choice.errors else None,
                status=409 if choice.time_is_taken else 400,
                first_day=timezone.localtime(bookable_around(request.GET.get("start"), rules=rules)).date(),
            )
        start, practitioner = choice.cleaned_data["start"], choice.cleaned_data["practitioner"]
        initial = {
            "start": start_format(start),
            "practitioner": str(practitioner.pk) if practitioner else ANY_PRACTITIONER,
        }
        form = DetailsForm(initial=initial, treatment=treatment, rules=rules, privacy_notice=notice)
        return details_page(
            request, treatment=treatment, form=form, start=start, practitioner=practitioner, questions=questions
        )

    # Sent on from the details page to the questions, the time is checked now; sent from the
    # questions, the booking checks it (an enquiry holds no time at all).
    check_time = bool(questions) and step_sent(request) not in (QUESTIONS, ENQUIRY)
    form = DetailsForm(request.POST, treatment=treatment, rules=rules, privacy_notice=notice, check_time=check_time)
    # A double click or a resubmitted page: the first request already made the appointment. The key
    # comes only from the form's signed token, which the site made for this one browser's form.
    earlier = submitted_appointment(form.token_key)
    if earlier is not None:
        return confirmation_redirect(earlier)
    answers = []
    if form.is_valid() and questions:
        if "edit" in request.POST:  # back from the questions: the details as typed, answers carried
            return details_page(
                request,
                treatment=treatment,
                form=form,
                start=form.cleaned_data["start"],
                practitioner=form.cleaned_data["practitioner"],
                questions=questions,
            )
        step = health_step(request, treatment=treatment, details=form, questions=questions, notice=notice)
        if step.response is not None:
            return step.response
        answers = step.answers
    if form.is_valid():
        data = form.cleaned_data
        # Counted only for a form that would book: each booking emails this address and holds a
        # time, so one client has a daily allowance too, whatever addresses it makes up.
        limited = ratelimit_hit(scope="booking", kind="email", value=email_key(data["email"])) or ratelimit_hit(
            scope="booking", kind="booking_address", value=address_key(client_ip(request))
        )
        if limited is not None:
            return ratelimit_response(request, limited=limited)
        try:
            appointment = appointment_request(
                treatment=treatment,
                start=data["start"],
                practitioner=data["practitioner"],
                patient=form.patient(),
                privacy_notice=notice,
                submission_key=form.token_key,
                open_requests_limit=settings.CLINIC_OPEN_REQUESTS_PER_EMAIL,
                # The answers are stored in the appointment's own transaction, or not at all.
                record=partial(answers_save, answers=answers) if answers else None,
                email_confirmed=email_known(request, data["email"]),
            )
        except TooManyOpenRequests as error:
            form.add_error("email", ValidationError(open_requests_message(error.limit), code="open_requests"))
        except SlotTaken:
            # Two clicks racing each other: the other one won with this very form.
            earlier = submitted_appointment(form.token_key)
            if earlier is not None:
                return confirmation_redirect(earlier)
            # Taken since the page was shown, or never on offer: the form says which.
            form.add_error("start", form.not_free_error(data["start"], data["practitioner"]))
        else:
            return confirmation_redirect(appointment)

    data = getattr(form, "cleaned_data", {})
    return details_page(
        request,
        treatment=treatment,
        form=form,
        start=None if form.needs_time else data.get("start"),
        practitioner=data.get("practitioner"),
        status=409 if form.time_is_taken or form.has_error("email", "open_requests") else 400,
        questions=questions,
    )


def open_requests_message(limit):
    return ngettext(
        "This email address already has a request waiting for the clinic's answer. Please wait for the "
        "clinic's email, or cancel one of them with the link in it, before asking for another time.",
        "This email address already has %(count)d requests waiting for the clinic's answer. Please wait for the "
        "clinic's email, or cancel one of them with the link in it, before asking for another time.",
        limit,
    ) % {"count": limit}


def details_page(request, *, treatment, form, start, practitioner, questions=(), status=200):
    nearest = []
    if form.needs_time:
        around = bookable_around(form.data.get("start"), rules=form.rules)
        nearest = time_choices(nearest_free_slots(treatment=treatment, around=around, practitioner=practitioner))
    times_url = reverse("booking:times", kwargs={"treatment_slug": treatment.slug})
    query = {"practitioner": form.practitioner_value()}
    if start is not None:
        query.update(start=start_format(start), **{"from": timezone.localtime(start).date().isoformat()})
    context = {
        "clinic": form.rules,
        "treatment": treatment,
        "form": form,
        "start": start,
        "start_value": start_format(start) if start else "",
        "practitioner": practitioner,
        "practitioner_value": form.practitioner_value(),
        "nearest": nearest,
        "change_time_url": f"{times_url}?{urlencode(query)}",
        "errors": form.error_summary(),
        "has_questions": bool(questions),
        # Answers given before the patient came back to this page travel on with the form.
        "carried_answers": carried_answers(request) if request.method == "POST" else [],
    }
    return render(request, "booking/details.html", context, status=status)


def bookable_around(value, *, rules):
    """The time to look for other free times around: the one asked for, kept inside the booking window."""
    now = timezone.now()
    earliest, latest = booking_window(rules=rules, now=now)
    start = start_parse(value) or earliest
    return min(max(start, earliest), latest)


def submitted_appointment(key):
    """The appointment a form's own key made already, or None; ``key`` comes from a signed form token only."""
    if key is None:
        return None
    return Appointment.objects.filter(submission_key=key).first()


def confirmation_redirect(appointment):
    return HttpResponseSeeOther(reverse("booking:done", kwargs={"token": confirmation_token(appointment=appointment)}))


@language_from_link
@never_cache
@require_safe
def confirmation(request, token):
    """Step 4: the reference and what happens next. The signed token is the only key to this page."""
    appointment = appointment_from_confirmation_token(token)
    if appointment is None:
        return render(request, "booking/confirmation_invalid.html", status=404)
    context = {"appointment": appointment, "manage_token": manage_token(appointment=appointment)}
    return render(request, "booking/confirmation.html", context)


# A device on which a patient confirmed an address is not asked again for it: a signed cookie
# holds digests of the addresses (never the addresses), the newest few only.
KNOWN_EMAILS_COOKIE = "clinic_emails_ok"
KNOWN_EMAILS_SALT = "booking.known-emails"
KNOWN_EMAILS_AGE = timedelta(days=365)
KNOWN_EMAILS_KEPT = 5


def email_digest(email):
    return salted_hmac(KNOWN_EMAILS_SALT, email_key(email), algorithm="sha256").hexdigest()[:32]


def known_emails(request):
    try:
        digests = signing.loads(
            request.COOKIES.get(KNOWN_EMAILS_COOKIE, ""), salt=KNOWN_EMAILS_SALT, max_age=KNOWN_EMAILS_AGE
        )
    except signing.BadSignature:
        return []
    return [digest for digest in digests if isinstance(digest, str)] if isinstance(digests, list) else []


def email_known(request, email):
    """This device confirmed ``email`` before (a cookie the site signed)."""
    return email_digest(email) in known_emails(request)


def email_remember(request, response, email):
    digest = email_digest(email)
    digests = [digest] + [known for known in known_emails(request) if known != digest]
    response.set_cookie(
        KNOWN_EMAILS_COOKIE,
        signing.dumps(digests[:KNOWN_EMAILS_KEPT], salt=KNOWN_EMAILS_SALT),
        max_age=int(KNOWN_EMAILS_AGE.total_seconds()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


@language_from_link
@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit_posts("email_confirm")
def email_confirm(request, token):
    """The link in the "request received" email. Opening it changes nothing; the button confirms."""
    try:
        appointment = appointment_from_email_confirm_token(token)
    except signing.SignatureExpired:
        return render(request, "booking/email_confirm_expired.html", {"appointment": None}, status=410)
    if appointment is None:
        return render(request, "booking/confirmation_invalid.html", status=404)
    if appointment.email_confirmed_at is not None:
        return confirmation_redirect(appointment)  # used once already: where the request stands
    if request.method == "GET":
        if request_confirmable(appointment=appointment, now=timezone.now()):
            return render(request, "booking/email_confirm.html", {"appointment": appointment})
        return render(request, "booking/email_confirm_expired.html", {"appointment": appointment}, status=410)
    try:
        appointment, _ = request_email_confirm(appointment=appointment)
    except RequestExpired:
        return render(request, "booking/email_confirm_expired.html", {"appointment": appointment}, status=410)
    response = confirmation_redirect(appointment)
    email_remember(request, response, appointment.email)
    return response
