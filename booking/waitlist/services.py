"""The waitlist: patients waiting for a time for a treatment, and the freed times offered to them.

An offer is one email with a signed link; claiming it is a normal booking through
``appointment_request``, so the database's no-overlap rule decides when two claims race.
"""

import logging
from datetime import UTC

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.appointments.services import SlotTaken, appointment_request
from booking.emails.outbox import message_queue
from booking.links import WAITLIST_CLAIM_MAX_AGE
from booking.models import MessageKind, WaitlistEntry, WaitlistStatus
from booking.schedule.availability import booking_window, first_day_today, practitioners_free_at
from clinic.models import ClinicDetails

logger = logging.getLogger(__name__)


class OfferClosed(Exception):
    """The offer cannot be claimed: booked, withdrawn, expired, replaced, or now too close to book online."""

    def __init__(self, reason):
        self.reason = reason  # "closed" or "too_late"
        super().__init__(reason)


def waitlist_join(*, treatment, date_from, date_to, patient, privacy_notice, submission_key=None):
    """Put a patient on the waitlist for a treatment between two local days (inclusive).

    ``patient`` holds first_name, last_name, email and phone (E.164). The same patient joining
    again for the same days finds the entry they already have; one form (``submission_key``, the
    random key the site gave it) makes one entry at most, whatever it is sent with the second time.
    """
    if submission_key is not None:
        used = WaitlistEntry.objects.filter(submission_key=submission_key).first()
        if used is not None:
            return used
    existing = (
        WaitlistEntry.objects.open(first_day_today())
        .filter(treatment=treatment, date_from=date_from, date_to=date_to, email__iexact=patient["email"])
        .first()
    )
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return WaitlistEntry.objects.create(
                treatment=treatment,
                date_from=date_from,
                date_to=date_to,
                consent_at=timezone.now(),
                privacy_notice=privacy_notice,
                submission_key=submission_key,
                **patient,
            )
    except IntegrityError:
        if submission_key is None:
            raise
        return WaitlistEntry.objects.get(submission_key=submission_key)  # the same form, sent twice at once


def waitlist_offer_stands(*, entry, now=None):
    """An offer stands while its link is young enough and its time can still be booked.

    Once it lapses (the time was taken or is too close now, or the link has expired) the entry
    may be offered another time; until then it holds one offer at a time.
    """
    now = now or timezone.now()
    if entry.status != WaitlistStatus.OFFERED or entry.offered_start is None:
        return False
    if entry.offered_at is None or entry.offered_at + WAITLIST_CLAIM_MAX_AGE <= now:
        return False
    return bool(practitioners_free_at(treatment=entry.treatment, start=entry.offered_start, now=now))


def waitlist_time_freed(*, start, practitioner_id):
    """Offer a freed time to the first patient waiting for it; returns their entry, or None.

    Called after an appointment at ``start`` (with ``practitioner_id``) was cancelled, declined
    or moved away. The time is offered for whichever practitioner is free then, as the claim
    books any of them. Safe to run twice or in two workers at once: the matching entries are
    locked in one order, and a time already offered is not offered again.
    """
    start = start.astimezone(UTC)  # stored and compared as UTC, like every other time
    now = timezone.now()
    day = timezone.localtime(start).date()
    with transaction.atomic():
        entries = list(
            WaitlistEntry.objects.open(first_day_today(now))
            .filter(treatment__active=True, date_from__lte=day, date_to__gte=day)
            .select_related("treatment")
            .select_for_update(of=("self",))
            .order_by("created_at", "pk")
        )
        offered_already = [entry for entry in entries if entry.offered_start == start]
        if any(waitlist_offer_stands(entry=entry, now=now) for entry in offered_already):
            return None  # a repeated task: the time is on offer already
        free_for = {}  # treatment id -> is the time free for it
        for entry in entries:
            # One offer at a time; and a patient whose offer of this very time lapsed had their turn.
            if entry in offered_already or waitlist_offer_stands(entry=entry, now=now):
                continue
            if entry.treatment_id not in free_for:
                free = practitioners_free_at(treatment=entry.treatment, start=start, now=now)
                free_for[entry.treatment_id] = bool(free)
            if not free_for[entry.treatment_id]:
                continue
            entry.status = WaitlistStatus.OFFERED
            entry.offered_start = start
            entry.offered_at = now
            entry.save(update_fields=["status", "offered_start", "offered_at"])
            message_queue(
                kind=MessageKind.WAITLIST_OFFER,
                key=f"waitlist_offer:{entry.pk}:{start.isoformat()}",
                waitlist_entry=entry,
                context={"starts_at": start.isoformat()},
            )
            logger.info("Offered %s (freed by practitioner %s) to waitlist entry %s.", start, practitioner_id, entry.pk)
            return entry
    return None


def offer_was_claimed(entry, start):
    """The entry's patient booked this very offer already (the time stays on the entry once booked)."""
    return entry.status == WaitlistStatus.BOOKED and entry.appointment_id is not None and entry.offered_start == start


def waitlist_offer_check(*, entry, start, now=None):
    """What a claim link shows now, changing nothing: "open", "booked", "closed", "too_late" or "taken"."""
    now = now or timezone.now()
    if offer_was_claimed(entry, start):
        return "booked"
    if entry.status != WaitlistStatus.OFFERED or entry.offered_start != start:
        return "closed"
    if start < booking_window(rules=ClinicDetails.objects.current(), now=now)[0]:
        return "too_late"
    if not practitioners_free_at(treatment=entry.treatment, start=start, now=now):
        return "taken"
    return "open"


def waitlist_claim(*, entry, start, now=None):
    """Book the offered time for the entry's patient; returns the appointment.

    Raises OfferClosed when the offer no longer stands, and SlotTaken when someone else booked
    the time first; either way the entry waits for another time. A second claim of the same
    offer (a double click) returns the first one's appointment.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("treatment", "appointment")
            .filter(pk=entry.pk)
            .first()
        )
        if locked is None:
            raise OfferClosed("closed")
        if offer_was_claimed(locked, start):
            return locked.appointment
        if locked.status != WaitlistStatus.OFFERED or locked.offered_start != start:
            raise OfferClosed("closed")
        problem = None
        if start < booking_window(rules=ClinicDetails.objects.current(), now=now)[0]:
            problem = OfferClosed("too_late")
        else:
            try:
                appointment = appointment_request(
                    treatment=locked.treatment,
                    start=start,
                    patient={
                        "first_name": locked.first_name,
                        "last_name": locked.last_name,
                        "email": locked.email,
                        "phone": locked.phone,
                        "message": "",
                        "first_visit": True,
                    },
                    privacy_notice=locked.privacy_notice,
                )
            except SlotTaken as error:
                problem = error
        if problem is None:
            locked.status = WaitlistStatus.BOOKED
            locked.appointment = appointment
            locked.save(update_fields=["status", "appointment"])
            return appointment
        # Back in the queue, free for the next time that comes up.
        locked.status = WaitlistStatus.WAITING
        locked.offered_start = None
        locked.offered_at = None
        locked.save(update_fields=["status", "offered_start", "offered_at"])
    raise problem


def waitlist_expire(*, today=None):
    """Mark entries whose last day has passed as expired; returns how many."""
    today = today or first_day_today()
    return WaitlistEntry.objects.filter(
        status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED], date_to__lt=today
    ).update(status=WaitlistStatus.EXPIRED)
