"""The site's two languages: English at the addresses it always had, French under /fr/ (docs/i18n.md).

A visitor's first English page follows the browser's Accept-Language, and afterwards the choice
made with the switch on every page (Django's language cookie): both send a visitor who prefers
French from an English address to the same page in French. Nothing here reads the session, so
public pages stay one page for every visitor of a language and remain cacheable (clinic/cache.py).
"""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse, translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, get_language_from_request
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

# The switch posts here from pages every visitor shares, which therefore carry no CSRF token (one
# would make each page personal and uncacheable). The view only sets the language cookie and
# redirects to an address on this site, so a forged post can at worst change a visitor's language.
language_set = csrf_exempt(set_language)


def language_from_link(view):
    """Marks a page reached by a link the site emailed: its address already names the patient's language.

    The link in a French patient's email is the French address, in an English patient's the
    English one, so that every page for a booking speaks the language it was made in, whatever
    the browser on which the patient opens it prefers. The switch still changes it.
    """
    view.language_from_link = True
    return view


def address_decides(path):
    try:
        return getattr(resolve(path).func, "language_from_link", False)
    except Resolver404:
        return False


def preferred_language_redirect(get_response):
    """Sends a GET for an English page to the same page in the visitor's preferred other language."""

    def middleware(request):
        if request.method in ("GET", "HEAD") and request.LANGUAGE_CODE == settings.LANGUAGE_CODE:
            preferred = get_language_from_request(request, check_path=False)
            if preferred != settings.LANGUAGE_CODE and not address_decides(request.path_info):
                here = request.get_full_path()
                # An address outside the translated pages (admin, /healthz) translates to itself.
                there = translate_url(here, preferred)
                if there != here:
                    response = HttpResponseRedirect(there)
                    patch_vary_headers(response, ("Accept-Language", "Cookie"))
                    return response
        return get_response(request)

    return middleware


def admin_language(get_response):
    """The admin, the staff's sign-in and their two-factor pages speak the language the member of staff
    chose with the admin's switch (Django's language cookie), else the one their browser asks for.

    LocaleMiddleware gives every address outside /fr/ the site's default language, since a public
    page's language comes from its address alone; the admin has one address for both languages, is
    never cached, and each member of staff reads it in their own.
    """

    admin_prefix = []  # found on the first request, once the URLs are loaded; not on every public page

    def middleware(request):
        if not admin_prefix:
            admin_prefix.append(reverse("admin:index"))
        if request.path_info.startswith(admin_prefix[0]):
            translation.activate(get_language_from_request(request, check_path=False))
            request.LANGUAGE_CODE = translation.get_language()
        return get_response(request)

    return middleware


def language_links(request):
    """This page in each language: the switch, and the hreflang alternates of every page."""
    current = get_language()
    return [
        {
            "code": code,
            "name": name,
            "url": request.build_absolute_uri(translate_url(request.path, code)),
            # Where the switch goes, query included. Translated here: the switch's own address is
            # English, and from there Django cannot resolve a French one to translate it back.
            "next": translate_url(request.get_full_path(), code),
            "current": code == current,
        }
        for code, name in settings.LANGUAGES
    ]
