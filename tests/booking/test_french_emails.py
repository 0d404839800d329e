"""A French patient's emails are French from subject to calendar file, whoever sends them; an English
patient's stay as they were."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone, translation
from icalendar import Calendar

from booking.appointments.services import (
    appointment_cancel_by_patient,
    appointment_move,
    appointment_request,
    appointment_transition,
)
from booking.courses.services import Option, course_create
from booking.emails.tasks import message_send
from booking.models import AppointmentStatus, Message, MessageKind, MessageStatus, Treatment, WaitlistEntry, Weekday
from booking.waitlist.services import waitlist_time_freed
from clinic.models import ClinicDetails, PrivacyNotice
from tests.booking.test_messages import html_of
from tests.clock import clock_at
from tests.french import BOOKING_CATALOG, PROJECT_CATALOG, english_left
from tests.public_pages import separate_starts

pytestmark = pytest.mark.django_db

K = MessageKind
S = AppointmentStatus
SITE = "https://clinic.example"
N = "\u00a0"  # the no-break space French puts before : and ;
PATIENT_EMAILS = [
    "request received",
    "request received, address to confirm",
    "request expired",
    "confirmed",
    "declined",
    "cancelled",
    "moved",
    "reminder",
    "aftercare",
    "waitlist offer",
    "course booked",
]
CLINIC_EMAILS = ["to the clinic: new request", "to the clinic: moved", "to the clinic: cancelled"]
# What each email says, subject first, in French.
FRENCH_SAID = {
    "request received": [
        "Nous avons bien reçu votre demande de rendez-vous",
        "La clinique vous la confirmera prochainement par e-mail.",
    ],
    "request received, address to confirm": [
        "Nous avons bien reçu votre demande de rendez-vous",
        "Veuillez confirmer que cette adresse e-mail est bien la vôtre avant",
        "Si vous n’avez pas demandé ce rendez-vous, ignorez simplement cet e-mail.",
    ],
    "request expired": [
        "Votre demande de rendez-vous a expiré",
        "l’adresse e-mail n’a pas été confirmée à temps",
        "choisir de nouveau un horaire",
    ],
    "confirmed": [
        "Votre rendez-vous est confirmé",
        "Le fichier d’agenda joint l’ajoute à votre agenda.",
        "Avant votre séance",
    ],
    "declined": [
        "Nous ne pouvons pas vous proposer l’horaire demandé",
        "Le médecin est absent.",
        "choisir un autre horaire",
    ],
    "cancelled": [
        "Votre rendez-vous est annulé",
        "Le fichier d’agenda joint le retire de votre agenda.",
    ],
    "moved": [
        "Votre rendez-vous a changé d’horaire",
        "(il était prévu le ",
        "Le fichier d’agenda joint met votre agenda à jour.",
    ],
    "reminder": [f"Rappel{N}: votre rendez-vous du ", "Nous vous rappelons votre rendez-vous."],
    "aftercare": [f"Après votre séance{N}: nos conseils", "Merci de votre visite.", "Buvez beaucoup d’eau"],
    "waitlist offer": ["Un horaire s’est libéré", "Un horaire que vous attendiez s’est libéré", "passé ce délai"],
    "course booked": [
        "Vos séances sont réservées",
        "Votre série de 2 séances",
        "Chaque lien vous est personnel",
    ],
}
ENGLISH_SUBJECTS = {
    "request received": "We have your appointment request (",
    "request received, address to confirm": "We have your appointment request (",
    "request expired": "Your appointment request has expired (",
    "confirmed": "Your appointment is confirmed (",
    "declined": "We cannot offer the time you asked for (",
    "cancelled": "Your appointment is cancelled (",
    "moved": "Your appointment has moved (",
    "reminder": "Reminder: your appointment on ",
    "aftercare": "After your visit: aftercare advice",
    "waitlist offer": "A time has become free",
    "course booked": "Your course of treatment is booked (",
}
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


@pytest.fixture(autouse=True)
def site(settings):
    settings.CLINIC_SITE_URL = SITE
    settings.CLINIC_EMAIL_SHOW_TREATMENT = True


@pytest.fixture
def clinic():
    clinic = ClinicDetails.objects.current()
    clinic.name = "Clinique Harley"
    clinic.phone = "020 7946 0123"
    clinic.email = "bonjour@clinic.example"
    clinic.notification_email = "accueil@clinic.example"
    clinic.address = "1 Harley Street\nLondon W1G 9QD"
    clinic.reminder_hours = 24
    clinic.save()
    return clinic


@pytest.fixture
def treatment(clinic):
    return Treatment.objects.get(slug="hair-loss")


@pytest.fixture
def starts(treatment, practitioner):
    return separate_starts(treatment, 7)


def patient(language):
    return {
        "first_name": "Marie",
        "last_name": "Lefèvre",
        "email": "marie@example.com",
        "phone": "+33612345678",
        "message": "",
        "first_visit": True,
        "language": language,
    }


def sent_now():
    """The worker's run over every email now due: (kind, email) for each one sent, in order."""
    sent = []
    for message in Message.objects.due(timezone.now()).order_by("pk"):
        before = len(mail.outbox)
        message_send.call(message.pk)
        if len(mail.outbox) > before:
            sent.append((message.kind, mail.outbox[-1]))
    return sent


