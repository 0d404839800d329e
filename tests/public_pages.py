"""Every public page and state, as addresses the accessibility, HTML and metadata checks all visit."""

import io
import time
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.db import OperationalError, connection
from django.test import Client
from django.urls import path, reverse
from django.utils import timezone
from PIL import Image

import clinic.urls
from booking.appointments.services import appointment_cancel_by_patient, appointment_request
from booking.intake.models import HealthQuestion, QuestionKind
from booking.links import MANAGE_SALT, confirmation_token, email_confirm_token, manage_token, waitlist_claim_token
from booking.models import Appointment, Practitioner, Treatment, WaitlistEntry, WaitlistStatus
from booking.requests.botcheck import form_token
from booking.requests.forms import start_format
from booking.requests.services import request_expire
from booking.schedule.availability import first_day_today, free_slots
from clinic.models import PrivacyNotice
from tests.factories import answers_fine

TREATMENT = "hair-loss"


def first_free_slot(treatment, *, skip=0):
    today = first_day_today()
    slots = free_slots(treatment=treatment, first_day=today + timedelta(days=3), last_day=today + timedelta(days=17))
    return slots[skip]


def details_url(treatment, slot):
    url = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    return f"{url}?start={start_format(slot.start)}&practitioner=any"


PATIENT = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+442079460000",
    "message": "",
    "first_visit": True,
}


def sample_appointment(treatment, *, email_confirmed=True, skip=0):
    return appointment_request(
        treatment=treatment,
        start=first_free_slot(treatment, skip=skip).start,
        email_confirmed=email_confirmed,
        patient=PATIENT,
        privacy_notice=PrivacyNotice.objects.current(),
    )


def practitioner_photo_add(treatment):
    """Gives the treatment's first practitioner a bio and a portrait photo, as staff would, so the checks see them."""
    practitioner = Practitioner.objects.giving(treatment).first()
    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), (200, 180, 160)).save(buffer, format="PNG")
    practitioner.image.save("practitioner.png", ContentFile(buffer.getvalue()), save=False)
    practitioner.image_alt = f"{practitioner.name} in the treatment room"
    practitioner.bio = "Ten years of mesotherapy.\n\nTrained in Milan."
    practitioner.save()


def indexable_pages():
    """The pages search engines should find: name -> path."""
    treatment = Treatment.objects.get(slug=TREATMENT)
    return {
        "home": reverse("home"),
        "faq": reverse("faq:index"),
        "book": reverse("booking:book"),
        "treatments": reverse("booking:treatments"),
        "treatment": reverse("booking:treatment", kwargs={"slug": treatment.slug}),
        "contact": reverse("contact"),
        "privacy": reverse("privacy"),
    }


def get_pages():
    """Every public page a GET reaches, in its empty state: name -> path. Books one appointment and
    gives its practitioner a photo."""
    treatment = Treatment.objects.get(slug=TREATMENT)
    appointment = sample_appointment(treatment)
    practitioner_photo_add(treatment)
    token = manage_token(appointment=appointment)
    unconfirmed = sample_appointment(treatment, email_confirmed=False)
    pages = {
        **indexable_pages(),
        "faq search": reverse("faq:index") + "?q=pain",
        "faq search without answers": reverse("faq:index") + "?q=xylophone",
        "times": reverse("booking:times", kwargs={"treatment_slug": treatment.slug}),
        "details": details_url(treatment, first_free_slot(treatment, skip=1)),
        "confirmation": reverse("booking:done", kwargs={"token": confirmation_token(appointment=appointment)}),
        "appointment": reverse("booking:manage", kwargs={"token": token}),
        "move": reverse("booking:manage_move", kwargs={"token": token}),
        "email confirmation": reverse(
            "booking:email_confirm", kwargs={"token": email_confirm_token(appointment=unconfirmed)}
        ),
        "waitlist": reverse("booking:waitlist_join", kwargs={"treatment_slug": treatment.slug}),
        "not found": "/no-such-page/",
    }
    # The booking steps and the patient's own pages in French too (the content pages: french_content_pages).
    french_booking = {"book", "treatments", "treatment", "times", "details", "confirmation", "appointment", "move"}
    french_booking |= {"email confirmation", "waitlist"}
    return {
        **pages,
        **french_content_pages(),
        **{f"fr {name}": "/fr" + path for name, path in pages.items() if name in french_booking},
    }


