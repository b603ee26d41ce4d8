from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from agentnexus.core import views as core_views

admin.site.site_header = "AgentNexus administration"
admin.site.site_title = "AgentNexus admin"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("developer/", include("agents.urls")),
    path("profile/privacy/", include("compliance.audit.urls")),
    path("profile/", include("accounts.urls")),
    path("api/v1/", include("agentnexus.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("compliance.urls")),
    path("", include("marketplace.urls")),
    path("", include("runtime.urls")),
    path("", include("payments.purchase_urls")),
    path("", include("payments.urls")),
    path("", include("compliance.kyc.urls")),
]

handler404 = "agentnexus.core.views.page_not_found"
handler500 = "agentnexus.core.views.server_error"

if settings.DEBUG:
    urlpatterns.append(path("__debug__/500/", core_views.server_error))
