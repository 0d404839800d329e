"""The states and kinds the booking models take, apart from the models so that forms, services and
templates can name them without the tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


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
    REQUEST_RECEIVED = "request_received", "Request received"
    REQUEST_EXPIRED = "request_expired", "Request expired"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"
    MOVED = "moved", "Moved"
    REMINDER = "reminder", "Reminder"
    AFTERCARE = "aftercare", "Aftercare"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist: a time is free"
    COURSE_BOOKED = "course_booked", "Course of sessions booked"
    CLINIC_NEW_REQUEST = "clinic_new_request", "To the clinic: new request"
    CLINIC_CANCELLED = "clinic_cancelled", "To the clinic: patient cancelled"
    CLINIC_MOVED = "clinic_moved", "To the clinic: patient moved"


CLINIC_KINDS = {MessageKind.CLINIC_NEW_REQUEST, MessageKind.CLINIC_CANCELLED, MessageKind.CLINIC_MOVED}


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"
    OBSOLETE = "obsolete", "Not sent: no longer relevant"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered a time"
    BOOKED = "booked", "Booked"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"
