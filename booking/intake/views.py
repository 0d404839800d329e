"""The health questions step of the booking, between the patient's details and the request.

Stateless, like the rest of the path: the details the patient typed travel on as hidden fields
of the step's form (the body of a POST, never a URL) and are checked again on every send, with
the form's signed token (booking.requests.botcheck) naming the one submission. The answers reach
the database only with the appointment or the enquiry they belong to.
"""

from dataclasses import dataclass, field

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_safe

from booking.intake.forms import EnquiryForm, HealthQuestionsForm, field_name
from booking.intake.services import enquiry_create
from booking.models import Treatment
from clinic.cache import clinic_details
from clinic.client_ip import client_ip
from clinic.ratelimit import address_key, ratelimit_hit, ratelimit_response

# The hidden "step" field: which page of the step the form was sent from.
QUESTIONS, ENQUIRY = "questions", "enquiry"


@dataclass
class Step:
    """What the step decided: a page to show (``response``), or the answers to book with."""

    response: HttpResponse | None = None
    answers: list = field(default_factory=list)


def step_sent(request):
    return request.POST.get("step", "")


def carried_fields(details):
    """(name, value) of what the patient typed on the details page, to carry on as hidden fields."""
    names = [details.add_prefix(name) for name in details.fields if name != "website"]
    return [(name, details.data.get(name, "")) for name in names]


def carried_answers(request):
    """(name, value) of the answers already given, carried through the details page and back."""
    return [(name, value) for name, value in request.POST.items() if name.startswith("health-")]


@sensitive_variables()
def health_step(request, *, treatment, details, questions, notice):
    """The step for a valid details form of a treatment with ``questions``."""
    step = step_sent(request)
    if step not in (QUESTIONS, ENQUIRY) or "edit_answers" in request.POST:
        # Fresh from the details page (or back to change the answers): the questions, with any
        # answers given before already chosen.
        given = dict(carried_answers(request))
        form = HealthQuestionsForm(initial=given, questions=questions)
        return Step(response=questions_page(request, treatment=treatment, details=details, form=form))

    form = HealthQuestionsForm(request.POST, questions=questions)
    if not form.is_valid():
        return Step(response=questions_page(request, treatment=treatment, details=details, form=form, status=400))
    if not form.talks_first():
        return Step(answers=form.answers())

    enquiry = EnquiryForm(request.POST if step == ENQUIRY else None, initial={"phone": details.data.get("phone", "")})
    if step != ENQUIRY or not enquiry.is_valid():
        status = 400 if enquiry.is_bound else 200
        response = talk_first_page(request, treatment=treatment, details=details, form=form, enquiry=enquiry)
        response.status_code = status
        return Step(response=response)
    limited = ratelimit_hit(scope="booking", kind="booking_address", value=address_key(client_ip(request)))
    if limited is not None:
        return Step(response=ratelimit_response(request, limited=limited))
    enquiry_create(
        treatment=treatment,
        patient=details.patient() | {"phone": enquiry.cleaned_data["phone"]},
        message=enquiry.cleaned_data["message"],
        answers=form.answers(),
        submission_key=details.token_key,
        privacy_notice=notice,
    )
    sent = reverse("booking:enquiry_sent", kwargs={"treatment_slug": treatment.slug})
    return Step(response=HttpResponseRedirect(sent, status=303))  # See Other: the page to GET


def step_context(request, *, treatment, details):
    return {
        "clinic": clinic_details(request),
        "treatment": treatment,
        "start": details.cleaned_data["start"],
        "practitioner": details.cleaned_data["practitioner"],
        "carried": carried_fields(details),
        "details_url": reverse("booking:details", kwargs={"treatment_slug": treatment.slug}),
    }


def questions_page(request, *, treatment, details, form, status=200):
    context = step_context(request, treatment=treatment, details=details) | {
        "form": form,
        "errors": form.error_summary(),
    }
    return render(request, "booking/questions.html", context, status=status)


def talk_first_page(request, *, treatment, details, form, enquiry):
    answers = [(field_name(answer.question), answer.value) for answer in form.answers()]
    context = step_context(request, treatment=treatment, details=details) | {
        "answers": answers,
        "enquiry": enquiry,
        "errors": enquiry.error_summary(),
    }
    return render(request, "booking/talk_first.html", context)


@require_safe
def enquiry_sent(request, treatment_slug):
    """After the message: the clinic will call. Nothing personal is on this page or in its address."""
    treatment = get_object_or_404(Treatment.objects.active(), slug=treatment_slug)
    return render(request, "booking/enquiry_sent.html", {"treatment": treatment, "clinic": clinic_details(request)})
