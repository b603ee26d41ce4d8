"""Geo-fencing rules and the access-decision log.

The rules are edited in the admin and read on every request from an in-process snapshot
(compliance/geo.py); saving or deleting any of them bumps a version key so every process reloads.
KYC (compliance/kyc/) and the audit trail (compliance/audit/) are separate apps.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models


class CountryRule(models.Model):
    """What visitors placed in one country may do. Countries without a rule are allowed."""

    country = models.CharField(
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "An ISO 3166-1 alpha-2 code, upper case.")],
        help_text="ISO 3166-1 alpha-2 code, for example CU.",
    )
    blocked = models.BooleanField(
        default=False, help_text="Whole-site block: pages show /restricted, the API answers 451."
    )
    blocked_categories = models.ManyToManyField(
        "marketplace.Category",
        blank=True,
        related_name="+",
        help_text="Agents in these categories cannot be bought or run from this country.",
    )
    max_transaction_usd = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Largest single purchase in USD; empty for no limit.",
    )
    min_kyc_level = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(3)],
        help_text="Minimum KYC level (0-3) to buy or run from this country.",
    )
    reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Shown to the visitor on the restricted page and in the API error.",
    )
    reviewable = models.BooleanField(
        default=False,
        help_text="A shipped default the operator should review (clear it once reviewed).",
    )
    note = models.TextField(blank=True, help_text="Internal: why this rule exists, sources.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country"]

    def __str__(self) -> str:
        return self.country

    def save(self, *args, **kwargs):
        self.country = (self.country or "").upper()
        super().save(*args, **kwargs)


class IpRangeList(models.Model):
    """A named list of anonymizer ranges (Tor exits, hosting providers, ...)."""

    class Kind(models.TextChoices):
        TOR = "tor", "Tor exit nodes"
        HOSTING = "hosting", "Hosting / data centre"
        OTHER = "other", "Other anonymizer"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OTHER)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "IP range list"

    def __str__(self) -> str:
        return self.name


class IpRange(models.Model):
    cidr = models.CharField(max_length=49, help_text="An address or a network: 192.0.2.0/24.")
    list = models.ForeignKey(IpRangeList, on_delete=models.CASCADE, related_name="ranges")

    class Meta:
        ordering = ["list", "cidr"]
        constraints = [
            models.UniqueConstraint(fields=["list", "cidr"], name="compliance_iprange_unique")
        ]
        verbose_name = "IP range"

    def __str__(self) -> str:
        return self.cidr

    def clean(self) -> None:
        try:
            self.cidr = str(ipaddress.ip_network(self.cidr.strip(), strict=False))
        except ValueError as exc:
            raise ValidationError({"cidr": str(exc)}) from exc


class AnonymizedAccessApproval(models.Model):
    """A staff decision on whether a user may buy or run restricted categories through an
    anonymizer. The latest row per user is the one in force."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="anonymized_approvals"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    reason = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True, help_text="Address at request time.")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        verbose_name = "anonymized access approval"

    def __str__(self) -> str:
        return f"{self.user} · {self.get_decision_display()}"


class AccessDecisionLog(models.Model):
    """Block and limited decisions (and a sample of allowed ones). Purged after
    COMPLIANCE_ACCESS_LOG_DAYS by compliance.tasks.access_log_purge."""

    class Point(models.TextChoices):
        REQUEST = "request", "Page / API request"
        PURCHASE = "purchase", "Purchase"
        RUN = "run", "Run start"

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True)
    anonymized = models.BooleanField(default=False)
    point = models.CharField(max_length=10, choices=Point.choices, default=Point.REQUEST)
    path = models.CharField(max_length=300, blank=True)
    category = models.CharField(max_length=40, blank=True)
    decision = models.CharField(max_length=10)
    code = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-time"]
        indexes = [models.Index(fields=["country", "time"])]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.ip} {self.country} {self.decision}"


# --- Rule changes reach every process (compliance/geo.py keeps the rules in memory) ----------


def _rules_changed(**kwargs) -> None:
    from django.db import transaction

    from compliance.geo import rules_changed

    rules_changed()  # this process, at once (also sees its own uncommitted rows)
    transaction.on_commit(rules_changed)  # others, once the change is visible to them


for _model in (CountryRule, IpRangeList, IpRange):
    models.signals.post_save.connect(_rules_changed, sender=_model, dispatch_uid=f"geo-{_model}")
    models.signals.post_delete.connect(_rules_changed, sender=_model, dispatch_uid=f"geo-d{_model}")
models.signals.m2m_changed.connect(
    _rules_changed, sender=CountryRule.blocked_categories.through, dispatch_uid="geo-m2m"
)
models.signals.post_save.connect(
    _rules_changed, sender="marketplace.Category", dispatch_uid="geo-category"
)
