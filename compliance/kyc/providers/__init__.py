"""KYC providers by name. `KYC_PROVIDER` picks the one new submissions go to."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from compliance.kyc.providers.base import KycProvider, ProviderVerdict, WebhookRejected
from compliance.kyc.providers.manual import ManualProvider
from compliance.kyc.providers.sumsub import SumsubProvider

__all__ = ["KycProvider", "ProviderVerdict", "WebhookRejected", "get_provider", "active_provider"]

PROVIDERS: dict[str, type[KycProvider]] = {
    ManualProvider.name: ManualProvider,
    SumsubProvider.name: SumsubProvider,
}


def get_provider(name: str) -> KycProvider:
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise ImproperlyConfigured(f"Unknown KYC provider {name!r}.") from None


def active_provider() -> KycProvider:
    return get_provider(getattr(settings, "KYC_PROVIDER", "manual") or "manual")
