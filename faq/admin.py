from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from clinic.cache import ContentAdminMixin
from clinic.translation_admin import TranslatedAdmin
from faq.models import Category, Question


@admin.register(Category)
class CategoryAdmin(ContentAdminMixin, TranslatedAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name_en_gb", "name_fr"]


@admin.register(Question)
class QuestionAdmin(ContentAdminMixin, TranslatedAdmin):
    list_display = ["question", "category", "position", "published", "updated_at", "preview_link"]
    list_display_links = ["question"]
    list_editable = ["position", "published"]
    list_filter = ["published", "category"]
    list_select_related = ["category"]
    search_fields = ["question_en_gb", "question_fr", "answer_en_gb", "answer_fr", "slug"]
    prepopulated_fields = {"slug": ["question"]}
    readonly_fields = ["created_at", "updated_at", "preview_link"]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["category", "question", "slug", "answer", "position", "published"]}),
        (_("Image"), {"fields": ["image", "image_alt"], "classes": ["collapse"]}),
        (_("Record"), {"fields": ["preview_link", "created_at", "updated_at"]}),
    ]

    @admin.display(description=_("Preview"))
    def preview_link(self, obj):
        if obj.pk is None:
            return gettext("Save first to preview.")
        return format_html(
            '<a href="{}">{}</a>', reverse("faq:preview", args=[obj.pk]), gettext("Preview as patients see it")
        )

    @admin.action(description=_("Publish the selected questions"), permissions=["change"])
    def publish(self, request, queryset):
        count = queryset.filter(published=False).update(published=True)
        self.message_user(
            request,
            ngettext("%(count)d question(s) published.", "%(count)d question(s) published.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Unpublish the selected questions"), permissions=["change"])
    def unpublish(self, request, queryset):
        count = queryset.filter(published=True).update(published=False)
        self.message_user(
            request,
            ngettext("%(count)d question(s) unpublished.", "%(count)d question(s) unpublished.", count)
            % {"count": count},
            messages.SUCCESS,
        )
