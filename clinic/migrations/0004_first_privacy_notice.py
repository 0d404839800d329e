from django.db import migrations

NOTICE = """We ask for your name, email address and phone number, and anything you choose to tell us in your message, so that we can arrange and confirm your appointment and contact you about it.

Your details are seen only by the clinic's staff. We do not sell them or share them with advertisers, and our website sends no data to third parties.

We keep your details for as long as we need them to care for you and as the law requires for medical records, then delete or anonymise them.

You can ask us at any time for a copy of what we hold about you, to correct it, or to erase it. Contact the clinic using the details on our contact page."""


def publish_first_notice(apps, schema_editor):
    PrivacyNotice = apps.get_model("clinic", "PrivacyNotice")
    if not PrivacyNotice.objects.exists():
        PrivacyNotice.objects.create(version=1, body=NOTICE)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0003_booking_rules_and_privacy_notice")]

    operations = [migrations.RunPython(publish_first_notice, migrations.RunPython.noop)]
