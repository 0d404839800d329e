import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import Treatment
from faq.models import Category, Question

pytestmark = pytest.mark.django_db


@pytest.fixture
def faq_url():
    return reverse("faq:index")


def question_titles(html):
    return re.findall(r'<h3 id="[^"]+-title">(.*?)</h3>', html)


def json_ld(html):
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "the FAQ page has no JSON-LD"
    return json.loads(match.group(1))


def test_page_lists_only_published_questions_in_staff_order(client, faq_url):
    Question.objects.update(published=False)
    later = Category.objects.create(name="Booking", slug="booking", position=5)
    first = Category.objects.create(name="About", slug="about", position=1)
    Question.objects.create(
        category=later, question="Can I cancel?", slug="cancel", answer="Yes.", position=1, published=True
    )
    Question.objects.create(
        category=later, question="Do I pay ahead?", slug="pay", answer="No.", position=0, published=True
    )
    Question.objects.create(
        category=first, question="Who are you?", slug="who", answer="Us.", position=3, published=True
    )
    Question.objects.create(category=first, question="Secret draft?", slug="draft", answer="Hidden.", published=False)

    html = client.get(faq_url).content.decode()

    assert question_titles(html) == ["Who are you?", "Do I pay ahead?", "Can I cancel?"]
    assert "Secret draft?" not in html
    assert html.index(">About</h2>") < html.index(">Booking</h2>")


def test_each_question_has_an_anchor_and_a_back_to_top_link(client, faq_url):
    html = client.get(faq_url).content.decode()
    for slug in Question.objects.values_list("slug", flat=True):
        assert f'id="{slug}"' in html
        assert f'href="#{slug}"' in html
    assert html.count('href="#top">Back to top</a>') == Question.objects.count()
    assert 'id="top"' in html
    assert f'href="{reverse("booking:book")}"' in html


def test_json_ld_names_the_same_questions_and_answers_as_the_page(client, faq_url):
    Question.objects.filter(slug="procedure").update(published=False)
    html = client.get(faq_url).content.decode()
    data = json_ld(html)

    assert data["@type"] == "FAQPage"
    names = [item["name"] for item in data["mainEntity"]]
    assert names == question_titles(html)
    assert "What is the procedure of Mesotherapy?" not in names
    for item in data["mainEntity"]:
        question = Question.objects.get(question=item["name"])
        assert item["@type"] == "Question"
        assert item["acceptedAnswer"]["text"] == question.answer


def test_json_ld_cannot_be_closed_by_an_answer(client, faq_url):
    Question.objects.filter(slug="procedure").update(answer="Before </script><script>alert(1)</script> after")
    html = client.get(faq_url).content.decode()
    head = html.split("</head>")[0]
    assert head.count("<script") == 1
    assert head.count("</script>") == 1
    texts = [item["acceptedAnswer"]["text"] for item in json_ld(html)["mainEntity"]]
    assert "Before after" in texts


def test_search_finds_a_question_by_a_word_only_in_its_answer(client, faq_url):
    response = client.get(faq_url, {"q": "kidneys"})
    html = response.content.decode()
    assert response.status_code == 200
    assert question_titles(html) == ["What happens to the fat dissolved with mesotherapy?"]
    assert "1 question matching" in html


def test_search_for_a_nonsense_word_says_nothing_matches(client, faq_url):
    html = client.get(faq_url, {"q": "xylophonequark"}).content.decode()
    assert question_titles(html) == []
    assert "No questions match" in html


def test_search_never_finds_unpublished_questions(client, faq_url):
    Question.objects.filter(slug="what-happens-to-dissolved-fat").update(published=False)
    html = client.get(faq_url, {"q": "kidneys"}).content.decode()
    assert "No questions match" in html


def test_overlong_search_gets_a_message_not_an_error(client, faq_url):
    response = client.get(faq_url, {"q": "a" * 5000})
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()


# The questions with their categories, the active treatments they are about (one query for all
# questions, however many) and the clinic's details (not cached yet here, unlike test_query_budgets.py).
FAQ_QUERY_BUDGET = 3


def test_faq_page_makes_at_most_three_queries(client, faq_url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(faq_url).status_code == 200
    assert len(queries) <= FAQ_QUERY_BUDGET, [q["sql"] for q in queries]


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert('x')</script>Fine",
        '<a href="javascript:alert(1)">click</a>',
        '<img src="x" onerror="alert(1)">',
        '<p onclick="alert(1)">text</p>',
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        "<iframe src='https://example.com'></iframe>",
    ],
)
def test_staff_html_in_an_answer_is_never_rendered_active(client, faq_url, payload):
    Question.objects.filter(slug="procedure").update(answer=payload)
    html = client.get(faq_url).content.decode()
    body = html.split('id="procedure"')[1].split("</article>")[0]
    assert "<script" not in body
    assert "javascript:" not in body.lower()
    assert "onerror" not in body and "onclick" not in body
    assert "<iframe" not in body and "<img" not in body


