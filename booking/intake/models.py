"""Health questions per treatment, the answers patients give, and the enquiries of patients whose
answers mean the practitioner must talk to them before a visit is booked.

Answers are health data: they live in their own table, readable only with the
``intake.read_health_answers`` permission, and each keeps the text and version of the question
as the patient was asked it.

A question is written in English and, beside it, in French (booking/intake/translation.py). The
answers a patient picks are stored, and compared with "talk to us first", as the English ones:
the French lines of ``choices`` are only what a patient reading French sees, line for line. So a
practitioner reads every patient's answer in one vocabulary, and a French page can never miss a
"talk to us first" written in English. The question's text is stored as the patient read it.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class QuestionKind(models.TextChoices):
    YES_NO = "yes_no", _("Yes or no")
    CHOICE = "choice", _("One of several answers")
    TEXT = "text", _("Short text")


YES, NO = "Yes", "No"
# The texts a question is written in, each in every language (booking/intake/translation.py).
TRANSLATED = ("text", "help_text", "choices")


def translated_names(name, *, english=False):
    """The columns of field ``name`` in every language (``choices_en_gb``, ``choices_fr``), or all but English."""
    return [
        f"{name}_{code.replace('-', '_')}"
        for code, _name in settings.LANGUAGES
        if english or code != settings.LANGUAGE_CODE
    ]


def lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class HealthQuestionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def asked_for(self, treatment):
        return self.active().filter(treatment=treatment).order_by("position", "pk")


class HealthQuestion(models.Model):
    treatment = models.ForeignKey(
        "booking.Treatment", on_delete=models.CASCADE, related_name="health_questions", verbose_name=_("treatment")
    )
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Lower numbers are asked first."))
    text = models.CharField(_("question"), max_length=300, help_text=_("As the patient reads it."))
    help_text = models.CharField(
        _("help"), max_length=500, blank=True, help_text=_("Shown under the question: what it means, what to do.")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices, default=QuestionKind.YES_NO)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For “one of several answers”: one answer per line.")
    )
    talk_first_answers = models.TextField(
        _("answers that mean “talk to us first”"),
        blank=True,
        help_text=_(
            "One per line, written as the English answers are (Yes or No for a yes-or-no question), "
            "whatever language the patient reads. "
            "Such an answer books nothing: the patient is asked to contact the clinic."
        ),
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("Only active questions are asked."))
    # Grows whenever what the patient reads or what counts as "talk to us first" changes.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = HealthQuestionQuerySet.as_manager()

    class Meta:
        ordering = ["treatment", "position", "pk"]
        verbose_name = _("health question")
        verbose_name_plural = _("health questions")

    def __str__(self):
        return self.text

    def answer_choices(self):
        """The answers a patient may pick, in order, as stored (in English); none for a text question."""
        if self.kind == QuestionKind.YES_NO:
            return [YES, NO]
        if self.kind == QuestionKind.CHOICE:
            with translation.override(settings.LANGUAGE_CODE):
                return lines(self.choices)
        return []

    def answer_labels(self):
        """[(stored answer, what the patient reads)] in the active language. French choices that do not
        match the English line for line are not shown: the English ones are, rather than a wrong label."""
        answers = self.answer_choices()
        if self.kind == QuestionKind.YES_NO:
            return [(YES, gettext("Yes")), (NO, gettext("No"))]
        labels = lines(self.choices)
        return list(zip(answers, labels if len(labels) == len(answers) else answers, strict=True))

    def talks_first(self, answer):
        return answer in lines(self.talk_first_answers)

    def clean(self):
        talk_first = lines(self.talk_first_answers)
        # The answers are the English ones (answer_choices), on the admin's English field.
        english_choices = f"choices_{settings.LANGUAGE_CODE.replace('-', '_')}"
        if self.kind == QuestionKind.CHOICE and len(self.answer_choices()) < 2:
            raise ValidationError(
                {english_choices: gettext("Give at least two answers in English, one per line.")}, code="few_choices"
            )
        if self.kind == QuestionKind.TEXT and talk_first:
            raise ValidationError(
                {"talk_first_answers": gettext("A short-text answer is read by the practitioner; leave this empty.")},
                code="text_talk_first",
            )
        for field in translated_names("choices"):
            labels = lines(getattr(self, field, ""))
            if self.kind == QuestionKind.CHOICE and labels and len(labels) != len(self.answer_choices()):
                raise ValidationError(
                    {
                        field: gettext(
                            "Give as many answers as in English, one per line in the same order, or leave "
                            "it empty to show the English ones."
                        )
                    },
                    code="choices_mismatch",
                )
        unknown = [answer for answer in talk_first if answer not in self.answer_choices()]
        if self.kind != QuestionKind.TEXT and unknown:
            raise ValidationError(
                {
                    "talk_first_answers": gettext("Not one of the English answers: %(answers)s. Write them as above.")
                    % {"answers": ", ".join(unknown)}
                },
                code="unknown_answer",
            )

    @staticmethod
    def content_fields():
        """The form fields whose change makes a new version: what the patient reads, in any language."""
        return {
            *TRANSLATED,
            *(field for name in TRANSLATED for field in translated_names(name, english=True)),
            "kind",
            "talk_first_answers",
        }


class Enquiry(models.Model):
    """A patient who could not book because an answer means "talk to us first", and left a message."""

    treatment = models.ForeignKey(
        "booking.Treatment", on_delete=models.PROTECT, related_name="enquiries", verbose_name=_("treatment")
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    phone = models.CharField(_("phone"), max_length=20, help_text=_("E.164, e.g. +442079460000."))
    message = models.TextField(_("message"), blank=True, max_length=2000)
    consent_at = models.DateTimeField(_("consent at"), null=True, blank=True)
    privacy_notice = models.ForeignKey(
        "clinic.PrivacyNotice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("privacy notice"),
    )
    # The form's one-time key: the same form sent twice leaves one enquiry.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(pgettext_lazy("enquiry", "created at"), auto_now_add=True)
    handled_at = models.DateTimeField(pgettext_lazy("enquiry", "handled at"), null=True, blank=True, editable=False)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=pgettext_lazy("enquiry", "handled by"),
    )
    staff_notes = models.TextField(
        _("staff notes"), blank=True, help_text=_("For staff only; the patient never sees it.")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("enquiry after the health questions")
        verbose_name_plural = _("enquiries after the health questions")

    def __str__(self):
        return f"{self.first_name} {self.last_name} – {self.treatment}"

    @property
    def patient_name(self):
        return f"{self.first_name} {self.last_name}"


class HealthAnswerQuerySet(models.QuerySet):
    def to_review(self):
        """Answers the practitioner should read before the visit: what the patient wrote in words."""
        return self.filter(question_kind=QuestionKind.TEXT).exclude(answer="")


class HealthAnswer(models.Model):
    """One answer, tied to the appointment or the enquiry it came with, and to the question as asked."""

    appointment = models.ForeignKey(
        "booking.Appointment", on_delete=models.CASCADE, null=True, blank=True, related_name="health_answers"
    )
    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, null=True, blank=True, related_name="health_answers")
    question = models.ForeignKey(HealthQuestion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    question_version = models.PositiveIntegerField()
    question_text = models.CharField(max_length=300)
    question_kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    position = models.PositiveIntegerField(default=0)
    answer = models.TextField(blank=True, max_length=500)
    talk_first = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = HealthAnswerQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("health answer")
        verbose_name_plural = _("health answers")
        # Nobody adds, changes or deletes an answer in the admin; reading them is a permission of its own.
        default_permissions = ()
        permissions = [("read_health_answers", "Can read patients' answers to health questions")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(appointment__isnull=False, enquiry__isnull=True)
                | models.Q(appointment__isnull=True, enquiry__isnull=False),
                name="intake_healthanswer_one_owner",
                violation_error_message=_("An answer belongs to one appointment or one enquiry."),
            )
        ]

    def __str__(self):
        return self.question_text
