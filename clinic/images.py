"""Staff-uploaded images: checked by content, bounded in size, re-encoded, and kept in web sizes.

An upload is read by Pillow, never trusted by its name or its declared type: anything Pillow cannot
verify and decode is refused with a message staff can act on, SVG included (it can carry script; the
shipped logo and illustrations are static files, see clinic/identity.py). The image is turned
upright (EXIF orientation), stripped of its metadata (EXIF can hold a phone's location) by being
re-encoded, and saved as JPEG or PNG at most WEB_MAX_WIDTH wide; next to it, smaller copies and WebP
copies of each size, so pages offer a `srcset` (templates/includes/picture.html).
"""

import io
import warnings
from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.db.models.fields.files import ImageFieldFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps

WEB_MAX_WIDTH = 1200
# The widths a page can choose from (srcset); an image narrower than one is not enlarged.
VARIANT_WIDTHS = (400, 800, WEB_MAX_WIDTH)
# Pillow's name for the format -> what the upload is read as. MPO is how many phones save a JPEG.
ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "GIF"}
# 75 is libwebp's own default; with method 6 (its slowest, most thorough encoder: paid once, at upload) a
# 400 px photo is a third smaller than at 80 and method 4, which keeps a page with photos within its weight budget.
WEBP_QUALITY = 75
WEBP_METHOD = 6
JPEG_QUALITY = 82


def too_many_pixels_message(width=None, height=None):
    limit = settings.CLINIC_IMAGE_MAX_PIXELS // 1_000_000
    if width is None:
        return _("The image is too large in pixels; please upload one under %(limit)d megapixels.") % {"limit": limit}
    return _("The image is %(width)d×%(height)d pixels; please upload one under %(limit)d megapixels.") % {
        "width": width,
        "height": height,
        "limit": limit,
    }


def not_an_image_message():
    return _("This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF image.")


def looks_like_svg(upload, head):
    name = (upload.name or "").lower()
    start = head.lstrip()[:256].lower()
    return name.endswith((".svg", ".svgz")) or start.startswith(b"<?xml") or b"<svg" in start