def french_content_pages():
    """The content pages and the missing page in French: name -> path."""
    return {
        "fr home": "/fr/",
        "fr faq": "/fr/faq/",
        "fr faq search": "/fr/faq/?q=pain",
        "fr faq search without answers": "/fr/faq/?q=xylophone",
        "fr contact": "/fr/contact/",
        "fr privacy": "/fr/privacy/",
        "fr not found": "/fr/no-such-page/",
    }


def post_pages():
    """Public forms sent empty, so they come back with their errors: name -> (path, data)."""
    treatment = Treatment.objects.get(slug=TREATMENT)
    slot = first_free_slot(treatment, skip=2)
    details = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    return {
        "details with errors": (details, {"start": start_format(slot.start), "practitioner": "any"}),
        "waitlist with errors": (reverse("booking:waitlist_join", kwargs={"treatment_slug": treatment.slug}), {}),
    }


class PastSigner(signing.TimestampSigner):
    """Signs as if the link had been emailed ``days_ago`` days ago."""

    def __init__(self, *args, days_ago, **kwargs):
        super().__init__(*args, **kwargs)
        self.days_ago = days_ago

    def timestamp(self):
        return signing.b62_encode(int(time.time() - self.days_ago * 86400))


def waitlist_offer(treatment, start):
    """A waiting patient offered ``start``, as the waitlist match leaves it."""
    return WaitlistEntry.objects.create(
        treatment=treatment,
        date_from=timezone.localdate(start),
        date_to=timezone.localdate(start),
        first_name="Grace",
        last_name="Hopper",
        email="grace@example.com",
        phone="+442079460001",
        consent_at=timezone.now(),
        privacy_notice=PrivacyNotice.objects.current(),
        status=WaitlistStatus.OFFERED,
        offered_start=start,
        offered_at=timezone.now(),
    )


def separate_starts(treatment, count):
    """``count`` free times two hours or more apart, so booking one never takes another."""
    today = first_day_today()
    chosen = []
    for slot in free_slots(
        treatment=treatment, first_day=today + timedelta(days=20), last_day=today + timedelta(days=40)
    ):
        if not chosen or slot.start >= chosen[-1] + timedelta(hours=2):
            chosen.append(slot.start)
    return chosen[:count]


def booked(treatment, start, *, email, practitioner=None, email_confirmed=True):
    return appointment_request(
        treatment=treatment,
        start=start,
        practitioner=practitioner,
        email_confirmed=email_confirmed,
        patient={**PATIENT, "email": email},
        privacy_notice=PrivacyNotice.objects.current(),
    )


def link_pages():
    """What the emailed links open in every other state: forged, expired, refused, taken, lapsed.
    name -> (path, the status the page answers with). Books its own appointments, weeks ahead."""
    treatment = Treatment.objects.get(slug=TREATMENT)
    times = separate_starts(treatment, 6)
    active = booked(treatment, times[0], email="active@example.com")
    cancelled = booked(treatment, times[1], email="cancelled@example.com")
    appointment_cancel_by_patient(appointment=cancelled)
    old = PastSigner(salt=MANAGE_SALT, days_ago=settings.CLINIC_PATIENT_LINK_DAYS + 1).sign_object(active.reference)
    unanswered = booked(treatment, times[2], email="unanswered@example.com", email_confirmed=False)
    Appointment.objects.filter(pk=unanswered.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    request_expire(appointment_id=unanswered.pk)
    offer = waitlist_offer(treatment, times[3])
    taken = waitlist_offer(treatment, times[4])
    for practitioner in Practitioner.objects.giving(treatment):
        # Every practitioner is booked at the offered time before the patient opens the offer.
        booked(treatment, times[4], email=f"taken{practitioner.pk}@example.com", practitioner=practitioner)
    lapsed = waitlist_offer(treatment, times[5])
    # Offered long enough ago for the claim window to have closed.
    WaitlistEntry.objects.filter(pk=lapsed.pk).update(offered_at=timezone.now() - timedelta(hours=3))

    def claim(entry):
        return reverse("booking:waitlist_claim", kwargs={"token": waitlist_claim_token(entry=entry)})

    manage = reverse("booking:manage", kwargs={"token": manage_token(appointment=active)})
    details = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    return {
        "times with a time taken": (f"{details}?start={start_format(times[4])}&practitioner=any", 409),
        "times with a garbled time": (f"{details}?start=tomorrow&practitioner=any", 400),
        "cancel confirmation": (manage + "cancel/", 200),
        "appointment link forged": (reverse("booking:manage", kwargs={"token": "forged:link"}), 404),
        "appointment link expired": (reverse("booking:manage", kwargs={"token": old}), 410),
        "cancel of a cancelled appointment": (
            reverse("booking:manage_cancel", kwargs={"token": manage_token(appointment=cancelled)}),
            409,
        ),
        "confirmation link forged": (reverse("booking:done", kwargs={"token": "forged:link"}), 404),
        "email confirmation expired": (
            reverse("booking:email_confirm", kwargs={"token": email_confirm_token(appointment=unanswered)}),
            410,
        ),
        "email confirmation forged": (reverse("booking:email_confirm", kwargs={"token": "forged:link"}), 404),
        "waitlist offer": (claim(offer), 200),
        "waitlist offer taken": (claim(taken), 409),
        "waitlist offer lapsed": (claim(lapsed), 410),
        "waitlist offer forged": (reverse("booking:waitlist_claim", kwargs={"token": "forged:link"}), 404),
    }


DETAILS_TYPED = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "020 7946 0000",
    "message": "",
    "first_visit": "yes",
    "consent": "on",
}


