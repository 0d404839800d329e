"""Calendar files (.ics) for appointments, built with the icalendar library.

Times are written in UTC, which every calendar app converts correctly across clock changes.
The UID is stable for an appointment, and SEQUENCE grows with every change of status or time
(a cancellation, METHOD:CANCEL, one higher still), so each file updates the event the patient
already has instead of adding another. ORGANIZER is the clinic, ATTENDEE the patient. The texts are
in the active language: the callers choose the booking's.
"""

from datetime import UTC

from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event

PRODID = "-//Mesotherapy clinic//Appointments//EN"


def appointment_uid(*, appointment):
    return f"appointment-{appointment.reference}@clinic-booking"


def calendar_for(*, appointments, clinic, cancel=False):
    """One calendar holding an event per appointment; ``cancel`` makes it a cancellation."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "REQUEST")
    for appointment in appointments:
        event = Event()
        event.add("uid", appointment_uid(appointment=appointment))
        # A cancellation is a revision too: calendar apps ignore one that is not newer than what they hold.
        event.add("sequence", appointment.sequence + 1 if cancel else appointment.sequence)
        event.add("dtstamp", timezone.now().astimezone(UTC))
        event.add("dtstart", appointment.starts_at.astimezone(UTC))
        event.add("dtend", appointment.ends_at.astimezone(UTC))
        event.add("summary", gettext("Appointment at %(clinic)s") % {"clinic": clinic.name})
        if clinic.email:
            # RFC 5546 requires an organizer on a REQUEST or a CANCEL.
            event.add("organizer", f"mailto:{clinic.email}", parameters={"CN": clinic.name})
        # The patient is the one attendee: calendar apps match the entry to their own address.
        event.add(
            "attendee",
            f"mailto:{appointment.email}",
            parameters={
                "CN": f"{appointment.first_name} {appointment.last_name}".strip(),
                "ROLE": "REQ-PARTICIPANT",
                "PARTSTAT": "DECLINED" if cancel else "ACCEPTED",
            },
        )
        # A request the clinic has not confirmed yet is only pencilled in.
        if cancel:
            event.add("status", "CANCELLED")
        else:
            event.add("status", "CONFIRMED" if appointment.status == "confirmed" else "TENTATIVE")
        if clinic.address:
            event.add("location", ", ".join(line.strip() for line in clinic.address.splitlines() if line.strip()))
        description = gettext("Reference %(reference)s.") % {"reference": appointment.reference}
        if clinic.phone:
            description += " " + gettext("To change it, call %(phone)s.") % {"phone": clinic.phone}
        event.add("description", description)
        calendar.add_component(event)
    return calendar.to_ical()
