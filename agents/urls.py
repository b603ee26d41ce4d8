from django.urls import path

from agents import views

app_name = "developer"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("submit/", views.submit, name="submit"),
    path("payout/", views.payout_set_view, name="payout"),
    path("submissions/<uuid:submission_id>/", views.submission_detail, name="submission"),
    path(
        "submissions/<uuid:submission_id>/status/",
        views.submission_status,
        name="submission_status",
    ),
    path("agents/<slug:slug>/deprecate/", views.agent_deprecate_view, name="agent_deprecate"),
    path("agents/<slug:slug>/reactivate/", views.agent_reactivate_view, name="agent_reactivate"),
    path(
        "agents/<slug:slug>/versions/<str:version>/deprecate/",
        views.version_deprecate_view,
        name="version_deprecate",
    ),
]
