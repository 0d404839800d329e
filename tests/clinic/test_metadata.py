"""Search engines and link previews find each public page once, with its own title and description."""

import io
import json
import re
from collections import Counter
from html import unescape
from html.parser import HTMLParser

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from booking.models import Treatment
from clinic.cache import content_changed
from tests.public_pages import get_pages, indexable_pages

pytestmark = pytest.mark.django_db

PRIVATE = ("/admin", "/appointment/", "/book/done/", "/waitlist/claim/")


class Head(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang = None
        self.titles = []
        self.descriptions = []
        self.canonicals = []
        self.robots = []
        self.json_ld = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        elif tag == "title":
            self._in = "title"
            self.titles.append("")
        elif tag == "meta" and attrs.get("name") == "description":
            self.descriptions.append(attrs.get("content", ""))
        elif tag == "meta" and attrs.get("name") == "robots":
            self.robots.append(attrs.get("content", ""))
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonicals.append(attrs.get("href", ""))
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._in = "json_ld"
            self.json_ld.append("")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.titles[-1] += data
        elif self._in == "json_ld":
            self.json_ld[-1] += data


def head_of(client, path):
    response = client.get(path)
    parser = Head()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def heads(client):
    return {name: head_of(client, path) for name, path in get_pages().items()}


def test_every_public_page_has_its_own_title_and_description_and_a_language(heads):
    # Own within its language: a page's French twin is its hreflang alternate, and may share a title made of
    # content staff have written in English only (a treatment's name).
    titles = Counter((head.lang, head.titles[0].strip()) for head in heads.values())
    descriptions = Counter((head.lang, head.descriptions[0].strip()) for head in heads.values())
    for name, head in heads.items():
        assert head.lang == ("fr" if name.startswith("fr ") else "en-gb"), name
        assert len(head.titles) == 1 and head.titles[0].strip(), name
        assert len(head.descriptions) == 1 and len(head.descriptions[0].strip()) >= 30, name
    assert [title for title, count in titles.items() if count > 1] == []
    assert [description for description, count in descriptions.items() if count > 1] == []


def test_each_findable_page_names_one_absolute_canonical_address_without_its_query(heads):
    for name in [*indexable_pages(), "faq search", "times", "details", "waitlist"]:
        head = heads[name]
        assert len(head.canonicals) == 1, name
        assert re.fullmatch(r"https?://[^/?#]+/[^?#]*", head.canonicals[0]), (name, head.canonicals[0])
        assert head.robots == [], name
    assert heads["faq search"].canonicals == ["http://testserver/faq/"]
    assert heads["details"].canonicals == ["http://testserver/book/hair-loss/details/"]


def test_pages_opened_from_a_personal_link_are_kept_out_of_search_engines_and_name_no_token(heads):
    for name in ("confirmation", "appointment", "move", "not found", "fr not found"):
        head = heads[name]
        assert head.robots == ["noindex, nofollow"], name
        assert head.canonicals == [], name


def test_the_faq_structured_data_is_a_schema_org_faq_page(heads):
    (block,) = heads["faq"].json_ld
    data = json.loads(block)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "FAQPage"
    assert len(data["mainEntity"]) >= 5
    for question in data["mainEntity"]:
        assert question["@type"] == "Question"
        assert question["name"].strip()
        assert question["acceptedAnswer"]["@type"] == "Answer"
        assert question["acceptedAnswer"]["text"].strip()
    assert heads["faq search"].json_ld == []


def test_the_sitemap_lists_every_public_page_and_nothing_private(client):
    body = client.get("/sitemap.xml").content.decode()
    listed = set(re.findall(r"<loc>http://testserver(/[^<]*)</loc>", body))
    english = set(indexable_pages().values()) | {
        f"/treatments/{slug}/" for slug in Treatment.objects.active().values_list("slug", flat=True)
    }
    # Each page once in English at its old address and once in French under /fr/.
    assert listed == english | {f"/fr{path}" for path in english}
    assert [path for path in listed if path.startswith(PRIVATE)] == []


def meta_tags(html):
    found = re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z:_]+)" content="([^"]*)"', html)
    return {key: unescape(value) for key, value in found}


@pytest.mark.parametrize("name", ["home", "faq", "treatment"])
def test_shared_links_preview_with_a_title_and_an_absolute_image_that_loads(client, name):
    path = indexable_pages()[name]
    tags = meta_tags(client.get(path).content.decode())
    assert tags["og:title"] and tags["twitter:title"]
    assert tags["og:description"]
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["og:url"] == f"http://testserver{path}"
    image = tags["og:image"]
    assert image.startswith("http://testserver/"), image
    response = client.get(image.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/png", "image/jpeg")
    assert tags["og:image:alt"]


def test_a_treatment_photo_is_the_treatment_page_preview(client):
    treatment = Treatment.objects.get(slug="hair-loss")
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900), (90, 120, 150)).save(buffer, format="JPEG")
    treatment.image.save("hair.jpg", ContentFile(buffer.getvalue()), save=False)
    treatment.image_alt = "A practitioner treating a patient's scalp"
    treatment.save()
    content_changed()
    tags = meta_tags(client.get(treatment.get_absolute_url()).content.decode())
    assert tags["og:image"] == f"http://testserver{treatment.image.url}"
    assert tags["og:image:alt"] == "A practitioner treating a patient's scalp"
