from django.urls import path

from payments import purchase_views

app_name = "purchases"

urlpatterns = [
    path("purchases/", purchase_views.purchase_list, name="list"),
    path("purchases/<uuid:purchase_id>/", purchase_views.purchase_detail, name="detail"),
    path("marketplace/<slug:slug>/buy/", purchase_views.purchase_new, name="new"),
    path("developer/earnings/", purchase_views.developer_earnings_view, name="earnings"),
]
