"""The FAQ's English texts move to their English columns, and the seed's five questions get the
clinic's French version.

django-modeltranslation reads ``question_en_gb`` (not ``question``) for English: without the copy,
every question staff wrote before would show blank. French is written only where the English is
still the seed's own text and no French has been written yet.
"""

import importlib

from django.db import migrations
from django.db.models import F, Q

from clinic.typography import french_typography

english_seed = importlib.import_module("faq.migrations.0002_seed_mesotherapy_faq")

TRANSLATED = {"Category": ["name", "description"], "Question": ["question", "answer"]}

CATEGORY_FR = {"mesotherapy": ("Mesotherapy", "Mésothérapie")}

# slug: (question, answer), in the seed's order.
QUESTIONS_FR = {
    "uses-of-mesotherapy": (
        "À quoi sert la mésothérapie ?",
        "La mésothérapie est pratiquée en Europe depuis 1952, année où le médecin français Michel Pistor "
        "l'a mise au point pour traiter la douleur. Elle consiste à injecter un mélange de médicaments, de "
        "vitamines et de minéraux dans le mésoderme, la couche de graisse et de tissu conjonctif située juste "
        "sous la peau. La composition du mélange varie selon l'indication et la zone traitée. La mésothérapie "
        "a plusieurs applications médicales, notamment la chute des cheveux, le remodelage localisé de la "
        "silhouette, le rajeunissement du visage et du cou, et la réduction de la cellulite.",
    ),
    "mesotherapy-for-fat-loss": (
        "Comment la mésothérapie agit-elle sur la graisse localisée ?",
        "Lors d'une liposuccion, la graisse est généralement aspirée chirurgicalement, en une seule "
        "intervention. En mésothérapie, elle est dissoute sans chirurgie, au fil d'une série de séances, sans "
        "arrêt d'activité. Le nombre de séances dépend de la zone traitée : certains patients voient un "
        "résultat après une ou deux séances, d'autres ont besoin d'une dizaine de séances pour un résultat "
        "optimal. La perte de graisse par mésothérapie est progressive : les résultats ne sont pas immédiats "
        "comme après une liposuccion. Ils se maintiennent tant que vous gardez une alimentation équilibrée et "
        "une activité physique régulière. Après une dizaine de séances, beaucoup de patients gagnent jusqu'à "
        "deux tailles de vêtement ; les résultats varient toutefois d'une personne à l'autre. La cellulite "
        "peut demander des séances d'entretien tous les six mois à un an.",
    ),
    "what-happens-to-dissolved-fat": (
        "Que devient la graisse dissoute par la mésothérapie ?",
        "Le mélange de médicaments utilisé en mésothérapie fait fondre la graisse sous la peau et réduit le "
        "volume des cellules graisseuses plus profondes. Une fois dissoute, la graisse passe dans la "
        "circulation sanguine, puis elle est éliminée par les reins. Pour la cellulite, la formule utilisée "
        "agit sur les bandes de tissu conjonctif qui emprisonnent la graisse. La peau retrouve ainsi un "
        "aspect plus lisse, sans « peau d'orange ».",
    ),
    "procedure": (
        "Comment se déroule une séance de mésothérapie ?",
        "La mésothérapie vise à faire fondre des amas graisseux localisés. Pendant la séance, le médecin "
        "utilise une aiguille très fine, montée sur un appareil spécial, le « méso-injecteur », pour faire de "
        "multiples petites injections du mélange dans la zone ciblée. Pour la cellulite, une formule peut "
        "servir à dissoudre la graisse et une autre à relâcher les bandes fibreuses qui retiennent la peau. "
        "Un traitement compte en moyenne une dizaine de séances, espacées d'une à deux semaines. La sensation "
        "est comparable à un pincement ou à une piqûre d'abeille. Si vous le souhaitez, vous pouvez appliquer "
        "une crème anesthésiante locale trente minutes avant la séance pour insensibiliser la peau.",
    ),
    "aftercare-and-recovery": (
        "Quelles précautions prendre après une séance, et comment se passe la récupération ?",
        "Des bleus et un léger gonflement peuvent apparaître après une séance de mésothérapie. Buvez "
        "beaucoup d'eau pendant toute la durée du traitement : cela aide votre organisme à éliminer les "
        "produits de dégradation des tissus. Les effets indésirables sont limités, car le produit est injecté "
        "directement dans la zone à traiter : le risque d'interactions médicamenteuses est réduit, de même "
        "que la quantité de médicament nécessaire à chaque séance. Les bleus localisés étant fréquents, il "
        "est conseillé d'interrompre les anticoagulants avant le traitement, toujours avec l'accord de votre "
        "médecin : n'arrêtez jamais un traitement de vous-même. La mésothérapie sert à remodeler la "
        "silhouette, non à perdre du poids : pour cela, une alimentation équilibrée et une activité physique "
        "régulière restent indispensables. Le traitement est adapté à chaque personne. Contrairement à la "
        "chirurgie, la mésothérapie est peu douloureuse et ne demande ni arrêt d'activité, ni pansement "
        "épais, ni vêtement de compression, ni anesthésie.",
    ),
}


def blank(field):
    """The rows where ``field`` is empty: NULL in a new column, "" once a form saved it."""
    return Q(**{f"{field}__isnull": True}) | Q(**{field: ""})


def english_keep(apps, schema_editor):
    for model_name, fields in TRANSLATED.items():
        model = apps.get_model("faq", model_name)
        for field in fields:
            model.objects.filter(blank(f"{field}_en_gb")).update(**{f"{field}_en_gb": F(field)})


def french_seed(apps, schema_editor):
    Category = apps.get_model("faq", "Category")
    Question = apps.get_model("faq", "Question")
    for slug, (english, french) in CATEGORY_FR.items():
        Category.objects.filter(blank("name_fr"), slug=slug, name_en_gb=english).update(
            name_fr=french_typography(french)
        )
    english = {slug: (question, answer) for slug, question, answer in english_seed.SEED}
    for slug, (question, answer) in QUESTIONS_FR.items():
        seed_question, seed_answer = english[slug]
        Question.objects.filter(blank("question_fr"), slug=slug, question_en_gb=seed_question).update(
            question_fr=french_typography(question)
        )
        Question.objects.filter(blank("answer_fr"), slug=slug, answer_en_gb=seed_answer).update(
            answer_fr=french_typography(answer)
        )


class Migration(migrations.Migration):
    dependencies = [("faq", "0004_content_in_english_and_french")]

    operations = [
        migrations.RunPython(english_keep, migrations.RunPython.noop),
        migrations.RunPython(french_seed, migrations.RunPython.noop),
    ]
