from django.urls import path

from booking.intake import views as intake_views
from booking.requests import views
from booking.selfservice import views as selfservice_views
from booking.waitlist import views as waitlist_views

app_name = "booking"
urlpatterns = [
    path("treatments/", views.treatment_list, name="treatments"),
    path("treatments/<slug:slug>/", views.treatment_detail, name="treatment"),
    path("book/", views.book, name="book"),
    path("book/<slug:treatment_slug>/", views.times, name="times"),
    path("book/<slug:treatment_slug>/details/", views.details, name="details"),
    path("book/<slug:treatment_slug>/message-sent/", intake_views.enquiry_sent, name="enquiry_sent"),
    # A signed token holds ':' and never equals "details", so it cannot be mistaken for the step above.
    path("book/done/<str:token>/", views.confirmation, name="done"),
    path("book/confirm-email/<str:token>/", views.email_confirm, name="email_confirm"),
    # The patient's own page, from the signed link in every email.
    path("appointment/<str:token>/", selfservice_views.manage, name="manage"),
    path("appointment/<str:token>/cancel/", selfservice_views.manage_cancel, name="manage_cancel"),
    path("appointment/<str:token>/move/", selfservice_views.manage_move, name="manage_move"),
    path("appointment/<str:token>/calendar.ics", selfservice_views.manage_calendar, name="manage_calendar"),
    path("waitlist/<slug:treatment_slug>/", waitlist_views.waitlist_join, name="waitlist_join"),
    path("waitlist/claim/<str:token>/", waitlist_views.waitlist_claim, name="waitlist_claim"),
]
