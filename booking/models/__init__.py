"""The booking app's models, one module per part of the clinic's work; every name is importable from
here, as from any app's models module."""

from booking.choices import (  # noqa: F401  (re-exported: the models' own names)
    ACTIVE_STATUSES,
    CLINIC_KINDS,
    AppointmentStatus,
    MessageKind,
    MessageStatus,
    WaitlistStatus,
    Weekday,
)
from booking.models.appointments import Appointment, AppointmentEvent, AppointmentQuerySet, Course  # noqa: F401
from booking.models.messages import Message, MessageQuerySet  # noqa: F401
from booking.models.treatments import (  # noqa: F401
    Closure,
    ClosureQuerySet,
    Practitioner,
    PractitionerQuerySet,
    Treatment,
    TreatmentQuerySet,
    TsTzRange,
    WorkingHours,
)
from booking.models.waitlist import WaitlistEntry, WaitlistQuerySet  # noqa: F401
