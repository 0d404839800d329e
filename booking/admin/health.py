"""Health questions (edited per treatment), the answers on an appointment's page, and enquiries.

Answers are shown only to staff with ``intake.read_health_answers`` (practitioners, clinic
managers); everyone else who may see the appointment or enquiry reads that answers exist.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationStackedInline

from booking.intake.models import Enquiry, HealthQuestion
from booking.intake.services import answers_readable_by, enquiries_handle


class HealthQuestionFormSet(forms.BaseInlineFormSet):
    def save_existing(self, form, obj, commit=True):
        # What the patient reads or what counts as "talk to us first" changed: a new version, so
        # answers given before keep saying which wording they answered.
        if HealthQuestion.content_fields() & set(form.changed_data):
            obj.version += 1
        return super().save_existing(form, obj, commit=commit)


class HealthQuestionInline(TranslationStackedInline):
    model = HealthQuestion
    formset = HealthQuestionFormSet
    extra = 0
    fields = ["position", "text", "help_text", "kind", "choices", "talk_first_answers", "active"]
    classes = ["collapse"]
    verbose_name = _("health question asked before booking")
    verbose_name_plural = _("health questions asked before booking")


def answers_table(request, answers):
    """The answers as a table for staff allowed to read them, or only how many there are."""
    answers = list(answers)
    if not answers:
        return gettext("None.")
    if not answers_readable_by(request.user):
        # The English keeps its "answer(s)" for every count, as staff have always read it.
        return ngettext(
            "%(count)s answer(s) given. Only practitioners and staff allowed to read health answers see them.",
            "%(count)s answer(s) given. Only practitioners and staff allowed to read health answers see them.",
            len(answers),
        ) % {"count": len(answers)}
    rows = format_html_join(
        "",
        "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td></tr>",
        (
            (
                answer.question_text,
                answer.answer or "–",
                gettext("Talk to the patient first") if answer.talk_first else "",
            )
            for answer in answers
        ),
    )
    return format_html(
        '<table class="health-answers"><thead><tr><th scope="col">{}</th>'
        '<th scope="col">{}</th><th scope="col"></th></tr></thead><tbody>{}</tbody></table>',
        gettext("Question (as asked)"),
        gettext("Answer"),
        rows,
    )


@admin.register(Enquiry)
class EnquiryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "patient_name", "treatment", "phone", "handled_at"]
    list_filter = [("handled_at", admin.EmptyFieldListFilter), "treatment"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    date_hierarchy = "created_at"
    actions = ["handle"]
    readonly_fields = [
        "treatment",
        "first_name",
        "last_name",
        "email",
        "phone",
        "message",
        "consent_at",
        "privacy_notice",
        "created_at",
        "handled_at",
        "handled_by",
    ]
    fieldsets = [
        (None, {"fields": ["treatment", "created_at", "handled_at", "handled_by"]}),
        (_("Patient (as they sent it)"), {"fields": ["first_name", "last_name", "email", "phone", "message"]}),
        (_("Staff"), {"fields": ["staff_notes"]}),
        (_("Record"), {"fields": ["consent_at", "privacy_notice"]}),
    ]

    def has_add_permission(self, request):
        return False  # enquiries come from patients

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("treatment")

    @admin.display(description=_("patient"))
    def patient_name(self, obj):
        return obj.patient_name

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["health_answers"] = answers_table(request, obj.health_answers.all())
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @admin.action(description=_("Mark as dealt with"), permissions=["change"])
    def handle(self, request, queryset):
        count = enquiries_handle(enquiries=queryset, by=request.user)
        messages.success(
            request,
            ngettext(
                "%(count)s enquiry(ies) marked as dealt with.", "%(count)s enquiry(ies) marked as dealt with.", count
            )
            % {"count": count},
        )
