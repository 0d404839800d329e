from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from booking.models import Treatment


class StaticSitemap(Sitemap):
    def items(self):
        return ["home", "faq:index", "contact", "privacy", "booking:treatments", "booking:book"]

    def location(self, item):
        return reverse(item)


class TreatmentSitemap(Sitemap):
    def items(self):
        return Treatment.objects.active()


SITEMAPS = {"pages": StaticSitemap, "treatments": TreatmentSitemap}
