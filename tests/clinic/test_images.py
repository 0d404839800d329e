import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from booking.models import Treatment
from faq.models import Category, Question

pytestmark = pytest.mark.django_db


def png_bytes(width, height, color=(10, 120, 140)):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_header_claiming(width, height):
    """A small PNG whose header claims a huge size: what a decompression bomb looks like to a reader."""
    data = bytearray(png_bytes(1, 1))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    start = data.index(b"IHDR")
    data[start + 4 : start + 4 + 13] = ihdr
    data[start + 17 : start + 21] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def question_form_data(question, **extra):
    return {
        "category": question.category_id,
        "question_en_gb": question.question,
        "slug": question.slug,
        "answer_en_gb": question.answer,
        "position": question.position,
        "published": "on",
        "image_alt_en_gb": "A practitioner preparing the treatment",
        **extra,
    }


def post_image(admin_client, filename, content, content_type="image/png"):
    question = Question.objects.get(slug="procedure")
    upload = SimpleUploadedFile(filename, content, content_type=content_type)
    url = reverse("admin:faq_question_change", args=[question.pk])
    return admin_client.post(url, question_form_data(question, image=upload))


def test_an_image_over_the_pixel_limit_is_refused_with_its_size(admin_client):
    response = post_image(admin_client, "big.png", png_header_claiming(8000, 6000))
    assert "The image is 8000×6000 pixels; please upload one under 40 megapixels" in response.content.decode()
    assert not Question.objects.get(slug="procedure").image


def test_a_text_file_renamed_png_is_refused(admin_client):
    response = post_image(admin_client, "notes.png", b"just some text, not an image\n" * 20)
    assert response.status_code == 200
    assert "not an image we can read" in response.content.decode()
    assert not Question.objects.get(slug="procedure").image


def test_a_20000_by_20000_image_is_refused_without_decoding_it(admin_client):
    response = post_image(admin_client, "bomb.png", png_header_claiming(20000, 20000))
    assert response.status_code == 200
    assert "please upload one under 40 megapixels" in response.content.decode()
    assert not Question.objects.get(slug="procedure").image


def test_a_real_image_is_resized_for_the_web_and_keeps_its_size_and_alt(admin_client, client):
    response = post_image(admin_client, "wide.png", png_bytes(2400, 1200))
    assert response.status_code == 302
    question = Question.objects.get(slug="procedure")
    assert (question.image_width, question.image_height) == (1200, 600)
    with Image.open(question.image.path) as stored:
        assert stored.size == (1200, 600)

    html = client.get(reverse("faq:index")).content.decode()
    assert f'src="{question.image.url}"' in html
    assert 'width="1200" height="600"' in html
    assert 'alt="A practitioner preparing the treatment"' in html


def test_an_image_needs_a_description(admin_client):
    question = Question.objects.get(slug="procedure")
    upload = SimpleUploadedFile("ok.png", png_bytes(20, 20), content_type="image/png")
    url = reverse("admin:faq_question_change", args=[question.pk])
    response = admin_client.post(url, question_form_data(question, image=upload, image_alt_en_gb=""))
    assert response.status_code == 200
    assert "Describe the image" in response.content.decode()


def test_category_images_go_through_the_same_checks(admin_client):
    category = Category.objects.get(slug="mesotherapy")
    url = reverse("admin:faq_category_change", args=[category.pk])
    upload = SimpleUploadedFile("fake.jpg", b"GIF89a not really", content_type="image/jpeg")
    data = {"name_en_gb": category.name, "slug": category.slug, "position": 0, "image_alt_en_gb": "x"}
    response = admin_client.post(url, {**data, "image": upload})
    assert response.status_code == 200
    assert "not an image we can read" in response.content.decode()


def jpeg_with_exif(width, height, orientation):
    """A phone photo: EXIF says how to turn it and carries the camera's location."""
    image = Image.new("RGB", (width, height), (200, 60, 40))
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPSInfo: latitude
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_an_svg_named_png_is_refused_as_svg(admin_client):
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = post_image(admin_client, "logo.png", svg)
    assert response.status_code == 200
    assert "SVG files are not accepted, because they can carry scripts" in response.content.decode()
    assert not Question.objects.get(slug="procedure").image


def test_an_html_page_named_jpg_is_refused(admin_client):
    response = post_image(admin_client, "photo.jpg", b"<html><body>hello</body></html>", "image/jpeg")
    assert response.status_code == 200
    assert "not an image we can read" in response.content.decode()


