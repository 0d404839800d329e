from urllib.parse import urlencode

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.images import IMAGE_HELP, WebImageField, alt_required
from clinic.theme import DEFAULT_ACCENT, HEX_COLOUR, accent_validate


class ClinicDetailsQuerySet(models.QuerySet):
    def current(self):
        """The clinic's one record, or an unsaved blank one before staff fill it in."""
        return self.filter(pk=1).first() or ClinicDetails(pk=1)


class ClinicDetails(models.Model):
    """The clinic's own details, shown in the footer, the contact page and emails."""

    name = models.CharField(_("name"), max_length=120, default="Mesotherapy Clinic")
    address = models.TextField(_("address"), blank=True, help_text=_("Postal address, one line per row."))
    phone = models.CharField(_("phone"), max_length=40, blank=True, help_text=_("As patients should dial it."))
    email = models.EmailField(_("email"), blank=True)
    opening_hours = models.TextField(
        _("opening hours"),
        blank=True,
        help_text=_("As patients should read it, e.g. 'Mon-Fri 9:00-18:00'. One line per row."),
    )
    min_notice_hours = models.PositiveIntegerField(
        _("minimum notice (hours)"), default=12, help_text=_("Patients cannot book a time sooner than this.")
    )
    booking_horizon_days = models.PositiveIntegerField(
        _("booking horizon (days)"), default=60, help_text=_("How far ahead patients can book.")
    )
    slot_step_minutes = models.PositiveIntegerField(
        _("slot step (minutes)"), default=15, help_text=_("Offered start times are this far apart.")
    )
    self_service_cutoff_hours = models.PositiveIntegerField(
        _("self-service cutoff (hours)"),
        default=24,
        help_text=_("Patients cannot cancel or move online closer than this to their visit; they phone instead."),
    )
    reminder_hours = models.PositiveIntegerField(
        _("reminder (hours before)"), default=24, help_text=_("When the reminder email goes out before a visit.")
    )
    notification_email = models.EmailField(
        _("notification email"),
        blank=True,
        help_text=_("Where the clinic is told of new requests, cancellations and moves."),
    )
    directions_url = models.URLField(
        _("directions link"),
        blank=True,
        help_text=_(
            "A link to a map of the clinic (e.g. from OpenStreetMap). Left blank, the footer links to a map "
            "search for the address."
        ),
    )
    logo = WebImageField(
        _("logo"),
        upload_to="identity/",
        blank=True,
        width_field="logo_width",
        height_field="logo_height",
        help_text=_(
            "Shown before the clinic's name in every page's header. PNG with a transparent background is "
            "best. Left blank, the site's own drawn logo is shown."
        ),
    )
    logo_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    logo_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    home_photo = WebImageField(
        _("home page photo"),
        upload_to="identity/",
        blank=True,
        width_field="home_photo_width",
        height_field="home_photo_height",
        help_text=IMAGE_HELP,
    )
    home_photo_alt = models.CharField(
        _("home page photo description"),
        max_length=200,
        blank=True,
        help_text=_("What the photo shows, for patients who cannot see it."),
    )
    home_photo_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    home_photo_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    accent_colour = models.CharField(
        _("accent colour"),
        max_length=7,
        default=DEFAULT_ACCENT,
        blank=True,
        validators=[accent_validate],
        help_text=_(
            "Buttons and links, as # and six hexadecimal digits (e.g. #0b5c6b). It must be dark enough "
            "for white text. Left blank, the site's own teal is used."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ClinicDetailsQuerySet.as_manager()

    class Meta:
        verbose_name = _("clinic details")
        verbose_name_plural = _("clinic details")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slot_step_minutes__gt=0),
                name="clinic_clinicdetails_slot_step_positive",
                violation_error_message=_("The slot step must be at least one minute."),
            ),
            models.CheckConstraint(
                condition=models.Q(pk=1),
                name="clinic_clinicdetails_single_row",
                violation_error_message=_("The clinic has one set of details; edit the existing one."),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        alt_required(self, "home_photo", "home_photo_alt")

    @property
    def accent_hex(self):
        """The accent's six digits for the theme stylesheet's address (clinic.views.theme_css)."""
        colour = (self.accent_colour or "").lower()
        return colour[1:] if HEX_COLOUR.match(colour) else DEFAULT_ACCENT[1:]

    @property
    def directions_link(self):
        if self.directions_url:
            return self.directions_url
        if not self.address.strip():
            return ""
        return "https://www.openstreetmap.org/search?" + urlencode(
            {"query": ", ".join(line.strip() for line in self.address.splitlines() if line.strip())}
        )


class PrivacyNoticeQuerySet(models.QuerySet):
    def current(self):
        return self.order_by("-version").first()


class PrivacyNotice(models.Model):
    """One published version of the privacy notice. Versions are never edited: a change is a new version."""

    version = models.PositiveIntegerField(_("version"), unique=True, editable=False)
    body = models.TextField(_("body"), help_text=_("The notice as patients read it. Blank lines make paragraphs."))
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        "auth.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("published by"),
    )

    objects = PrivacyNoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        verbose_name = _("privacy notice version")
        verbose_name_plural = _("privacy notice")

    def __str__(self):
        return gettext("Privacy notice, version %(version)s") % {"version": self.version}