def test_allowed_formatting_survives_sanitising(client, faq_url):
    Question.objects.filter(slug="procedure").update(
        answer='<p>One <strong>two</strong></p><ul><li>item</li></ul><a href="https://example.org">link</a>'
    )
    body = client.get(faq_url).content.decode().split('id="procedure"')[1]
    assert "<strong>two</strong>" in body
    assert "<li>item</li>" in body
    assert 'href="https://example.org"' in body
    assert 'rel="noopener noreferrer nofollow"' in body


def test_plain_text_answers_keep_their_paragraphs(client, faq_url):
    Question.objects.filter(slug="procedure").update(answer="First paragraph.\n\nSecond <paragraph>.")
    body = client.get(faq_url).content.decode().split('id="procedure"')[1]
    assert "<p>First paragraph.</p><p>Second" in body


def test_staff_preview_shows_an_unpublished_question_only_to_staff(client, admin_client):
    question = Question.objects.get(slug="procedure")
    question.published = False
    question.save()
    url = reverse("faq:preview", args=[question.pk])
    assert client.get(url).status_code == 302
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "not published" in response.content.decode()
    assert question.question in response.content.decode()


def question_article(html, slug):
    match = re.search(rf'<article class="faq-question" id="{slug}".*?</article>', html, re.S)
    assert match, f"no question {slug} on the page"
    return match[0]


@pytest.fixture
def procedure_about_hair_loss():
    """The "procedure" question, about the hair-loss treatment and an inactive one."""
    hair_loss = Treatment.objects.get(slug="hair-loss")
    retired = Treatment.objects.exclude(pk=hair_loss.pk).first()
    Treatment.objects.filter(pk=retired.pk).update(active=False)
    for treatment in Treatment.objects.all():
        treatment.questions.remove(Question.objects.get(slug="procedure"))
    hair_loss.questions.add(Question.objects.get(slug="procedure"))
    retired.questions.add(Question.objects.get(slug="procedure"))
    return hair_loss, retired


def test_a_question_about_a_treatment_links_to_the_treatments_page(client, faq_url, procedure_about_hair_loss):
    hair_loss, retired = procedure_about_hair_loss
    pages = {
        "faq": client.get(faq_url).content.decode(),
        "search": client.get(faq_url, {"q": Question.objects.get(slug="procedure").question}).content.decode(),
    }
    for name, html in pages.items():
        article = question_article(html, "procedure")
        assert f'About this treatment: <a href="/treatments/hair-loss/">{hair_loss.name}</a>' in article, name
        assert retired.get_absolute_url() not in article, name  # inactive: its page is not found


def test_a_question_about_several_treatments_links_to_each(client, faq_url, procedure_about_hair_loss):
    hair_loss, other = procedure_about_hair_loss
    Treatment.objects.filter(pk=other.pk).update(active=True)
    article = question_article(client.get(faq_url).content.decode(), "procedure")
    first, second = Treatment.objects.filter(pk__in=[hair_loss.pk, other.pk])  # in staff order
    assert (
        f'About these treatments: <a href="{first.get_absolute_url()}">{first.name}</a>, '
        f'<a href="{second.get_absolute_url()}">{second.name}</a>'
    ) in article


def test_a_question_about_no_active_treatment_links_to_none(client, faq_url, procedure_about_hair_loss):
    hair_loss, _ = procedure_about_hair_loss
    hair_loss.questions.remove(Question.objects.get(slug="procedure"))
    assert "About th" not in question_article(client.get(faq_url).content.decode(), "procedure")


def test_staff_preview_shows_the_treatment_links_patients_will_see(admin_client, procedure_about_hair_loss):
    html = admin_client.get(reverse("faq:preview", args=[Question.objects.get(slug="procedure").pk])).content.decode()
    assert 'About this treatment: <a href="/treatments/hair-loss/">' in html


def test_treatment_links_cost_no_query_per_question(client, faq_url):
    published = list(Question.objects.published())
    for treatment in Treatment.objects.all():
        treatment.questions.set(published)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(faq_url).content.decode()
    assert html.count("About these treatments:") == len(published) > 1
    assert len(queries) <= FAQ_QUERY_BUDGET, [q["sql"] for q in queries]
