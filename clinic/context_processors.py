import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from clinic.cache import clinic_details
from clinic.i18n import language_links

# The addresses every page's header and footer link to.
SITE_URL_NAMES = {
    "home": "home",
    "treatments": "booking:treatments",
    "faq": "faq:index",
    "contact": "contact",
    "book": "booking:book",
    "privacy": "privacy",
}


def clinic(request):
    return {
        "clinic": SimpleLazyObject(lambda: clinic_details(request)),
        "site_urls": site_urls(get_script_prefix(), get_language()),
        "language_links": SimpleLazyObject(lambda: language_links(request)),
    }


@functools.cache
def site_urls(prefix, language):
    """Worked out once per process (prefix and language): resolving them anew cost a tenth of a page's time."""
    return {key: reverse(name) for key, name in SITE_URL_NAMES.items()}


@receiver(setting_changed)
def _site_urls_reset(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        site_urls.cache_clear()