def image_open_checked(upload):
    """The upload as a decoded Pillow image and its format, or a ValidationError saying what is wrong."""
    if upload.size > settings.CLINIC_IMAGE_MAX_BYTES:
        limit = settings.CLINIC_IMAGE_MAX_BYTES // (1024 * 1024)
        raise forms.ValidationError(
            _("The image is too large; the limit is %(limit)d MB.") % {"limit": limit}, code="file_too_large"
        )
    upload.seek(0)
    head = upload.read(512)
    if looks_like_svg(upload, head):
        raise forms.ValidationError(
            _(
                "SVG files are not accepted, because they can carry scripts. "
                "Export the picture as a PNG or JPEG image and upload that."
            ),
            code="svg_refused",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as probe:
                width, height = probe.size
                if width * height > settings.CLINIC_IMAGE_MAX_PIXELS:
                    raise forms.ValidationError(too_many_pixels_message(width, height), code="too_many_pixels")
                if probe.format not in ALLOWED_FORMATS:
                    raise forms.ValidationError(_("Upload a JPEG, PNG, WebP or GIF image."), code="invalid_image")
                probe.verify()
            # verify() leaves the image unusable: open it again to decode every pixel.
            upload.seek(0)
            image = Image.open(upload)
            image_format = image.format
            image.load()
    except forms.ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise forms.ValidationError(too_many_pixels_message(), code="too_many_pixels") from None
    except Exception:
        # Pillow raises many kinds (OSError, SyntaxError, ValueError, struct.error...) for broken files.
        raise forms.ValidationError(not_an_image_message(), code="invalid_image") from None
    return image, image_format


def has_alpha(image):
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def web_mode(image, out_format):
    if out_format == "JPEG":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    return image.convert("RGBA" if has_alpha(image) else "RGB")


def encoded(image, out_format):
    buffer = io.BytesIO()
    if out_format == "JPEG":
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif out_format == "WEBP":
        image.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    else:
        image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def image_to_web(*, upload):
    """Return a checked, upright, re-encoded copy of the upload without metadata, at most WEB_MAX_WIDTH wide.

    Photographs become JPEG; PNG, GIF and images with transparency (a logo) become PNG. Raises
    ValidationError for anything that is not a sane image.
    """
    image, image_format = image_open_checked(upload)
    image = ImageOps.exif_transpose(image)
    if image.width > WEB_MAX_WIDTH:
        image.thumbnail((WEB_MAX_WIDTH, WEB_MAX_WIDTH * 10), Image.Resampling.LANCZOS)
    out_format = "PNG" if image_format in ("PNG", "GIF") or has_alpha(image) else "JPEG"
    image = web_mode(image, out_format)
    stem = PurePosixPath(upload.name or "image").stem[:80] or "image"
    extension = "png" if out_format == "PNG" else "jpg"
    return SimpleUploadedFile(
        f"{stem}.{extension}", encoded(image, out_format), content_type=f"image/{out_format.lower()}"
    )


def variant_name(name, width, extension):
    path = PurePosixPath(name)
    return str(path.with_name(f"{path.stem}.w{width}.{extension}"))


def variant_widths(width):
    return [size for size in VARIANT_WIDTHS if size < width] + [min(width, WEB_MAX_WIDTH)]


class WebImageFieldFile(ImageFieldFile):
    """The stored image, and the smaller and WebP copies written beside it when it is saved."""

    def save(self, name, content, save=True):
        super().save(name, content, save=save)
        self.variants_write()

    def variants_write(self):
        with self.storage.open(self.name) as stored, Image.open(stored) as image:
            image.load()
            fallback = "PNG" if image.format == "PNG" else "JPEG"
            fallback_extension = "png" if fallback == "PNG" else "jpg"
            for width in variant_widths(image.width):
                resized = image
                if width < image.width:
                    resized = image.resize(
                        (width, max(1, round(image.height * width / image.width))), Image.Resampling.LANCZOS
                    )
                outputs = [("WEBP", "webp")]
                if width < image.width:
                    outputs.append((fallback, fallback_extension))
                for out_format, extension in outputs:
                    target = variant_name(self.name, width, extension)
                    if self.storage.exists(target):
                        self.storage.delete(target)
                    self.storage.save(target, ContentFile(encoded(web_mode(resized, out_format), out_format)))

    @property
    def sources(self):
        """{'webp': srcset, 'fallback': srcset, 'type': fallback type} for <picture>, or None for an image
        stored before variants were made (the page then offers the image alone)."""
        if not self.name:
            return None
        width = self.field.width_field and getattr(self.instance, self.field.width_field)
        if not width:
            return None
        widths = variant_widths(width)
        if not self.storage.exists(variant_name(self.name, widths[-1], "webp")):
            return None
        extension = PurePosixPath(self.name).suffix.lstrip(".").lower()
        url = self.storage.url
        webp = ", ".join(f"{url(variant_name(self.name, size, 'webp'))} {size}w" for size in widths)
        fallback = [f"{url(variant_name(self.name, size, extension))} {size}w" for size in widths[:-1]]
        fallback.append(f"{self.url} {widths[-1]}w")
        return {
            "webp": webp,
            "fallback": ", ".join(fallback),
            "type": "image/png" if extension == "png" else "image/jpeg",
        }

    def variant_url(self, width, extension):
        return self.storage.url(variant_name(self.name, width, extension))


class WebImageFormField(forms.ImageField):
    def to_python(self, data):
        if data in self.empty_values:
            return None
        return image_to_web(upload=data)


class WebImageField(models.ImageField):
    """An ImageField whose forms (admin included) check and resize the upload, and which keeps web sizes."""

    attr_class = WebImageFieldFile

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": WebImageFormField, **kwargs})


IMAGE_HELP = gettext_lazy("JPEG, PNG, WebP or GIF, at most 5 MB; it is resized for the web.")


def alt_required(instance, image_field, alt_field):
    # A description written per language (clinic/translation.py) is required in English, the text
    # every other language falls back to; the form's field is then the English one.
    english = f"{alt_field}_{settings.LANGUAGE_CODE.replace('-', '_')}"
    if hasattr(instance, english):
        alt_field = english
    if getattr(instance, image_field) and not (getattr(instance, alt_field) or "").strip():
        raise forms.ValidationError(
            {alt_field: _("Describe the image for patients who use a screen reader.")}, code="alt_required"
        )


class WebImage(models.Model):
    """An optional image with the alt text and the stored size the page needs."""

    image = WebImageField(
        upload_to="images/%Y/%m/",
        blank=True,
        width_field="image_width",
        height_field="image_height",
        help_text=IMAGE_HELP,
    )
    image_alt = models.CharField(
        gettext_lazy("image description"),
        max_length=200,
        blank=True,
        help_text=gettext_lazy("What the image shows, for patients who cannot see it."),
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        alt_required(self, "image", "image_alt")
