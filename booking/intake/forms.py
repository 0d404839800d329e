"""The health questions as a step of the booking, and the message of a patient asked to talk first."""

from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking.intake.models import QuestionKind
from booking.requests.forms import phone_clean

ANSWER_MAX_LENGTH = 500


@dataclass(frozen=True)
class Answer:
    question: object  # booking.intake.models.HealthQuestion
    value: str
    talk_first: bool


def field_name(question):
    return f"health-{question.pk}"


def answer_field(question):
    if question.kind == QuestionKind.TEXT:
        # The question itself is the legend of the fieldset the layout puts this box in.
        return forms.CharField(
            label=gettext("Your answer (optional)"),
            help_text=question.help_text or gettext("Leave it empty if there is nothing to say."),
            required=False,
            max_length=ANSWER_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 3}),
            error_messages={
                "max_length": gettext(
                    "Please keep this answer to %(limit_value)d characters (it has %(show_value)d); "
                    "you can tell the practitioner more at your visit."
                )
            },
        )
    return forms.ChoiceField(
        label=question.text,
        help_text=question.help_text,
        choices=question.answer_labels(),
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext("Answer the question “%(question)s”.") % {"question": question.text},
            "invalid_choice": gettext("Choose one of the answers given to “%(question)s”.")
            % {"question": question.text},
        },
    )


class HealthQuestionsForm(forms.Form):
    """One field per active question of the treatment, each rendered in a fieldset of its own."""

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[field_name(question)] = answer_field(question)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        # A radio group is a fieldset with the question as its legend; a text answer gets its own.
        self.helper.layout = Layout(
            *(
                Fieldset(question.text, field_name(question), css_class="health-question")
                if question.kind == QuestionKind.TEXT
                else field_name(question)
                for question in questions
            )
        )

    def answers(self):
        """[Answer] in the order asked; only for a valid form."""
        return [
            Answer(
                question=question,
                value=self.cleaned_data[field_name(question)],
                talk_first=question.talks_first(self.cleaned_data[field_name(question)]),
            )
            for question in self.questions
        ]

    def talks_first(self):
        return any(answer.talk_first for answer in self.answers())

    def error_summary(self):
        links = []
        for question in self.questions:
            bound = self[field_name(question)]
            anchor = f"{bound.auto_id}_0" if isinstance(bound.field.widget, forms.RadioSelect) else bound.id_for_label
            links += [(anchor, error) for error in bound.errors]
        return links


class EnquiryForm(forms.Form):
    """What a patient asked to talk first leaves for the clinic: a number to call and a message."""

    phone = forms.CharField(
        label=_("Phone number to call you on"),
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        error_messages={"required": _("Enter a phone number the clinic can call you on.")},
    )
    message = forms.CharField(
        label=_("Message for the clinic (optional)"),
        required=False,
        max_length=2000,
        help_text=_("For example when you are easiest to reach. At most 2000 characters."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="enquiry", **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_phone(self):
        return phone_clean(self.cleaned_data["phone"])

    def error_summary(self):
        return [(self[name].id_for_label, error) for name in self.fields for error in self[name].errors]
