"""The states and kinds the booking models take, apart from the models so that forms, services and
templates can name them without the tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")
    CANCELLED_BY_PATIENT = "cancelled_by_patient", _("Cancelled by patient")
    CANCELLED_BY_CLINIC = "cancelled_by_clinic", _("Cancelled by clinic")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")
    EXPIRED = "expired", _("Expired: not confirmed or not answered in time")


# Appointments in these states hold their time; every other state frees it.
ACTIVE_STATUSES = [AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED]


class MessageKind(models.TextChoices):
    REQUEST_RECEIVED = "request_received", _("Request received")
    REQUEST_EXPIRED = "request_expired", _("Request expired")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")
    MOVED = "moved", _("Moved")
    REMINDER = "reminder", _("Reminder")
    AFTERCARE = "aftercare", _("Aftercare")
    WAITLIST_OFFER = "waitlist_offer", _("Waitlist: a time is free")
    COURSE_BOOKED = "course_booked", _("Course of sessions booked")
    CLINIC_NEW_REQUEST = "clinic_new_request", _("To the clinic: new request")
    CLINIC_CANCELLED = "clinic_cancelled", _("To the clinic: patient cancelled")
    CLINIC_MOVED = "clinic_moved", _("To the clinic: patient moved")


CLINIC_KINDS = {MessageKind.CLINIC_NEW_REQUEST, MessageKind.CLINIC_CANCELLED, MessageKind.CLINIC_MOVED}


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (gave up)")
    OBSOLETE = "obsolete", _("Not sent: no longer relevant")


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Offered a time")
    BOOKED = "booked", _("Booked")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")
