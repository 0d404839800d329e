"""Storing the answers to the health questions, and the enquiries of patients asked to talk first.

Nothing here logs, emails or puts an answer in a URL: answers reach only the database, and
staff read them in the admin with the ``intake.read_health_answers`` permission.
"""

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from booking.intake.models import Enquiry, HealthAnswer, HealthQuestion

READ_PERMISSION = "intake.read_health_answers"


def questions_for(treatment):
    """The active questions asked before booking ``treatment``, in order (one query)."""
    return list(HealthQuestion.objects.asked_for(treatment))


def answers_readable_by(user):
    return user.has_perm(READ_PERMISSION)


@sensitive_variables()
def answers_save(*, answers, appointment=None, enquiry=None):
    """Store ``answers`` (intake.forms.Answer) for one appointment or enquiry, in one INSERT."""
    HealthAnswer.objects.bulk_create(
        HealthAnswer(
            appointment=appointment,
            enquiry=enquiry,
            question=answer.question,
            question_version=answer.question.version,
            question_text=answer.question.text,
            question_kind=answer.question.kind,
            position=position,
            answer=answer.value,
            talk_first=answer.talk_first,
        )
        for position, answer in enumerate(answers)
    )


@sensitive_variables()
def enquiry_create(*, treatment, patient, message, answers, submission_key, privacy_notice=None):
    """The enquiry and its answers, in one transaction. ``submission_key`` comes from the form's
    signed token: the same form sent twice, or two clicks racing, leave one enquiry."""
    fields = {name: patient[name] for name in ("first_name", "last_name", "email", "phone")}
    with transaction.atomic():
        enquiry, created = Enquiry.objects.get_or_create(
            submission_key=submission_key,
            defaults={
                "treatment": treatment,
                "message": message,
                "consent_at": timezone.now(),
                "privacy_notice": privacy_notice,
                **fields,
            },
        )
        if created:
            answers_save(answers=answers, enquiry=enquiry)
    return enquiry


def enquiries_handle(*, enquiries, by):
    """Mark enquiries as dealt with; returns how many were still open."""
    return enquiries.filter(handled_at__isnull=True).update(handled_at=timezone.now(), handled_by=by)
