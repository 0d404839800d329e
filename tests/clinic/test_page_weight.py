"""Page weight: each public page with everything it loads, as a phone on a slow line receives it.

The static files are collected for real (hashed names, .gz and .br next to each, as in production)
into a temporary STATIC_ROOT; assets count at the size whitenoise sends to a browser that accepts
brotli, the HTML at its gzip size (nginx compresses pages).
"""

import gzip
import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image

from booking.models import Treatment
from booking.requests.forms import start_format
from booking.schedule.availability import first_day_today, free_slots
from clinic.cache import content_changed
from clinic.models import ClinicDetails

pytestmark = pytest.mark.django_db

BUDGET_BYTES = 100 * 1024
MAX_REQUESTS = 10
YEAR = 31536000


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    root = tmp_path_factory.mktemp("static_root")
    production_static = override_settings(
        STATIC_ROOT=root,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
    )
    with production_static:
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


@pytest.fixture
def public_pages(collected, working_every_day):
    treatment = Treatment.objects.active().first()
    working_every_day(treatment, name="Dr Page Weight")
    today = first_day_today()
    slot = free_slots(treatment=treatment, first_day=today, last_day=today + timedelta(days=7))[0]
    details = reverse("booking:details", kwargs={"treatment_slug": treatment.slug})
    return [
        "/",
        reverse("faq:index"),
        reverse("booking:book"),
        reverse("booking:times", kwargs={"treatment_slug": treatment.slug}),
        f"{details}?start={start_format(slot.start)}&practitioner=any",
        reverse("booking:treatment", kwargs={"slug": treatment.slug}),
        reverse("contact"),
        reverse("privacy"),
    ]


PHONE_WIDTH = 390


def srcset_choice(srcset):
    """The candidate a 390 px phone at 1x takes: the narrowest at least as wide, else the widest."""
    candidates = sorted((int(width.rstrip("w")), url) for url, width in (c.split() for c in srcset.split(",")))
    return next((url for width, url in candidates if width >= PHONE_WIDTH), candidates[-1][1])


def asset_urls(html):
    """Every address the page makes a phone's browser fetch: stylesheets, icons, scripts, images. Of a
    <picture>, its first <source> (WebP); of a srcset, the one size a phone takes."""
    html = re.sub(r"<picture>\s*(<source\b[^>]*>).*?</picture>", lambda found: found.group(1), html, flags=re.DOTALL)
    urls = []
    for tag in re.findall(r"<(?:link|script|img|source)\b[^>]*>", html):
        if tag.startswith("<link") and not re.search(r'rel="[^"]*(stylesheet|icon|preload|manifest)', tag):
            continue
        srcset = re.search(r'\ssrcset="([^"]+)"', tag)
        if srcset:
            urls.append(srcset_choice(srcset.group(1)))
        else:
            urls += re.findall(r'\s(?:src|href)="([^"]+)"', tag)
    return urls


def lazy_urls(html):
    """The images the page lets the browser fetch later (loading="lazy"): of a <picture>, what asset_urls counts."""
    urls = set()
    for picture in re.findall(r"<picture>.*?</picture>", html, flags=re.DOTALL):
        if re.search(r'<img\b[^>]*\sloading="lazy"', picture):
            urls.update(asset_urls(picture))
    for tag in re.findall(r"<img\b[^>]*>", re.sub(r"<picture>.*?</picture>", "", html, flags=re.DOTALL)):
        if ' loading="lazy"' in tag:
            urls.update(asset_urls(tag))
    return urls


def photo(width, height, seed):
    """A photograph-like image (noise compresses as badly as a real photo), as a staff upload after its checks."""
    noise = Image.effect_noise((width, height), 60).convert("RGB")
    tint = Image.new("RGB", (width, height), (180 - seed * 20, 150, 130 + seed * 10))
    buffer = io.BytesIO()
    Image.blend(noise, tint, 0.6).save(buffer, format="JPEG", quality=82)
    return ContentFile(buffer.getvalue())


