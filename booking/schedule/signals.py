"""Free times depend on these rows: any saved or deleted one writes a new availability version.

See booking.availability.Computed. Queryset ``update()`` and ``bulk_create`` send no signal:
the site's own code uses neither on these models' availability (privacy.anonymise updates only
patients' names and contacts); code that ever does must call ``availability_changed()`` itself.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from booking.models import Appointment, Closure, Practitioner, Treatment, WorkingHours
from booking.schedule.availability import availability_changed
from clinic.models import ClinicDetails

AVAILABILITY_MODELS = (Appointment, Closure, WorkingHours, Practitioner, Treatment, ClinicDetails)


def _changed(sender, **kwargs):
    availability_changed()


def _treatments_changed(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        availability_changed()


def connect():
    for model in AVAILABILITY_MODELS:
        uid = f"booking-availability-{model._meta.label_lower}"
        post_save.connect(_changed, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=uid + "-delete")
    m2m_changed.connect(
        _treatments_changed, sender=Practitioner.treatments.through, dispatch_uid="booking-availability-treatments"
    )
