"""Public: what a permit certificate's QR code opens (no login)."""

from django.urls import path

from . import views

app_name = "permits"
urlpatterns = [
    path("verify/<str:code>/", views.verify, name="verify"),
    path("verify/<str:code>/evidence.json", views.verify_bundle, name="verify_bundle"),
]
