from django.urls import path

from runtime import views

app_name = "runtime"

urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<uuid:run_id>/cancel/", views.run_cancel_view, name="run_cancel"),
    path("marketplace/<slug:slug>/run/", views.run_new, name="run_new"),
]