def only(sent, kind):
    [email] = [email for sent_kind, email in sent if sent_kind == kind]
    return email


@pytest.fixture
def every_email(django_capture_on_commit_callbacks, monkeypatch, treatment, practitioner, starts):
    """Every email a patient can get, for a booking in ``language``, by what it tells them."""

    def committed(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    def make(language):
        emails = {}
        who = patient(language)
        unconfirmed = committed(
            appointment_request, treatment=treatment, start=starts[0], patient=who, email_confirmed=False
        )
        emails["request received, address to confirm"] = only(sent_now(), K.REQUEST_RECEIVED)
        committed(appointment_transition, appointment=unconfirmed, to_status=S.EXPIRED)
        emails["request expired"] = only(sent_now(), K.REQUEST_EXPIRED)

        visit = committed(appointment_request, treatment=treatment, start=starts[1], patient=who)
        sent = sent_now()
        emails["request received"] = only(sent, K.REQUEST_RECEIVED)
        emails["to the clinic: new request"] = only(sent, K.CLINIC_NEW_REQUEST)
        committed(appointment_transition, appointment=visit, to_status=S.CONFIRMED)
        emails["confirmed"] = only(sent_now(), K.CONFIRMED)
        visit = committed(appointment_move, appointment=visit, start=starts[2])
        sent = sent_now()
        emails["moved"] = only(sent, K.MOVED)
        emails["to the clinic: moved"] = only(sent, K.CLINIC_MOVED)
        reminder = Message.objects.filter(appointment=visit, kind=K.REMINDER).latest("send_after")
        with monkeypatch.context() as later:
            clock_at(later, reminder.send_after + timedelta(minutes=1))
            emails["reminder"] = only(sent_now(), K.REMINDER)
        committed(appointment_transition, appointment=visit, to_status=S.COMPLETED)
        emails["aftercare"] = only(sent_now(), K.AFTERCARE)

        declined = committed(appointment_request, treatment=treatment, start=starts[3], patient=who)
        sent_now()
        committed(appointment_transition, appointment=declined, to_status=S.DECLINED, note="Le médecin est absent.")
        emails["declined"] = only(sent_now(), K.DECLINED)

        cancelled = committed(appointment_request, treatment=treatment, start=starts[4], patient=who)
        committed(appointment_transition, appointment=cancelled, to_status=S.CONFIRMED)
        sent_now()
        committed(appointment_cancel_by_patient, appointment=cancelled)
        sent = sent_now()
        emails["cancelled"] = only(sent, K.CANCELLED)
        emails["to the clinic: cancelled"] = only(sent, K.CLINIC_CANCELLED)

        first = committed(appointment_request, treatment=treatment, start=starts[5], patient=who)
        committed(appointment_transition, appointment=first, to_status=S.CONFIRMED)
        sent_now()
        local = timezone.localtime(first.starts_at)
        committed(
            course_create,
            appointment=first,
            interval_weeks=1,
            weekday=Weekday(local.weekday()),
            preferred_time=local.time(),
            starts=[Option(starts[6], practitioner.pk)],
        )
        emails["course booked"] = only(sent_now(), K.COURSE_BOOKED)

        committed(appointment_cancel_by_patient, appointment=first)
        sent_now()
        day = timezone.localdate(first.starts_at)
        WaitlistEntry.objects.create(
            treatment=treatment,
            date_from=day,
            date_to=day,
            first_name="Marie",
            last_name="Lefèvre",
            email="marie@example.com",
            phone="+33612345678",
            consent_at=timezone.now(),
            privacy_notice=PrivacyNotice.objects.current(),
            language=language,
        )
        committed(waitlist_time_freed, start=first.starts_at, practitioner_id=practitioner.pk)
        emails["waitlist offer"] = only(sent_now(), K.WAITLIST_OFFER)
        return emails

    return make


@pytest.fixture
def french_content(treatment):
    """The treatment's advice as a French clinic writes it. The content's own French versions are another
    step of the work: here the advice must not be mistaken for English the templates left."""
    treatment.before_visit = "Vous pouvez appliquer une crème anesthésiante trente minutes avant la séance."
    treatment.aftercare = "Buvez beaucoup d’eau ; de petits bleus sont normaux."
    treatment.save()


def parts_of(email):
    """The subject, the plain text and the HTML an email shows."""
    return [email.subject, email.body, html_of(email)]


def calendars_in(email):
    """Each attached .ics, parsed."""
    return [
        Calendar.from_ical(part.get_payload(decode=True))
        for part in email.message().walk()
        if part.get_content_type() == "text/calendar"
    ]


def test_every_email_to_a_french_patient_says_its_message_in_french(every_email, french_content):
    # Sent by the worker, which speaks the site's language.
    with translation.override("en-gb"):
        emails = every_email("fr")
    for label in PATIENT_EMAILS:
        email = emails[label]
        subject, *said = FRENCH_SAID[label]
        assert subject in email.subject, label
        for part in (email.body, html_of(email)):
            assert "Bonjour Marie," in part, label
            for text in said:
                assert text in part, (label, text)


def test_no_english_text_of_the_templates_is_left_in_a_french_patients_email(every_email, french_content):
    emails = every_email("fr")
    for label in PATIENT_EMAILS:
        for part in parts_of(emails[label]):
            assert english_left(part, catalogs=[PROJECT_CATALOG, BOOKING_CATALOG]) == [], label
            for word in ("Dear ", "Reference:", "When:", "With:", "Phone:", "Email:", "Before your visit"):
                assert word not in part, (label, word)


def test_the_details_and_the_clinics_footer_are_in_french(every_email):
    email = every_email("fr")["confirmed"]
    assert f"Référence{N}: " in email.body
    assert f"Soin{N}: Chute des cheveux" in email.body  # the treatment's French name (booking/translation.py)
    assert f"Avec{N}: Dr Ada Test" in email.body
    assert f"Téléphone{N}: 020 7946 0123" in email.body
    assert f"E-mail{N}: bonjour@clinic.example" in email.body
    assert f'E-mail{N}: <a href="mailto:bonjour@clinic.example">' in html_of(email)


def reminded_day(*, year):
    """The day of the appointment the reminder was sent for, written out in French."""
    [reminder] = Message.objects.filter(kind=K.REMINDER, status=MessageStatus.SENT)
    local = timezone.localtime(reminder.appointment.starts_at)
    day = f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]}"
    return (f"{day} {local.year}" if year else day), f"{local:%H:%M}"