@pytest.fixture
def with_photos():
    """The clinic's look filled in as staff would: a logo, the home page photo and each treatment's photo."""
    details = ClinicDetails.objects.get(pk=1)
    buffer = io.BytesIO()
    Image.new("RGBA", (320, 96), (11, 92, 107, 255)).save(buffer, format="PNG")
    details.logo.save("logo.png", ContentFile(buffer.getvalue()), save=False)
    details.home_photo.save("room.jpg", photo(1200, 800, 0), save=False)
    details.home_photo_alt = "The treatment room"
    details.save()
    for seed, treatment in enumerate(Treatment.objects.active(), start=1):
        treatment.image.save(f"{treatment.slug}.jpg", photo(1200, 800, seed), save=False)
        treatment.image_alt = f"{treatment.name}: the treatment being given"
        treatment.save()
    content_changed()


def sent_size(root, url, client=None):
    """The bytes whitenoise sends for /static/<name>: the .br file when it made one, else the file. Other
    addresses (the accent colour's /theme/<colour>.css, uploaded /media/ images) as the site sends them."""
    if not url.startswith("/static/"):
        response = client.get(url)
        assert response.status_code == 200, url
        return len(b"".join(response) if response.streaming else response.content)
    path = Path(root) / urlsplit(url).path.removeprefix("/static/")
    for compressed in (path.with_name(path.name + ".br"), path.with_name(path.name + ".gz")):
        if compressed.exists():
            return compressed.stat().st_size
    return path.stat().st_size


def css_urls(root, url):
    css = (Path(root) / urlsplit(url).path.removeprefix("/static/")).read_text()
    return [found for found in re.findall(r"url\(\s*['\"]?([^'\")]+)", css) if not found.startswith(("data:", "#"))]


@pytest.mark.parametrize("look", ["as installed", "with photos"])
def test_each_public_page_with_its_assets_weighs_under_100_kb_in_at_most_10_requests(
    client, public_pages, collected, look, request
):
    # As installed (the drawn logo and illustrations), and with a logo and a photo for the home page and each
    # treatment uploaded, noise-filled so they compress as badly as real photos.
    if look == "with photos":
        request.getfixturevalue("with_photos")
    for page in public_pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assets = list(dict.fromkeys(asset_urls(html)))
        assert not [url for url in assets if urlsplit(url).netloc not in ("", "testserver")], page
        assert all(url.startswith(("/static/", "/media/", "/theme/")) for url in assets), (page, assets)
        nested = [url for url in assets if url.startswith("/static/") and url.endswith(".css")]
        nested = [found for url in nested for found in css_urls(collected, url)]
        assert not [url for url in nested if urlsplit(url).netloc], (page, nested)
        total = len(gzip.compress(response.content)) + sum(sent_size(collected, url, client) for url in assets)
        # The request cap is for what the page needs before its first screen can be drawn: images it marks
        # lazy are fetched as the visitor scrolls (their bytes still count in the weight).
        requests = 1 + len([url for url in assets if url not in lazy_urls(html)]) + len(set(nested))
        assert total < BUDGET_BYTES, (page, total, assets)
        assert requests <= MAX_REQUESTS, (page, requests, assets)


def test_every_image_on_a_public_page_has_its_size_written_in(client, public_pages, with_photos):
    for page in public_pages:
        for tag in re.findall(r"<img\b[^>]*>", client.get(page).content.decode()):
            assert re.search(r'\swidth="\d+"', tag) and re.search(r'\sheight="\d+"', tag), (page, tag)


def test_static_files_get_hashed_names_and_gzip_and_brotli_copies(collected):
    css = sorted(Path(collected, "css").glob("site.*.css"))
    assert css, "no hashed site.css"
    hashed = css[0]
    assert re.fullmatch(r"site\.[0-9a-f]{12}\.css", hashed.name)
    assert hashed.with_name(hashed.name + ".gz").exists()
    assert hashed.with_name(hashed.name + ".br").exists()


def test_a_hashed_static_file_is_sent_compressed_and_cached_for_a_year(collected):
    name = next(Path(collected, "css").glob("site.*.css")).name
    response = Client().get(f"/static/css/{name}", HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert f"max-age={YEAR}" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
