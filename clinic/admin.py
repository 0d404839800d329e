from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from clinic.cache import ContentAdminMixin
from clinic.models import ClinicDetails, PrivacyNotice
from clinic.translation_admin import TranslatedAdmin
from clinic.two_factor.services import second_factor_remove

# The notice's text in every language (clinic/translation.py).
BODY_FIELDS = [f"body_{code.replace('-', '_')}" for code, _name in settings.LANGUAGES]

admin.site.site_header = _("Clinic administration")
admin.site.site_title = _("Clinic admin")


@admin.register(ClinicDetails)
class ClinicDetailsAdmin(ContentAdminMixin, TranslatedAdmin):
    list_display = ["name", "phone", "email", "updated_at"]
    readonly_fields = ["updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (_("Clinic"), {"fields": ["name", "address", "phone", "email", "opening_hours", "directions_url"]}),
        (
            _("Look of the site"),
            {
                "fields": ["logo", "home_photo", "home_photo_alt", "accent_colour"],
                "description": _("Uploads are checked and resized for phones and computers when you save."),
            },
        ),
        (
            _("Booking rules"),
            {
                "fields": [
                    "min_notice_hours",
                    "booking_horizon_days",
                    "slot_step_minutes",
                    "self_service_cutoff_hours",
                    "reminder_hours",
                    "notification_email",
                ]
            },
        ),
        (_("Record"), {"fields": ["updated_at"]}),
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ClinicDetails.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class PrivacyNoticeForm(forms.ModelForm):
    class Meta:
        model = PrivacyNotice
        fields = BODY_FIELDS

    def clean(self):
        cleaned = super().clean()
        current = PrivacyNotice.objects.current()
        if current is not None and all(
            (cleaned.get(name) or "").strip() == (getattr(current, name) or "").strip() for name in BODY_FIELDS
        ):
            raise forms.ValidationError(
                gettext("This is the same as version %(version)s. Change the text before publishing.")
                % {"version": current.version},
                code="unchanged",
            )
        return cleaned


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(TranslatedAdmin):
    """Publishing only: each save is a new version, and published versions stay as patients agreed to them.
    Its French is written with its English: a French text added or changed is a new version too."""

    form = PrivacyNoticeForm
    list_display = ["version", "published_at", "published_by"]
    list_select_related = ["published_by"]
    fields = ["body"]

    def get_fields(self, request, obj=None):
        return ["body"] if obj is None else ["version", "published_at", "published_by", "body"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["version", "published_at", "published_by", *BODY_FIELDS]

    def get_changeform_initial_data(self, request):
        current = PrivacyNotice.objects.current()
        return {name: getattr(current, name) for name in BODY_FIELDS} if current is not None else {}

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.published_by = request.user
        for attempt in range(5):
            obj.version = (PrivacyNotice.objects.aggregate(latest=Max("version"))["latest"] or 0) + 1
            try:
                with transaction.atomic():
                    obj.save()
                return
            except IntegrityError as error:
                # Someone published the same number a moment ago; the next read sees theirs.
                name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) or ""
                if "version" not in name or attempt == 4:
                    raise


class StaffUserAdmin(UserAdmin):
    """Django's user admin, with a superuser's reset of a member's second factor (a lost phone and codes)."""

    actions = ["second_factor_reset"]

    @admin.action(description=_("Reset two-factor sign-in (they set it up again at their next sign-in)"))
    def second_factor_reset(self, request, queryset):
        if not request.user.is_superuser:
            self.message_user(request, gettext("Only a superuser can reset two-factor sign-in."), messages.ERROR)
            return
        for user in queryset:
            second_factor_remove(user=user)
            self.log_change(request, user, "Reset two-factor sign-in: authenticator and recovery codes removed.")
        self.message_user(
            request,
            ngettext(
                "Two-factor sign-in reset for %(count)d user(s). Each sets it up again after their password.",
                "Two-factor sign-in reset for %(count)d user(s). Each sets it up again after their password.",
                len(queryset),
            )
            % {"count": len(queryset)},
            messages.SUCCESS,
        )


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
