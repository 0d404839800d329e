"""The admin of content written in English and French (django-modeltranslation, docs/i18n.md).

Each text's English and French versions are edited one under the other. Where the French is
blank the French pages show the English, so staff see it said: a "French" column in the list,
a filter for what is still to translate, and a warning on the page of each such record.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin
from modeltranslation.translator import translator
from modeltranslation.utils import build_localized_fieldname

FRENCH = "fr"
MISSING = _("Missing – English shown")


def translated_fields(model):
    """The names of ``model``'s translated texts, in the order of its form (modeltranslation keeps them in a set)."""
    names = translator.get_options_for_model(model).fields
    return [field.name for field in model._meta.get_fields() if field.name in names]


def written(obj, name, language):
    return bool((getattr(obj, build_localized_fieldname(name, language)) or "").strip())


def untranslated(obj, language=FRENCH):
    """The labels of ``obj``'s texts written in English and blank in ``language``: pages in that
    language show the English text instead."""
    return [
        str(obj._meta.get_field(name).verbose_name)
        for name in translated_fields(type(obj))
        if written(obj, name, settings.LANGUAGE_CODE) and not written(obj, name, language)
    ]


def untranslated_q(model, language=FRENCH):
    """Records with at least one text written in English and blank in ``language``."""
    condition = Q(pk__in=[])
    for name in translated_fields(model):
        english = build_localized_fieldname(name, settings.LANGUAGE_CODE)
        own = build_localized_fieldname(name, language)
        written = Q(**{f"{english}__isnull": False}) & ~Q(**{english: ""})
        condition |= written & (Q(**{f"{own}__isnull": True}) | Q(**{own: ""}))
    return condition


class FrenchFilter(admin.SimpleListFilter):
    # Django shows it as "By French" (« Par version française »).
    title = pgettext_lazy("list filter", "French")
    parameter_name = "french"

    def lookups(self, request, model_admin):
        return [("missing", _("Missing (English shown)")), ("written", _("Written"))]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.filter(untranslated_q(queryset.model))
        if self.value() == "written":
            return queryset.exclude(untranslated_q(queryset.model))
        return queryset


class TranslatedAdmin(TranslationAdmin):
    """modeltranslation's admin, with what is not yet in French shown to staff."""

    def get_list_display(self, request):
        # Beside the record's name, where it is seen without scrolling a wide list.
        display = list(super().get_list_display(request))
        return [*display[:1], "french_status", *display[1:]]

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), FrenchFilter]

    @admin.display(description=_("French"))
    def french_status(self, obj):
        missing = untranslated(obj)
        if not missing:
            return gettext("Written")
        in_english = [name for name in translated_fields(type(obj)) if written(obj, name, settings.LANGUAGE_CODE)]
        if len(missing) == len(in_english):
            return MISSING
        return gettext("Missing – English shown for: %(texts)s") % {"texts": ", ".join(missing)}

    def untranslated_parts(self, obj):
        """What else on this record's page is blank in French (inlines); for subclasses."""
        return []

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and request.method == "GET":
            missing = untranslated(obj) + self.untranslated_parts(obj)
            if missing:
                messages.warning(
                    request,
                    gettext("Not yet in French: %(texts)s. French pages show the English text until you write it.")
                    % {"texts": ", ".join(missing)},
                )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
