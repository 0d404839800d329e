from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from booking.models import Treatment


class BilingualSitemap(Sitemap):
    """Every page once per language, each with its alternates and x-default (the English page)."""

    i18n = True
    alternates = True
    x_default = True


class StaticSitemap(BilingualSitemap):
    def items(self):
        return ["home", "faq:index", "contact", "privacy", "booking:treatments", "booking:book"]

    def location(self, item):
        return reverse(item)


class TreatmentSitemap(BilingualSitemap):
    def items(self):
        return Treatment.objects.active()


SITEMAPS = {"pages": StaticSitemap, "treatments": TreatmentSitemap}
