"""The waitlist: patients waiting for a time for a treatment, and the freed times offered to them.

An offer is one email with a signed link; claiming it is a normal booking through
``appointment_request``, so the database's no-overlap rule decides when two claims race.
A freed time is offered to one patient at a time: if they do not claim it in their window
(``offer_window``), the same task runs again at its end and offers it to the next patient, until
the time is taken, too close to book online, or nobody is left waiting for it.
"""

import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.appointments.services import SlotTaken, appointment_request
from booking.background import background_enqueue
from booking.emails.outbox import message_queue
from booking.links import WAITLIST_CLAIM_MAX_AGE
from booking.models import Message, MessageKind, WaitlistEntry, WaitlistStatus
from booking.schedule.availability import booking_window, first_day_today, practitioners_free_at
from clinic.models import ClinicDetails

logger = logging.getLogger(__name__)


class OfferClosed(Exception):
    """The offer cannot be claimed: booked, withdrawn, expired, replaced, or now too close to book online."""

    def __init__(self, reason):
        self.reason = reason  # "closed", "lapsed" or "too_late"
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


# However close the visit, a patient has at least this long to see the email and claim the time.
SHORTEST_OFFER_WINDOW = timedelta(minutes=15)


def offer_window(*, start, offered_at):
    """How long one patient may claim an offered time before it goes to the next patient.

    CLINIC_WAITLIST_OFFER_HOURS, but never more than a quarter of the time left before the visit,
    so a time freed at short notice still goes round the waitlist before it is too late.
    """
    usual = timedelta(hours=settings.CLINIC_WAITLIST_OFFER_HOURS)
    return max(min(usual, (start - offered_at) / 4), SHORTEST_OFFER_WINDOW)


def offer_expires_at(*, entry):
    """When the entry's current offer passes to the next patient (None if it holds no offer)."""
    if entry.offered_start is None or entry.offered_at is None:
        return None
    window = min(offer_window(start=entry.offered_start, offered_at=entry.offered_at), WAITLIST_CLAIM_MAX_AGE)
    return entry.offered_at + window


def offer_key(*, entry, start):
    """The offer email's key: it also records, for good, that this entry had its turn at this time."""
    return f"waitlist_offer:{entry.pk}:{start.isoformat()}"


def waitlist_offer_stands(*, entry, now=None):
    """An offer stands while its window is open and its time can still be booked.

    Once it lapses (the window closed, the time was taken or is too close now) the entry may be
    offered another time; until then it holds one offer at a time.
    """
    now = now or timezone.now()
    if entry.status != WaitlistStatus.OFFERED or entry.offered_start is None:
        return False
    expires_at = offer_expires_at(entry=entry)
    if expires_at is None or expires_at <= now:
        return False
    return bool(practitioners_free_at(treatment=entry.treatment, start=entry.offered_start, now=now))


def waitlist_time_freed(*, start, practitioner_id):
    """Offer a freed time to the first patient waiting for it who has not had it yet; returns their entry.

    Called after an appointment at ``start`` (with ``practitioner_id``) was cancelled, declined
    or moved away, and again when an offer of it lapses unclaimed. The time is offered for
    whichever practitioner is free then, as the claim books any of them. Safe to run twice or in
    two workers at once: the matching entries are locked in one order, and a time on offer is not
    offered again until its window closes.
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
        offered_now = [entry for entry in entries if entry.offered_start == start]
        if any(waitlist_offer_stands(entry=entry, now=now) for entry in offered_now):
            return None  # a repeated task: the time is on offer already
        for lapsed in offered_now:
            # Their window closed unclaimed: back in the queue for other times.
            lapsed.status = WaitlistStatus.WAITING
            lapsed.offered_start = lapsed.offered_at = None
            lapsed.save(update_fields=["status", "offered_start", "offered_at"])
        had_their_turn = set(
            Message.objects.filter(
                kind=MessageKind.WAITLIST_OFFER,
                dedupe_key__in=[offer_key(entry=entry, start=start) for entry in entries],
            ).values_list("waitlist_entry_id", flat=True)
        )
        free_for = {}  # treatment id -> is the time free for it
        for entry in entries:
            if entry.pk in had_their_turn or waitlist_offer_stands(entry=entry, now=now):
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
            expires_at = offer_expires_at(entry=entry)
            message_queue(
                kind=MessageKind.WAITLIST_OFFER,
                key=offer_key(entry=entry, start=start),
                waitlist_entry=entry,
                context={"starts_at": start.isoformat(), "claim_until": expires_at.isoformat()},
            )
            # Unclaimed by then, the time goes to the next patient (or nowhere, if it was taken).
            background_enqueue("waitlist_match", start.isoformat(), practitioner_id, run_after=expires_at)
            logger.info("Offered %s (freed by practitioner %s) to waitlist entry %s.", start, practitioner_id, entry.pk)
            return entry
    return None


def offer_passed_on(entry, start):
    """This entry was offered this time, did not claim it in its window, and is waiting again."""
    return (
        entry.status in (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)
        and Message.objects.filter(
            kind=MessageKind.WAITLIST_OFFER, dedupe_key=offer_key(entry=entry, start=start)
        ).exists()
    )


def offer_was_claimed(entry, start):
    """The entry's patient booked this very offer already (the time stays on the entry once booked)."""
    return entry.status == WaitlistStatus.BOOKED and entry.appointment_id is not None and entry.offered_start == start


def offer_closed_reason(*, entry, start, now):
    """Why this offer cannot be claimed now, an OfferClosed reason ("closed", "lapsed", "too_late"), or None.

    The one rule for both the claim link's page and the claim itself; a booked offer is not asked.
    """
    if entry.status != WaitlistStatus.OFFERED or entry.offered_start != start:
        return "lapsed" if offer_passed_on(entry, start) else "closed"
    if offer_expires_at(entry=entry) <= now:
        return "lapsed"
    if start < booking_window(rules=ClinicDetails.objects.current(), now=now)[0]:
        return "too_late"
    return None


def waitlist_offer_check(*, entry, start, now=None):
    """What a claim link shows now, changing nothing: "open", "booked", "closed", "lapsed", "too_late" or "taken"."""
    now = now or timezone.now()
    if offer_was_claimed(entry, start):
        return "booked"
    reason = offer_closed_reason(entry=entry, start=start, now=now)
    if reason is not None:
        return reason
    if not practitioners_free_at(treatment=entry.treatment, start=start, now=now):
        return "taken"
    return "open"


def waitlist_claim(*, entry, start, now=None):
    """Book the offered time for the entry's patient; returns the appointment.

    Raises OfferClosed when the offer no longer stands, and SlotTaken when someone else booked
    the time first; either way the entry waits for another time. A second claim of the same
    offer (a double click) returns the first one's appointment. The window is judged once the
    entry is locked, so a claim and the offer passing to the next patient never both happen.
    """
    with transaction.atomic():
        locked = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("treatment", "appointment")
            .filter(pk=entry.pk)
            .first()
        )
        now = now or timezone.now()
        if locked is None:
            raise OfferClosed("closed")
        if offer_was_claimed(locked, start):
            return locked.appointment
        reason = offer_closed_reason(entry=locked, start=start, now=now)
        if reason in ("closed", "lapsed"):
            raise OfferClosed(reason)
        problem = None
        if reason == "too_late":
            problem = OfferClosed(reason)  # the entry goes back in the queue below
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
                        "language": locked.language,
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
