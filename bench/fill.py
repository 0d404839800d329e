"""Fills the bench's scratch database with a clinic's worth of data, quickly (bulk_create).

At least 3 practitioners, 8 treatments, 20 FAQ questions, 20,000 past and 500 upcoming
appointments, on top of the starting content the migrations seed. Prints JSON for bench/run.py:
a treatment slug, free start times for the booking POSTs, one upcoming appointment's signed link.
Run by bench/run.py with the bench's environment: `python bench/fill.py`.
"""

import json
import os
import random
import sys
import uuid
from datetime import time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from booking.intake.models import HealthQuestion  # noqa: E402
from booking.links import manage_token  # noqa: E402
from booking.models import Appointment, AppointmentStatus, Practitioner, Treatment, WorkingHours  # noqa: E402
from booking.requests.forms import start_format  # noqa: E402
from booking.schedule.availability import first_day_today, free_slots  # noqa: E402
from faq.models import Category, Question  # noqa: E402

PAST, UPCOMING = 20_000, 500
rng = random.Random(7)


def treatments_fill():
    for index in range(Treatment.objects.count(), 8):
        Treatment.objects.create(
            name=f"Bench treatment {index + 1}",
            slug=f"bench-treatment-{index + 1}",
            summary="A treatment made up for the benchmark.",
            description="Made up for the benchmark.",
            position=100 + index,
        )
    return list(Treatment.objects.filter(active=True))


def practitioners_fill(treatments):
    Practitioner.objects.update(active=False)
    people = [Practitioner.objects.create(name=f"Dr Bench {n}", position=n) for n in range(1, 4)]
    for person in people:
        person.treatments.set(treatments)
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=person, weekday=day, start_time=time(9), end_time=time(18)) for day in range(6)
        )
    return people


def questions_fill():
    category = Category.objects.first() or Category.objects.create(name="General", slug="general")
    for index in range(Question.objects.count(), 20):
        Question.objects.create(
            category=category,
            question=f"Bench question {index + 1} about fat and skin?",
            slug=f"bench-question-{index + 1}",
            answer="An answer written for the benchmark, about mesotherapy, fat and recovery. " * 3,
            position=100 + index,
            published=True,
        )


def appointment(treatment, practitioner, start, status):
    return Appointment(
        reference=uuid.uuid4().hex[:10].upper(),
        treatment=treatment,
        practitioner=practitioner,
        starts_at=start,
        ends_at=start + treatment.duration,
        blocked_until=start + treatment.duration + treatment.buffer,
        status=status,
        first_name="Bench",
        last_name=f"Patient {rng.randrange(10**6)}",
        email=f"patient{rng.randrange(10**6)}@example.com",
        phone="+442079460000",
        consent_at=start - timedelta(days=3),
    )


def appointments_fill(treatments, people):
    """Past ones back to back in each practitioner's working day; upcoming ones spread over 40 days."""
    now = timezone.now()
    tz = timezone.get_default_timezone()
    rows = []
    day = timezone.localtime(now).date() - timedelta(days=1)
    while len(rows) < PAST:
        for person in people:
            start = timezone.make_aware(timezone.datetime.combine(day, time(9)), tz)
            for _ in range(8):
                done = rng.choice([AppointmentStatus.COMPLETED] * 8 + [AppointmentStatus.CANCELLED_BY_PATIENT])
                rows.append(appointment(rng.choice(treatments), person, start, done))
                start += timedelta(hours=1)
        day -= timedelta(days=1)
    rows = rows[:PAST]
    # Upcoming: on the hour, never overlapping (the exclusion constraint would refuse it).
    taken = set()
    first = timezone.localtime(now).date() + timedelta(days=2)
    while len(taken) < UPCOMING:
        person = rng.choice(people)
        moment = (first + timedelta(days=rng.randrange(40)), rng.randrange(9, 17))
        if (person.pk, moment) not in taken:
            taken.add((person.pk, moment))
            start = timezone.make_aware(timezone.datetime.combine(moment[0], time(moment[1])), tz)
            rows.append(appointment(treatments[0], person, start, AppointmentStatus.CONFIRMED))
    Appointment.objects.bulk_create(rows, batch_size=2000)


def answers_fine(treatment):
    answers = {"step": "questions"}
    for question in HealthQuestion.objects.asked_for(treatment):
        fine = [answer for answer in question.answer_choices() if not question.talks_first(answer)]
        answers[f"health-{question.pk}"] = fine[0] if fine else ""
    return answers


def main():
    treatments = treatments_fill()
    people = practitioners_fill(treatments)
    questions_fill()
    appointments_fill(treatments, people)
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", "bench@example.com", os.environ["BENCH_ADMIN_PASSWORD"]
    )
    # The admin's second factor is on, as a clinic deploys it: the bench signs in with a real code.
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(user=user, name="bench")
    treatment = treatments[0]
    today = first_day_today()
    slots = free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(days=55))
    # Times that stay free for every booking the bench makes: one per practitioner free then, and
    # never one that an earlier booking in the list would already cover.
    busy_until, starts = {}, []
    for slot in slots:
        for pk in slot.practitioner_ids:
            if slot.start >= busy_until.get(pk, slot.start):
                busy_until[pk] = slot.start + treatment.duration + treatment.buffer
                starts.append(start_format(slot.start))
    upcoming = Appointment.objects.filter(starts_at__gt=timezone.now()).order_by("starts_at").first()
    print(
        json.dumps(
            {
                "treatment": treatment.slug,
                "starts": starts,
                "manage_token": manage_token(appointment=upcoming),
                "admin_user": user.username,
                "admin_totp_key": device.key,
                "appointments": Appointment.objects.count(),
                # Each booking POST answers the treatment's health questions with nothing to talk
                # about first: the POST that books, as a patient's last step sends it.
                "answers": answers_fine(treatment),
            }
        )
    )


if __name__ == "__main__":
    main()
