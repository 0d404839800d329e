from django.urls import path

from booking import views

app_name = "booking"
urlpatterns = [
    path("treatments/", views.treatment_list, name="treatments"),
    path("treatments/<slug:slug>/", views.treatment_detail, name="treatment"),
    path("book/", views.book, name="book"),
]
