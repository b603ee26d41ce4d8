"""KYC: a user's verification level and status, their submissions, and the encrypted personal data.

Personal fields and documents are stored only as AES-256-GCM ciphertext (compliance/kyc/crypto.py)
with the id of the key that sealed them beside each ciphertext, so keys can rotate
(`manage.py kyc_reencrypt`). See docs/decisions/0011-kyc.md.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

MAX_LEVEL = 3


class KycStatus(models.TextChoices):
    NONE = "none", "Not verified"
    PENDING = "pending", "Pending review"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


class KycProfile(models.Model):
    """A user's KYC standing: the level granted so far and the status of the latest review.

    The level survives a later rejection (a level-2 user refused level 3 stays at level 2).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kyc_profile"
    )
    level = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(MAX_LEVEL)])
    status = models.CharField(max_length=10, choices=KycStatus.choices, default=KycStatus.NONE)
    reason = models.CharField(max_length=500, blank=True, help_text="Why it was rejected.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__lte=MAX_LEVEL), name="kycprofile_level_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: level {self.level}, {self.status}"


class KycSubmission(models.Model):
    """One verification request. Its personal fields are one encrypted JSON document."""

    class DocumentType(models.TextChoices):
        PASSPORT = "passport", "Passport"
        ID_CARD = "id_card", "National identity card"
        DRIVING_LICENCE = "driving_licence", "Driving licence"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kyc_submissions"
    )
    requested_level = models.PositiveSmallIntegerField(default=2)
    status = models.CharField(
        max_length=10, choices=KycStatus.choices[1:], default=KycStatus.PENDING
    )
    reason = models.CharField(max_length=500, blank=True)
    granted_level = models.PositiveSmallIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=20, default="manual")
    # The provider's applicant id (external providers); not personal data.
    provider_ref = models.CharField(max_length=100, blank=True, db_index=True)
    key_id = models.CharField(max_length=40)
    personal_ciphertext = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="kycsubmission_one_pending_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"KYC submission {self.public_id} ({self.status})"

    @property
    def aad(self) -> bytes:
        """Binds the ciphertext to this row: it cannot be pasted onto another submission."""
        return f"kyc.submission:{self.public_id}".encode()


class KycDocument(models.Model):
    """An uploaded identity document, encrypted. Its type was detected from its content."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    submission = models.ForeignKey(
        KycSubmission, on_delete=models.CASCADE, related_name="documents"
    )
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    key_id = models.CharField(max_length=40)
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.content_type} document {self.public_id}"

    @property
    def aad(self) -> bytes:
        return f"kyc.document:{self.public_id}".encode()


class CategoryKycRequirement(models.Model):
    """The minimum KYC level to buy or run any agent of a category (edited in the admin)."""

    category = models.OneToOneField(
        "marketplace.Category", on_delete=models.CASCADE, related_name="kyc_requirement"
    )
    min_level = models.PositiveSmallIntegerField(validators=[MaxValueValidator(MAX_LEVEL)])

    def __str__(self) -> str:
        return f"{self.category}: level {self.min_level}"


class KycWebhookDigest(models.Model):
    """Signature digests of accepted provider webhooks: a replayed delivery is refused."""

    provider = models.CharField(max_length=20)
    digest = models.CharField(max_length=128)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "digest"], name="kycwebhook_unique_digest")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.digest[:12]}…"


class Notification(models.Model):
    """A message shown to the user on the site (the KYC page lists the unread ones)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kyc_notifications"
    )
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message
