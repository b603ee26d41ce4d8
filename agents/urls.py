from django.urls import path

from agents import views

app_name = "developer"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("submit/", views.submit, name="submit"),
    path("submissions/<uuid:submission_id>/", views.submission_detail, name="submission"),
    path(
        "submissions/<uuid:submission_id>/status/",
        views.submission_status,
        name="submission_status",
    ),
]
