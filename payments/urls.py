"""Wallet pages and the JSON endpoints of static/js/wallet.js. Included at the site root."""

from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("wallet/", views.wallet_page, name="wallet"),
    path("wallet/<int:wallet_id>/primary/", views.wallet_primary_view, name="wallet_primary"),
    path("wallet/<int:wallet_id>/unlink/", views.wallet_unlink_view, name="wallet_unlink"),
    path("wallet/<int:wallet_id>/faucet/", views.wallet_faucet_view, name="wallet_faucet"),
    path("wallet/siwe/nonce/", views.siwe_nonce_view, name="siwe_nonce"),
    path("wallet/link/", views.wallet_link_view, name="wallet_link"),
    path("wallet/login/", views.wallet_login_view, name="wallet_login"),
]
