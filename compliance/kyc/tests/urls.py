"""The site's URLs plus the KYC ones, until the root urlconf includes them."""

from django.urls import include, path

from agentnexus.urls import urlpatterns as site_urlpatterns

urlpatterns = list(site_urlpatterns)
if not any(getattr(p, "namespace", None) == "kyc" for p in urlpatterns):
    urlpatterns.append(path("", include("compliance.kyc.urls")))
