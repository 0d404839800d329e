"""The treatments the clinic's FAQ names, with durations the clinic can change in the admin."""

from django.db import migrations

BEFORE_VISIT = (
    "If you would like your skin numbed, you can apply a local anaesthetic cream thirty minutes "
    "before your treatment.\n\n"
    "Bruising is common after mesotherapy. If you take blood thinners, talk to your doctor before "
    "the treatment: only your doctor can tell you whether it is safe to stop them."
)
AFTERCARE = (
    "Drink plenty of water during your course of treatment: it helps your body flush out what "
    "the treatment breaks down.\n\n"
    "Some bruising and swelling where the injections were given is common and fades on its own. "
    "There is no downtime, so you can go back to your usual activities.\n\n"
    "A healthy diet and regular exercise help you keep your results."
)
TREATMENTS = [
    (
        "hair-loss",
        "Hair loss",
        "Mesotherapy for thinning hair: a mixture of vitamins, minerals and medications delivered to the scalp.",
        "Mesotherapy injects a mixture of medications, vitamins and minerals into the mesoderm, the layer "
        "just under the skin. For hair loss, the mixture is delivered to the scalp in a series of sessions.",
        ["uses-of-mesotherapy", "procedure", "aftercare-and-recovery"],
    ),
    (
        "fat-loss-body-contouring",
        "Fat loss and spot body contouring",
        "Dissolve localised fat deposits without surgery, over a series of sessions with no downtime.",
        "Unlike liposuction, mesotherapy dissolves fat non-surgically, over a series of sessions with no "
        "downtime. Results are gradual: some patients see them after one or two treatments, others need "
        "about ten. Mesotherapy is for sculpting and contouring, not for weight reduction.",
        ["mesotherapy-for-fat-loss", "what-happens-to-dissolved-fat", "procedure", "aftercare-and-recovery"],
    ),
    (
        "face-neck-rejuvenation",
        "Face and neck rejuvenation",
        "Refresh the skin of the face and neck with a tailored mixture of vitamins and minerals.",
        "A mixture tailored to your skin is delivered just under the skin of the face and neck with a very "
        "fine needle. The treatment is custom-tailored for each individual.",
        ["uses-of-mesotherapy", "procedure", "aftercare-and-recovery"],
    ),
    (
        "cellulite-reduction",
        "Cellulite reduction",
        "Smooth dimpled skin by treating the fat and the fibrous bands beneath it.",
        "When treating cellulite, one formulation may be used to dissolve the fat and another to release the "
        "fibrous bands that bind the skin, for a smoother appearance. Maintenance treatments every six months "
        "to a year may be needed.",
        ["mesotherapy-for-fat-loss", "what-happens-to-dissolved-fat", "procedure", "aftercare-and-recovery"],
    ),
]


def seed_treatments(apps, schema_editor):
    Treatment = apps.get_model("booking", "Treatment")
    Question = apps.get_model("faq", "Question")
    for position, (slug, name, summary, description, question_slugs) in enumerate(TREATMENTS):
        treatment, created = Treatment.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "summary": summary,
                "description": description,
                "duration_minutes": 45,
                "buffer_minutes": 15,
                "before_visit": BEFORE_VISIT,
                "aftercare": AFTERCARE,
                "position": position,
            },
        )
        if created:
            treatment.questions.set(Question.objects.filter(slug__in=question_slugs))


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial"), ("faq", "0002_seed_mesotherapy_faq")]

    operations = [migrations.RunPython(seed_treatments, migrations.RunPython.noop)]
