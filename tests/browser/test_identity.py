"""The first screen a patient sees on a phone: the clinic's look, its header, its footer, its pictures."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image
from playwright.sync_api import expect

from booking.links import confirmation_token, manage_token
from booking.models import Treatment
from clinic.cache import content_changed
from clinic.models import ClinicDetails
from tests.public_pages import sample_appointment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSPHRASE = "a long and unguessable passphrase"


@pytest.fixture
def clinic_filled_in():
    ClinicDetails.objects.filter(pk=1).update(
        phone="020 7946 0000",
        address="12 Harley Street\nLondon W1G 9PF",
        opening_hours="Mon-Fri 9:00-18:00\nSat 10:00-14:00",
    )
    content_changed()


def staff_login(page):
    owner = get_user_model().objects.create_superuser("owner", "owner@example.com", PASSPHRASE)
    device = TOTPDevice.objects.create(user=owner, name="Phone")
    page.goto("/admin/login/?next=/admin/clinic/clinicdetails/1/change/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(PASSPHRASE)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key, step=device.step):06d}")
    page.get_by_role("button", name=re.compile("Log in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/clinic/clinicdetails/1/change/"))


def jpeg(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (180, 150, 130)).save(buffer, format="JPEG")
    return buffer.getvalue()


def upload_home_photo(page, name, content, mime, alt="Our treatment room, with its window onto the garden"):
    page.goto("/admin/clinic/clinicdetails/1/change/")
    page.locator("input[name=home_photo]").set_input_files({"name": name, "mimeType": mime, "buffer": content})
    page.get_by_label("Home page photo description [en-gb]").fill(alt)
    page.get_by_role("button", name="Save", exact=True).click()


def test_on_a_390_pixel_phone_the_header_is_one_row_no_taller_than_64_pixels(page):
    assert page.viewport_size["width"] == 390
    for path in ["/", "/faq/", "/treatments/hair-loss/", "/book/"]:
        page.goto(path)
        header = page.locator("header.site-header")
        box = header.bounding_box()
        assert box["height"] <= 64, (path, box)
        parts = [
            page.locator(".site-name"),
            page.get_by_text("Menu", exact=True),
            header.get_by_role("link", name="Book"),
        ]
        for part in parts:
            expect(part).to_be_visible()
            part_box = part.bounding_box()
            assert box["y"] <= part_box["y"] and part_box["y"] + part_box["height"] <= box["y"] + box["height"], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


@pytest.mark.parametrize("width", [390, 576, 768, 1024, 1280])
def test_the_french_header_keeps_the_english_headers_shape_on_every_screen(page, width):
    """French words are longer: the header must not grow a row or push the page wider than the screen."""
    page.set_viewport_size({"width": width, "height": 900})
    heights = {}
    for path in ["/", "/fr/", "/fr/faq/", "/fr/book/"]:
        page.goto(path)
        heights[path] = page.locator("header.site-header").bounding_box()["height"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        nav_links = page.locator("header.site-header a:visible, header.site-header button:visible").all()
        for link in nav_links:
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (path, link.inner_text())
    assert {path: height for path, height in heights.items() if height > heights["/"]} == {}
    # One row: the name takes at most two lines, and nothing else wraps below it.
    assert heights["/"] <= 80, heights


@pytest.mark.parametrize(
    "logo_size", [None, (1200, 1200), (1200, 200), (200, 600)], ids=["no logo", "square", "wide", "tall"]
)
def test_an_uploaded_logo_and_a_long_name_keep_the_phone_header_one_row_within_64_pixels(page, logo_size):
    details = ClinicDetails.objects.get(pk=1)
    if logo_size:
        buffer = io.BytesIO()
        Image.new("RGB", logo_size, (11, 92, 107)).save(buffer, format="PNG")
        details.logo.save("logo.png", ContentFile(buffer.getvalue()), save=False)
    details.name = "The Harley Street Mesotherapy and Aesthetic Medicine Clinic"
    details.save()
    content_changed()
    for path in ["/", "/faq/", "/book/"]:
        page.goto(path)
        header = page.locator("header.site-header")
        logo = header.locator("img.site-logo" if logo_size else ".site-name")
        expect(logo).to_be_visible()
        # The link home is named by the clinic's name, shown or not.
        expect(header.get_by_role("link", name=details.name)).to_have_count(1)
        box, logo_box = header.bounding_box(), logo.bounding_box()
        assert box["height"] <= 64, (path, box)
        assert box["y"] <= logo_box["y"] and logo_box["y"] + logo_box["height"] <= box["y"] + box["height"], path
        book = header.get_by_role("link", name="Book")
        expect(book).to_be_visible()
        assert book.bounding_box()["x"] + book.bounding_box()["width"] <= 390, path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


def test_the_phone_menu_opens_without_javascript_and_leads_to_the_faq(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto("/")
    faq = page.locator(".site-menu").get_by_role("link", name="FAQ")
    expect(faq).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(faq).to_be_visible()
    faq.click()
    expect(page).to_have_url(re.compile(r"/faq/$"))
    # The header stays one row: the open menu lies over the page instead of pushing it down.
    page.get_by_text("Menu", exact=True).click()
    assert page.locator("header.site-header").bounding_box()["height"] <= 64
    context.close()


def test_every_page_footer_has_tap_to_call_address_hours_and_directions(page, clinic_filled_in):
    for path in ["/", "/faq/", "/contact/", "/book/"]:
        page.goto(path)
        footer = page.get_by_role("contentinfo")
        call = footer.get_by_role("link", name="020 7946 0000")
        expect(call).to_have_attribute("href", "tel:02079460000")
        expect(footer.locator("address")).to_contain_text("12 Harley Street")
        expect(footer).to_contain_text("Sat 10:00-14:00")
        directions = footer.get_by_role("link", name="Directions to the clinic")
        assert directions.get_attribute("href").startswith(
            "https://www.openstreetmap.org/search?query=12+Harley+Street"
        )


def test_the_home_page_first_screen_says_what_where_and_how_to_book(page, clinic_filled_in):
    page.goto("/")
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    expect(main.get_by_role("link", name="hair loss", exact=True)).to_be_in_viewport()
    expect(main.get_by_text("12 Harley Street")).to_be_in_viewport()
    expect(main.get_by_role("link", name="Book an Appointment")).to_be_in_viewport()
    expect(main.get_by_role("link", name="020 7946 0000")).to_have_attribute("href", "tel:02079460000")


def test_a_home_photo_staff_upload_is_served_in_webp_and_jpeg_sizes(page):
    staff_login(page)
    upload_home_photo(page, "room.jpg", jpeg(2400, 1600), "image/jpeg")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    visitor = page.context.browser.new_context(
        base_url=page.url.split("/admin")[0], viewport={"width": 390, "height": 844}
    )
    home = visitor.new_page()
    home.goto("/")
    photo = home.get_by_role("img", name="Our treatment room, with its window onto the garden")
    expect(photo).to_be_visible()
    assert photo.get_attribute("width") == "1200" and photo.get_attribute("height") == "800"
    # A 390 pixel phone at 1x takes the smallest WebP.
    assert re.search(r"\.w400\.webp$", photo.evaluate("img => img.currentSrc"))
    webp = home.locator("picture source[type='image/webp']").get_attribute("srcset")
    fallback = photo.get_attribute("srcset")
    for srcset, content_type, image_format in [(webp, "image/webp", "WEBP"), (fallback, "image/jpeg", "JPEG")]:
        candidates = [candidate.strip().split() for candidate in srcset.split(",")]
        assert [width for _, width in candidates] == ["400w", "800w", "1200w"]
        for url, width in candidates:
            response = home.request.get(url)
            assert response.status == 200, url
            assert response.headers["content-type"] == content_type, url
            with Image.open(io.BytesIO(response.body())) as served:
                assert served.format == image_format
                assert served.size == (int(width[:-1]), round(int(width[:-1]) * 2 / 3)), url
    visitor.close()


@pytest.mark.parametrize(
    ("name", "content", "mime", "message"),
    [
        (
            "logo.png",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/png",
            "SVG files are not accepted, because they can carry scripts",
        ),
        ("room.jpg", b"%PDF-1.4 not a photo at all" * 10, "image/jpeg", "This file is not an image we can read"),
        ("room.jpg", jpeg(2400, 1600)[:4000], "image/jpeg", "This file is not an image we can read"),
    ],
)
def test_a_bad_upload_gets_a_clear_message_in_the_admin(page, name, content, mime, message):
    staff_login(page)
    upload_home_photo(page, name, content, mime)
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-home_photo .errorlist")).to_contain_text(message)
    assert not ClinicDetails.objects.get(pk=1).home_photo


def test_a_photo_without_a_description_is_refused(page):
    staff_login(page)
    upload_home_photo(page, "room.jpg", jpeg(800, 600), "image/jpeg", alt="")
    expect(page.locator(".field-home_photo_alt_en_gb .errorlist")).to_contain_text("Describe the image")


def test_an_accent_colour_too_light_to_read_is_refused_and_a_dark_one_reaches_every_page(page):
    staff_login(page)
    page.get_by_label("Accent colour").fill("#ffcc00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".field-accent_colour .errorlist")).to_contain_text("too light to read on white")
    page.get_by_label("Accent colour").fill("#7a1f5c")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    page.goto("/faq/")
    button = page.get_by_role("banner").get_by_role("link", name="Book")
    expect(button).to_have_css("background-color", "rgb(122, 31, 92)")


def printed(page, path):
    page.goto(path)
    page.emulate_media(media="print")
    for hidden in [".site-links", ".site-menu", ".site-book", ".btn"]:
        for element in page.locator(hidden).all():
            expect(element).to_be_hidden()
    pdf = page.pdf(format="A4", print_background=True)
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def test_the_confirmation_and_the_appointment_page_print_on_one_sheet_without_navigation(page, clinic_filled_in):
    appointment = sample_appointment(Treatment.objects.get(slug="hair-loss"))
    for path in [
        reverse("booking:done", args=[confirmation_token(appointment=appointment)]),
        reverse("booking:manage", args=[manage_token(appointment=appointment)]),
    ]:
        page.goto(path)
        main = page.get_by_role("main")
        expect(main).to_contain_text(appointment.reference)
        expect(main).to_contain_text("12 Harley Street")
        expect(main.get_by_role("heading", name="Before your visit")).to_be_visible()
        assert printed(page, path) == 1, path
        expect(page.locator(".booking-reference")).to_be_visible()
        page.emulate_media(media="screen")
