from django.urls import path

from booking import views

app_name = "booking"
urlpatterns = [
    path("treatments/", views.treatment_list, name="treatments"),
    path("treatments/<slug:slug>/", views.treatment_detail, name="treatment"),
    path("book/", views.book, name="book"),
    path("book/<slug:treatment_slug>/", views.times, name="times"),
    path("book/<slug:treatment_slug>/details/", views.details, name="details"),
    # A signed token holds ':' and never equals "details", so it cannot be mistaken for the step above.
    path("book/done/<str:token>/", views.confirmation, name="done"),
]
