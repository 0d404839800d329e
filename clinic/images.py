"""Staff-uploaded images: checked by content, bounded in size, re-encoded to web sizes."""

import io
import warnings

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from PIL import Image, ImageOps

WEB_MAX_WIDTH = 1200
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "png"}


def image_to_web(*, upload):
    """Return a re-encoded copy of the upload, at most WEB_MAX_WIDTH wide and without metadata.

    Re-encoding drops EXIF (which can hold a phone's location) and anything smuggled in
    after the image data. Raises ValidationError for anything that is not a sane image.
    """
    if upload.size > settings.CLINIC_IMAGE_MAX_BYTES:
        limit = settings.CLINIC_IMAGE_MAX_BYTES // (1024 * 1024)
        raise forms.ValidationError(f"The image is too large; the limit is {limit} MB.", code="file_too_large")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            width, height = image.size
            if width * height > settings.CLINIC_IMAGE_MAX_PIXELS:
                raise forms.ValidationError(
                    f"The image is {width}×{height} pixels; please upload one under "
                    f"{settings.CLINIC_IMAGE_MAX_PIXELS // 1_000_000} megapixels.",
                    code="too_many_pixels",
                )
            if image.format not in ALLOWED_FORMATS:
                raise forms.ValidationError("Upload a JPEG, PNG, WebP or GIF image.", code="invalid_image")
            image_format = image.format
            image.load()
    except forms.ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise forms.ValidationError(
            f"The image is too large in pixels; please upload one under "
            f"{settings.CLINIC_IMAGE_MAX_PIXELS // 1_000_000} megapixels.",
            code="too_many_pixels",
        ) from None
    except Exception:
        raise forms.ValidationError(
            "This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF image.",
            code="invalid_image",
        ) from None

    image = ImageOps.exif_transpose(image)
    if image.width > WEB_MAX_WIDTH:
        image.thumbnail((WEB_MAX_WIDTH, WEB_MAX_WIDTH * 10), Image.Resampling.LANCZOS)
    out_format = "PNG" if image_format == "GIF" else image_format
    if out_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=out_format, optimize=True, **({"quality": 85} if out_format != "PNG" else {}))
    stem = (upload.name or "image").rsplit(".", 1)[0][:80]
    extension = ALLOWED_FORMATS[image_format]
    return SimpleUploadedFile(f"{stem}.{extension}", buffer.getvalue(), content_type=f"image/{extension}")


class WebImageFormField(forms.ImageField):
    def to_python(self, data):
        if data in self.empty_values:
            return None
        return image_to_web(upload=data)


class WebImageField(models.ImageField):
    """An ImageField whose forms (admin included) check and resize the upload."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": WebImageFormField, **kwargs})


class WebImage(models.Model):
    """An optional image with the alt text and the stored size the page needs."""

    image = WebImageField(
        upload_to="images/%Y/%m/",
        blank=True,
        width_field="image_width",
        height_field="image_height",
        help_text="JPEG, PNG, WebP or GIF, at most 5 MB; it is resized for the web.",
    )
    image_alt = models.CharField(
        "image description",
        max_length=200,
        blank=True,
        help_text="What the image shows, for patients who cannot see it.",
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if self.image and not self.image_alt.strip():
            raise forms.ValidationError(
                {"image_alt": "Describe the image for patients who use a screen reader."}, code="alt_required"
            )
