from django.contrib import admin
from django.urls import path

from clinic.two_factor import views

# Before the admin's own URLs (clinic/urls.py), whose catch-all would otherwise answer these.
# The enrolment page is not behind admin_view: a session with no second factor yet reaches it alone.
urlpatterns = [
    path("admin/two-factor/", admin.site.admin_view(views.manage), name="two_factor_manage"),
    path("admin/two-factor/set-up/", views.enrol, name="two_factor_enrol"),
    path(
        "admin/two-factor/recovery-codes/",
        admin.site.admin_view(views.recovery_codes),
        name="two_factor_recovery_codes",
    ),
    path(
        "admin/two-factor/recovery-codes/download/",
        admin.site.admin_view(views.recovery_codes_download),
        name="two_factor_recovery_codes_download",
    ),
]
