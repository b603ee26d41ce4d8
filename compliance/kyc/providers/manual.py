"""Manual review: a submission waits for staff to approve or reject it in the admin."""

from __future__ import annotations

from compliance.kyc.providers.base import KycProvider


class ManualProvider(KycProvider):
    name = "manual"
    staff_review = True

    def submit(self, *, submission, personal) -> None:
        # Nothing to send: the submission is listed in the admin as pending.
        return None
