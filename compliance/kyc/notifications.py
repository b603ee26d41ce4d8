"""Tell users their KYC status changed: an email and a site notification, after commit."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from compliance.kyc.models import KycStatus, Notification

MESSAGES = {
    KycStatus.PENDING: "We received your verification and will review it shortly.",
    KycStatus.VERIFIED: "Your identity is verified: you are now at KYC level {level}.",
    KycStatus.REJECTED: "Your verification was not accepted: {reason}",
}


def kyc_status_notify(*, user, status: str, level: int, reason: str = "") -> Notification:
    """Record the site notification now; send the email once the transaction commits."""
    message = MESSAGES[status].format(level=level, reason=reason or "no reason given.")
    url = reverse("kyc:page")
    notification = Notification.objects.create(user=user, message=message[:300], url=url)
    site = getattr(settings, "KYC_SITE_URL", "")
    body = f"{message}\n\nSee your verification status: {site}{url}\n"

    def send() -> None:
        # Status and level only: no personal data goes into the email.
        send_mail(
            subject="Your AgentNexus verification status",
            message=body,
            from_email=None,
            recipient_list=[user.email],
            fail_silently=True,
        )

    transaction.on_commit(send)
    return notification
