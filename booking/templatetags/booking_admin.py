"""The admin index's summary of appointments waiting for a decision."""

from django import template
from django.contrib import admin

from booking.models import Appointment, AppointmentStatus

register = template.Library()


@register.simple_tag(takes_context=True)
def appointments_waiting(context):
    """How many requests wait for a decision among the appointments this user sees; None if they see none."""
    request = context.get("request")
    model_admin = admin.site.get_model_admin(Appointment) if admin.site.is_registered(Appointment) else None
    if request is None or model_admin is None or not model_admin.has_view_permission(request):
        return None
    return model_admin.get_queryset(request).filter(status=AppointmentStatus.REQUESTED).count()
