"""The site's URLs plus the privacy pages, until the root URLconf includes them."""

from django.urls import include, path

from agentnexus.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("profile/privacy/", include("compliance.audit.urls")),
    *[p for p in site_urlpatterns if getattr(p, "namespace", None) != "audit"],
]
