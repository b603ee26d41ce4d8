"""The project's URLs plus compliance.urls, until the root URLconf includes them."""

from django.urls import include, path

from agentnexus.urls import handler404, handler500
from agentnexus.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("", include("compliance.urls")), *project_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
