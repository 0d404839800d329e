from django.urls import path

from faq import views

app_name = "faq"
urlpatterns = [
    path("", views.faq_index, name="index"),
    path("preview/<int:pk>/", views.faq_preview, name="preview"),
]
