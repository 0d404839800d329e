"""Every public page and state, as addresses the accessibility, HTML and metadata checks all visit."""

import io
from datetime import timedelta

from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from booking.appointments.services import appointment_request
from booking.links import confirmation_token, email_confirm_token, manage_token
from booking.models import Practitioner, Treatment
from booking.requests.forms import start_format
from booking.schedule.availability import first_day_today, free_slots
from clinic.models import PrivacyNotice

TREATMENT = "hair-loss"


def first_free_slot(treatment, *, skip=0):
    today = first_day_today()
    slots = free_slots(treatment=treatment, first_day=today + timedelta(days=3), last_day=today + timedelta(days=17))
    return slots[skip]


def details_url(treatment, slot):
    url = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    return f"{url}?start={start_format(slot.start)}&practitioner=any"


def sample_appointment(treatment, *, email_confirmed=True):
    return appointment_request(
        treatment=treatment,
        start=first_free_slot(treatment).start,
        email_confirmed=email_confirmed,
        patient={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "+442079460000",
            "message": "",
            "first_visit": True,
        },
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
    return {
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


def post_pages():
    """Public forms sent empty, so they come back with their errors: name -> (path, data)."""
    treatment = Treatment.objects.get(slug=TREATMENT)
    slot = first_free_slot(treatment, skip=2)
    details = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    return {
        "details with errors": (details, {"start": start_format(slot.start), "practitioner": "any"}),
        "waitlist with errors": (reverse("booking:waitlist_join", kwargs={"treatment_slug": treatment.slug}), {}),
    }
