import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

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
        "question": question.question,
        "slug": question.slug,
        "answer": question.answer,
        "position": question.position,
        "published": "on",
        "image_alt": "A practitioner preparing the treatment",
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
    response = admin_client.post(url, question_form_data(question, image=upload, image_alt=""))
    assert response.status_code == 200
    assert "Describe the image" in response.content.decode()


def test_category_images_go_through_the_same_checks(admin_client):
    category = Category.objects.get(slug="mesotherapy")
    url = reverse("admin:faq_category_change", args=[category.pk])
    upload = SimpleUploadedFile("fake.jpg", b"GIF89a not really", content_type="image/jpeg")
    response = admin_client.post(
        url, {"name": category.name, "slug": category.slug, "position": 0, "image": upload, "image_alt": "x"}
    )
    assert response.status_code == 200
    assert "not an image we can read" in response.content.decode()
