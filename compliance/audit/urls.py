"""Privacy pages. Included at the root as path("profile/privacy/", include("compliance.audit.urls"))."""

from django.urls import path

from compliance.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.privacy, name="privacy"),
    path("export/", views.privacy_export, name="privacy_export"),
    path("delete/", views.privacy_delete, name="privacy_delete"),
]
