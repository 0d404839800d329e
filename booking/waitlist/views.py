"""The waitlist's pages: join it for a treatment, and claim a freed time from the emailed link."""

from datetime import UTC, datetime

from django.core import signing
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from booking.appointments.services import SlotTaken
from booking.links import waitlist_claim_from_token
from booking.models import Treatment, WaitlistEntry
from booking.requests.views import HttpResponseSeeOther, confirmation_redirect
from booking.waitlist import services as waitlist
from booking.waitlist.forms import WaitlistForm
from clinic.i18n import language_from_link
from clinic.models import ClinicDetails, PrivacyNotice
from clinic.ratelimit import email_key, ratelimit_hit, ratelimit_posts, ratelimit_response

PATIENT_FIELDS = ("first_name", "last_name", "email", "phone")


@sensitive_post_parameters(*PATIENT_FIELDS)
@require_http_methods(["GET", "POST"])
@ratelimit_posts("waitlist")
def waitlist_join(request, treatment_slug):
    treatment = get_object_or_404(Treatment.objects.active(), slug=treatment_slug)
    rules = ClinicDetails.objects.current()
    notice = PrivacyNotice.objects.current()
    if request.method == "GET":
        if "joined" in request.GET:
            # Shows nothing personal, so it needs no key: anyone opening it learns nothing.
            return render(request, "booking/waitlist_joined.html", {"clinic": rules, "treatment": treatment})
        form = WaitlistForm(rules=rules, privacy_notice=notice)
        return join_page(request, treatment=treatment, form=form)

    form = WaitlistForm(request.POST, rules=rules, privacy_notice=notice)
    if not form.is_valid():
        return join_page(request, treatment=treatment, form=form, status=400)
    # Each place on the waitlist may email this address: counted per mailbox as well as per client.
    limited = ratelimit_hit(scope="waitlist", kind="email", value=email_key(form.cleaned_data["email"]))
    if limited is not None:
        return ratelimit_response(request, limited=limited)
    waitlist.waitlist_join(
        treatment=treatment,
        date_from=form.cleaned_data["date_from"],
        date_to=form.cleaned_data["date_to"],
        patient=form.patient(),
        privacy_notice=notice,
        submission_key=form.token_key,
    )
    url = reverse("booking:waitlist_join", kwargs={"treatment_slug": treatment.slug})
    return HttpResponseSeeOther(f"{url}?joined=1")


def join_page(request, *, treatment, form, status=200):
    context = {"clinic": form.rules, "treatment": treatment, "form": form, "errors": form.error_summary()}
    return render(request, "booking/waitlist_join.html", context, status=status)


CLAIM_PROBLEMS = {
    # state: (template, status)
    "closed": ("booking/waitlist_claim_closed.html", 410),
    "lapsed": ("booking/waitlist_claim_closed.html", 410),
    "too_late": ("booking/waitlist_claim_closed.html", 410),
    "expired": ("booking/waitlist_claim_closed.html", 410),
    "taken": ("booking/waitlist_claim_taken.html", 409),
}


@language_from_link
@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit_posts("waitlist_claim")
def waitlist_claim(request, token):
    """The emailed offer of a freed time. Opening it changes nothing; only the button books."""
    try:
        claim = waitlist_claim_from_token(token)
    except signing.SignatureExpired:
        return claim_problem(request, "expired")
    start = offered_start(claim[1]) if claim else None
    if start is None:
        return render(request, "booking/waitlist_claim_invalid.html", status=404)
    entry = WaitlistEntry.objects.select_related("treatment", "appointment").filter(pk=claim[0]).first()
    if entry is None:
        return claim_problem(request, "closed")

    if request.method == "GET":
        state = waitlist.waitlist_offer_check(entry=entry, start=start)
        if state == "booked":
            return confirmation_redirect(entry.appointment)
        if state != "open":
            return claim_problem(request, state, entry=entry, start=start)
        return render(request, "booking/waitlist_claim.html", {"entry": entry, "start": start})

    limited = ratelimit_hit(scope="waitlist_claim", kind="waitlist_entry", value=entry.pk)
    if limited is not None:
        return ratelimit_response(request, limited=limited)
    try:
        appointment = waitlist.waitlist_claim(entry=entry, start=start)
    except waitlist.OfferClosed as closed:
        return claim_problem(request, closed.reason, entry=entry, start=start)
    except SlotTaken:
        return claim_problem(request, "taken", entry=entry, start=start)
    return confirmation_redirect(appointment)


def claim_problem(request, state, *, entry=None, start=None):
    template, status = CLAIM_PROBLEMS[state]
    context = {"state": state, "entry": entry, "start": start}
    if entry is not None:
        context["rejoin_url"] = reverse("booking:waitlist_join", kwargs={"treatment_slug": entry.treatment.slug})
    return render(request, template, context, status=status)


def offered_start(value):
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        return None
    return start.astimezone(UTC) if start.tzinfo else None