def post_states():
    """The pages a form's POST answers with, past the empty form: the health questions, the talk-first page,
    a move without a time. name -> (path, data, status)."""
    treatment = Treatment.objects.get(slug=TREATMENT)
    times = separate_starts(treatment, 8)[6:]
    details = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    typed = {"start": start_format(times[0]), "practitioner": "any", "started": form_token(), **DETAILS_TYPED}
    yes_no = next(q for q in HealthQuestion.objects.asked_for(treatment) if q.kind == QuestionKind.YES_NO)
    talk_first = {**answers_fine(), f"health-{yes_no.pk}": "Yes"}
    moving = booked(treatment, times[1], email="moving@example.com")
    move = reverse("booking:manage_move", kwargs={"token": manage_token(appointment=moving)})
    return {
        "health questions": (details, typed, 200),
        "health questions with errors": (details, {**typed, "step": "questions"}, 400),
        "talk first": (details, {**typed, **talk_first}, 200),
        "move with errors": (move, {"start": "", "practitioner": "any"}, 400),
    }


def boom(request):
    raise RuntimeError("forced failure")


# The URLconf of the checks that need a page that fails (@pytest.mark.urls("tests.public_pages")).
urlpatterns = [path("test-only/boom/", boom), *clinic.urls.urlpatterns]
handler500 = "clinic.views.server_error"  # as clinic.urls sets it
FAILING_PAGE = "/test-only/boom/"


def rate_limits_low(settings):
    """Rate limits on, as on the site, but one form a day from an address: the second answers 429."""
    settings.CLINIC_RATELIMIT_ENABLED = True
    settings.CLINIC_RATELIMIT_PER_ADDRESS = (1, 86400)
    caches[settings.CLINIC_RATELIMIT_CACHE].clear()


def error_responses(settings):
    """The site's own error pages, reached as a visitor reaches them: name -> response.
    Needs @pytest.mark.urls("tests.public_pages") for the failing page."""
    treatment = Treatment.objects.get(slug=TREATMENT)
    waitlist = reverse("booking:waitlist_join", kwargs={"treatment_slug": treatment.slug})

    def database_down(execute, sql, params, many, context):
        raise OperationalError("could not connect to server: Connection refused")

    visitor = Client(raise_request_exception=False)
    responses = {"server error": visitor.get(FAILING_PAGE)}
    with connection.execute_wrapper(database_down):
        responses["database down"] = visitor.get(reverse("home"))
    responses["bad host"] = Client(HTTP_HOST="elsewhere.example").get(reverse("home"))
    responses["form without its cookie"] = Client(enforce_csrf_checks=True).post(waitlist, {})
    rate_limits_low(settings)
    sender = Client(REMOTE_ADDR="203.0.113.9")
    sender.post(waitlist, {})
    responses["too many attempts"] = sender.post(waitlist, {})
    return responses
