"""Versioned REST API: /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from agents.api.views import (
    DeveloperAgentDeprecateApi,
    DeveloperAgentDetailApi,
    DeveloperAgentListApi,
    DeveloperAgentReactivateApi,
    DeveloperAgentVersionDeprecateApi,
    DeveloperEarningsApi,
    DeveloperPayoutApi,
    DeveloperProfileApi,
    SubmissionDetailApi,
    SubmissionListCreateApi,
    SubmissionLogsApi,
)
from marketplace.api.views import AgentReviewsApi, AgentViewSet, CategoryListApi, CurrentUserApi
from payments.api.purchases import (
    EntitlementListApi,
    PurchaseConfirmApi,
    PurchaseDetailApi,
    PurchaseListCreateApi,
    PurchaseQuoteApi,
)
from payments.api.wallets import (
    WalletLinkApi,
    WalletListApi,
    WalletNonceApi,
    WalletSetPrimaryApi,
    WalletUnlinkApi,
)
from runtime.api.views import RunCancelApi, RunDetailApi, RunEventsApi, RunListCreateApi

router = SimpleRouter()
router.register("agents", AgentViewSet, basename="agent")

app_name = "api"

urlpatterns = [
    path("", include(router.urls)),
    path("agents/<slug:slug>/reviews/", AgentReviewsApi.as_view(), name="agent-reviews"),
    path("categories/", CategoryListApi.as_view(), name="categories"),
    path("me/", CurrentUserApi.as_view(), name="me"),
    path("purchases/", PurchaseListCreateApi.as_view(), name="purchases"),
    path("purchases/quote/", PurchaseQuoteApi.as_view(), name="purchase-quote"),
    path("purchases/<uuid:purchase_id>/", PurchaseDetailApi.as_view(), name="purchase-detail"),
    path(
        "purchases/<uuid:purchase_id>/confirm/",
        PurchaseConfirmApi.as_view(),
        name="purchase-confirm",
    ),
    path("entitlements/", EntitlementListApi.as_view(), name="entitlements"),
    path("runs/", RunListCreateApi.as_view(), name="runs"),
    path("wallets/", WalletListApi.as_view(), name="wallets"),
    path("wallets/nonce/", WalletNonceApi.as_view(), name="wallet-nonce"),
    path("wallets/link/", WalletLinkApi.as_view(), name="wallet-link"),
    path("wallets/<int:wallet_id>/primary/", WalletSetPrimaryApi.as_view(), name="wallet-primary"),
    path("wallets/<int:wallet_id>/unlink/", WalletUnlinkApi.as_view(), name="wallet-unlink"),
    path("runs/<uuid:run_id>/", RunDetailApi.as_view(), name="run-detail"),
    path("runs/<uuid:run_id>/cancel/", RunCancelApi.as_view(), name="run-cancel"),
    path("runs/<uuid:run_id>/events/", RunEventsApi.as_view(), name="run-events"),
    path("developer/", DeveloperProfileApi.as_view(), name="developer"),
    path("developer/payout/", DeveloperPayoutApi.as_view(), name="developer-payout"),
    path("developer/agents/", DeveloperAgentListApi.as_view(), name="developer-agents"),
    path(
        "developer/agents/<slug:slug>/", DeveloperAgentDetailApi.as_view(), name="developer-agent"
    ),
    path(
        "developer/agents/<slug:slug>/deprecate/",
        DeveloperAgentDeprecateApi.as_view(),
        name="developer-agent-deprecate",
    ),
    path(
        "developer/agents/<slug:slug>/reactivate/",
        DeveloperAgentReactivateApi.as_view(),
        name="developer-agent-reactivate",
    ),
    path(
        "developer/agents/<slug:slug>/versions/<str:version>/deprecate/",
        DeveloperAgentVersionDeprecateApi.as_view(),
        name="developer-agent-version-deprecate",
    ),
    path("developer/submissions/", SubmissionListCreateApi.as_view(), name="developer-submissions"),
    path(
        "developer/submissions/<uuid:submission_id>/",
        SubmissionDetailApi.as_view(),
        name="developer-submission",
    ),
    path(
        "developer/submissions/<uuid:submission_id>/logs/",
        SubmissionLogsApi.as_view(),
        name="developer-submission-logs",
    ),
    path("developer/earnings/", DeveloperEarningsApi.as_view(), name="developer-earnings"),
]
