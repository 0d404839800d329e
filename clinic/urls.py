from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path

from booking.admin import agenda, insights
from clinic import views
from clinic.i18n import language_set
from clinic.sitemaps import SITEMAPS

# A database that stops answering gets the 503 page rather than the 500 page (clinic/views.py).
handler500 = "clinic.views.server_error"

# The pages patients read, in English at their old addresses and in French under /fr/ (docs/i18n.md).
urlpatterns = i18n_patterns(
    path("", views.home, name="home"),
    path("contact/", views.contact, name="contact"),
    path("privacy/", views.privacy, name="privacy"),
    path("faq/", include("faq.urls")),
    path("", include("booking.urls")),
    prefix_default_language=False,
)
urlpatterns += [
    path("language/", language_set, name="set_language"),
    re_path(r"^theme/(?P<colour>[0-9a-f]{6})\.css$", views.theme_css, name="theme_css"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    # Before the admin's own URLs, whose catch-all would otherwise answer this address.
    path("admin/booking/agenda/", admin.site.admin_view(agenda.agenda), name="booking_agenda"),
    path("", include("clinic.two_factor.urls")),
    path("admin/insights/", admin.site.admin_view(insights.insights), name="insights"),
    path("admin/", admin.site.urls),
    # Staff-uploaded images. Behind nginx in production these are served by nginx (docs/deploy.md).
    re_path(r"^media/(?P<path>.*)$", views.media_file),
]
