"""The admin index's appointments box: the requests waiting for a decision, and booking for a patient."""

from django import template
from django.contrib import admin
from django.urls import reverse

from booking.models import Appointment, AppointmentStatus, Message, MessageStatus

register = template.Library()


def appointment_admin(context):
    """The request and the Appointment admin as registered (its permissions decide), or None for either."""
    model_admin = admin.site.get_model_admin(Appointment) if admin.site.is_registered(Appointment) else None
    return context.get("request"), model_admin


@register.simple_tag(takes_context=True)
def appointments_waiting(context):
    """How many requests wait for a decision among the appointments this user sees; None if they see none."""
    request, model_admin = appointment_admin(context)
    if request is None or model_admin is None or not model_admin.has_view_permission(request):
        return None
    return model_admin.get_queryset(request).filter(status=AppointmentStatus.REQUESTED).count()


@register.simple_tag(takes_context=True)
def appointment_book_url(context):
    """The "Book for a patient" page, or None if this user may not book."""
    request, model_admin = appointment_admin(context)
    if request is None or model_admin is None or not model_admin.has_book_permission(request):
        return None
    return reverse("admin:booking_appointment_book")


@register.simple_tag(takes_context=True)
def emails_failed(context):
    """How many emails the site gave up sending, not yet dealt with; None if this user may not see emails."""
    request = context.get("request")
    if request is None or not request.user.has_perm("booking.view_message"):
        return None
    return Message.objects.filter(status=MessageStatus.FAILED).count()