def test_a_cut_off_png_is_refused(admin_client):
    data = png_bytes(300, 300, color=(1, 2, 3))
    response = post_image(admin_client, "cut.png", data[: len(data) // 2])
    assert response.status_code == 200
    assert "not an image we can read" in response.content.decode()
    assert not Question.objects.get(slug="procedure").image


def test_a_file_over_5_mb_is_refused_with_the_limit(admin_client):
    response = post_image(admin_client, "huge.png", png_bytes(1, 1) + b"\0" * (5 * 1024 * 1024))
    assert response.status_code == 200
    assert "The image is too large; the limit is 5 MB." in response.content.decode()


def test_a_phone_photo_is_turned_upright_and_loses_its_exif(admin_client):
    response = post_image(admin_client, "phone.jpg", jpeg_with_exif(400, 200, orientation=6), "image/jpeg")
    assert response.status_code == 302
    question = Question.objects.get(slug="procedure")
    assert (question.image_width, question.image_height) == (200, 400)
    with Image.open(question.image.path) as stored:
        assert stored.size == (200, 400)
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info


def test_an_upload_is_kept_in_webp_and_jpeg_web_sizes_and_offered_in_a_srcset(admin_client, client):
    response = post_image(admin_client, "wide.jpg", jpeg_with_exif(2400, 1200, orientation=1), "image/jpeg")
    assert response.status_code == 302
    question = Question.objects.get(slug="procedure")
    stored = Path(question.image.path)
    assert stored.suffix == ".jpg"
    expected = {
        f"{stored.stem}.w400.webp": ("WEBP", (400, 200)),
        f"{stored.stem}.w800.webp": ("WEBP", (800, 400)),
        f"{stored.stem}.w1200.webp": ("WEBP", (1200, 600)),
        f"{stored.stem}.w400.jpg": ("JPEG", (400, 200)),
        f"{stored.stem}.w800.jpg": ("JPEG", (800, 400)),
    }
    for name, (image_format, size) in expected.items():
        with Image.open(stored.with_name(name)) as variant:
            assert (variant.format, variant.size) == (image_format, size), name

    html = client.get(reverse("faq:index")).content.decode()
    base = question.image.url.rsplit("/", 1)[0]
    assert f'<source type="image/webp" srcset="{base}/{stored.stem}.w400.webp 400w,' in html
    assert (
        f'srcset="{base}/{stored.stem}.w400.jpg 400w, {base}/{stored.stem}.w800.jpg 800w, {question.image.url} 1200w"'
        in html
    )
    assert 'loading="lazy"' in html


def test_a_png_with_transparency_stays_png(admin_client):
    buffer = io.BytesIO()
    Image.new("RGBA", (900, 300), (10, 120, 140, 0)).save(buffer, format="WEBP")
    response = post_image(admin_client, "logo.webp", buffer.getvalue(), "image/webp")
    assert response.status_code == 302
    question = Question.objects.get(slug="procedure")
    assert question.image.name.endswith(".png")
    with Image.open(Path(question.image.path).with_name(Path(question.image.path).stem + ".w400.png")) as small:
        assert small.format == "PNG" and small.mode == "RGBA"


def test_the_rebuild_command_gives_an_image_stored_before_variants_its_web_sizes(settings):
    """An image uploaded before the site made web sizes (or with older encoder settings) is offered alone until
    `manage.py images_rebuild` writes its WebP and smaller copies; a file gone from the storage is reported."""
    treatment = Treatment.objects.get(slug="hair-loss")
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1000), (180, 150, 130)).save(buffer, format="JPEG")
    # Stored straight through the storage, as an upload from before variants were written.
    treatment.image.name = treatment.image.storage.save("images/old.jpg", ContentFile(buffer.getvalue()))
    treatment.image_alt = "The treatment room"
    treatment.save()
    assert treatment.image.sources is None
    other = Treatment.objects.exclude(pk=treatment.pk).first()
    Treatment.objects.filter(pk=other.pk).update(
        image="images/gone.jpg", image_alt="Gone", image_width=800, image_height=600
    )

    out, err = io.StringIO(), io.StringIO()
    call_command("images_rebuild", stdout=out, stderr=err)

    treatment.refresh_from_db()
    sources = treatment.image.sources
    assert sources is not None
    assert ".w400.webp 400w" in sources["webp"] and ".w1200.webp 1200w" in sources["webp"]
    assert "1 images rebuilt, 1 missing." in out.getvalue()
    assert "images/gone.jpg is missing" in err.getvalue()