def test_a_french_email_writes_its_dates_and_times_as_the_french_pages_do(every_email):
    email = every_email("fr")["reminder"]
    day, time = reminded_day(year=True)
    assert f"Date{N}: {day} à {time} (GMT)" in email.body
    assert f"Date{N}: {day} à {time} (GMT)" in html_of(email)


def test_the_reminders_subject_names_the_day_in_french(every_email):
    email = every_email("fr")["reminder"]
    day, _time = reminded_day(year=False)
    assert email.subject == f"Rappel{N}: votre rendez-vous du {day} – Clinique Harley"


def test_a_french_patients_email_says_its_language_to_the_mail_client(every_email):
    emails = every_email("fr")
    for label in PATIENT_EMAILS:
        assert '<html lang="fr">' in html_of(emails[label]), label


def test_the_calendar_files_in_a_french_patients_emails_are_french(every_email):
    emails = every_email("fr")
    carrying = ["request expired", "confirmed", "declined", "cancelled", "moved", "course booked"]
    for label in carrying:
        calendars = calendars_in(emails[label])
        assert calendars, label
        for calendar in calendars:
            [event] = calendar.walk("VEVENT")
            assert str(event["summary"]) == "Rendez-vous – Clinique Harley", label
            assert str(event["description"]).startswith("Référence "), label
            assert "Pour le modifier, appelez le 020 7946 0123." in str(event["description"]), label


def test_the_clinics_own_emails_of_a_french_booking_stay_in_english(every_email):
    emails = every_email("fr")
    assert emails["to the clinic: new request"].subject.startswith("New appointment request ")
    assert "A patient moved their appointment online." in emails["to the clinic: moved"].body
    for label in CLINIC_EMAILS:
        email = emails[label]
        assert "When: " in email.body and "Phone: 020 7946 0123" in email.body, label
        assert '<html lang="en-gb">' in html_of(email), label
        assert "Bonjour" not in email.body and "Référence" not in email.body, label


def test_an_english_patients_emails_stay_in_english_when_staff_work_in_french(every_email):
    with translation.override("fr"):
        emails = every_email("en-gb")
    for label in PATIENT_EMAILS:
        email = emails[label]
        assert email.subject.startswith(ENGLISH_SUBJECTS[label]), label
        assert "Dear Marie," in email.body, label
        assert '<html lang="en-gb">' in html_of(email), label
        assert "Phone: 020 7946 0123" in email.body, label
        for part in parts_of(email):
            assert "Bonjour" not in part and "Référence" not in part and "séance" not in part, label
    assert "The attached calendar file adds it to your calendar." in emails["confirmed"].body
    for calendar in calendars_in(emails["confirmed"]):
        [event] = calendar.walk("VEVENT")
        assert str(event["summary"]) == "Appointment at Clinique Harley"
