"""KYC pages. Included at the site root: path("", include("compliance.kyc.urls"))."""

from django.urls import path

from compliance.kyc import views

app_name = "kyc"

urlpatterns = [
    path("kyc/", views.kyc_page, name="page"),
    path("kyc/notifications/read/", views.notifications_read, name="notifications_read"),
    path("kyc/webhooks/<slug:provider>/", views.provider_webhook, name="webhook"),
]
