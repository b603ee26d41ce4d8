from django.urls import path

from marketplace import views

app_name = "marketplace"

urlpatterns = [
    path("", views.home, name="home"),
    path("marketplace/", views.catalog, name="catalog"),
    path("marketplace/<slug:slug>/", views.agent_detail, name="agent_detail"),
    path("marketplace/<slug:slug>/reviews/", views.review_submit, name="review_submit"),
]
