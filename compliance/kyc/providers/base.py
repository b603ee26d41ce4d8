"""The provider interface: who reviews a submission (staff, or an external KYC service)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compliance.kyc.models import KycSubmission
    from compliance.kyc.services import PersonalData


@dataclass(frozen=True)
class ProviderVerdict:
    """What a provider reported about one submission (e.g. from a webhook)."""

    submission_ref: str  # the provider's applicant id or our submission public id
    status: str  # a KycStatus value
    reason: str = ""
    level: int | None = None
    extra: dict = field(default_factory=dict)


class WebhookRejected(Exception):
    """A webhook delivery is refused (bad or replayed signature, stale, malformed)."""

    def __init__(self, message: str, *, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


class KycProvider(ABC):
    name: str = ""
    # Whether staff decide in the admin (the manual provider) or the provider reports back.
    staff_review: bool = False

    @abstractmethod
    def submit(self, *, submission: KycSubmission, personal: PersonalData) -> None:
        """Hand a new submission over for review (may set `submission.provider_ref`)."""

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> ProviderVerdict:
        raise WebhookRejected("This provider does not send webhooks.", status_code=404)
