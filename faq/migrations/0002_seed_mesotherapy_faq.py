"""The clinic's starting FAQ, verbatim from its own text. Staff edit their copy in the admin."""

from django.db import migrations

SEED = [
    (
        "uses-of-mesotherapy",
        "What are the uses of mesotherapy?",
        "Mesotherapy has been used in Europe since 1952 when the French physician Dr. Micheal Pistor invented it for pain management. It is the injection of a mixture of medications, vitamins and minerals into the mesoderm, the layer of fat and connective tissue just under the skin. The composition of the mixture may differ depending on the condition and area being treated. Mesotherapy has a number of medical applications that include hair loss, spot body contouring, face and neck rejuvenation and cellulite reduction.",
    ),
    (
        "mesotherapy-for-fat-loss",
        "How does mesotherapy for fat loss work?",
        "With Liposuction, the fat is usually suctioned out surgically from a body area in one sitting; in Mesotherapy, the fat is dissolved non-surgically and is performed in a series of sessions with no downtime. That depends on the area being treated. Some patients see results after one or two treatments, while others may require ten treatments for the optimum result. Fat loss with mesotherapy is a gradual process. The results are not immediate as with liposuction. Patients can maintain their results as long as they stay on a healthy diet and continue to exercise. Many patients can lose as much as two dresses after about ten treatments. Cellulite may require maintenance treatments every six months to a year.",
    ),
    (
        "what-happens-to-dissolved-fat",
        "What happens to the fat dissolved with mesotherapy?",
        "The mixture of medications used in Mesotherapy melts the fat beneath the skin and shrinks the deeper fat cells. Once the fat has been dissolved, it is absorbed into the bloodstream where it is carried out from the body through the kidneys. The formula of medications used to treat cellulite destroys the connective tissues that cause that are trapped. This results in a smooth, dimple-free appearance.",
    ),
    (
        "procedure",
        "What is the procedure of Mesotherapy?",
        "Mesotherapy is performed to actually melt away unwanted localized deposits of fat from your body. During the procedure doctor uses a very tiny needle mounted on special equipment, Meso-gun, to painlessly make multiple injections of the medications into the targeted area. When treating cellulite, one formulation of medications may be used to dissolve the fat and another to destroy the fibrous bands that bind the skin. Treatments average about 10 sessions, spaced 1-2 weeks apart. The pain of the treatment is like a pinch or bee sting. Some patients prefer to use a local anesthetic cream for skin numbing, applied thirty minutes prior to their treatment.",
    ),
    (
        "aftercare-and-recovery",
        "What are the postoperative precautions and how is the recovery?",
        "There may be bruising and swelling after mesotherapy. The patient should drink plenty of water during the course of Mesotherapy to help flush out the breakdown products of the tissue. Side effects are limited because mesotherapy is delivered directly to the target area. This reduces the possibility of drug interactions and reduces the amount of medication required for each procedure. Since localized bruising is common, it is suggested to discontinue blood thinners before treatment. Mesotherapy is designed for fat sculpting or body contouring and not weight reduction. For true weight reduction and management, you should be on a good diet and exercise program. Mesotherapy is custom-tailored for each individual. Unlike surgery, Mesotherapy is virtually painless and has no downtime, no heavy bandages, pressure garments or anesthesia.",
    ),
]


def seed_faq(apps, schema_editor):
    Category = apps.get_model("faq", "Category")
    Question = apps.get_model("faq", "Question")
    category, _ = Category.objects.get_or_create(slug="mesotherapy", defaults={"name": "Mesotherapy", "position": 0})
    for position, (slug, question, answer) in enumerate(SEED):
        Question.objects.get_or_create(
            slug=slug,
            defaults={
                "category": category,
                "question": question,
                "answer": answer,
                "position": position,
                "published": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("faq", "0001_initial")]

    operations = [migrations.RunPython(seed_faq, migrations.RunPython.noop)]
