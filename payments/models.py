"""What the platform knows about its contracts: where they are deployed and which agents they list.

The chain is the source of truth; these rows are the platform's address book for it, written by
`manage.py chain_deploy` (payments.services.chain_deploy).
"""

from django.db import models

from accounts.models import eth_address_validator


class ChainDeployment(models.Model):
    """One deployment of the escrow + entitlements pair. At most one is active per chain."""

    chain_id = models.PositiveBigIntegerField()
    escrow_address = models.CharField(max_length=42, validators=[eth_address_validator])
    entitlements_address = models.CharField(max_length=42, validators=[eth_address_validator])
    stablecoin_address = models.CharField(
        max_length=42, blank=True, validators=[eth_address_validator]
    )
    stablecoin_is_mock = models.BooleanField(default=False)
    deployer_address = models.CharField(max_length=42)
    admin_address = models.CharField(max_length=42)
    orchestrator_address = models.CharField(max_length=42)
    pauser_address = models.CharField(max_length=42)
    fee_recipient_address = models.CharField(max_length=42)
    fee_bps = models.PositiveSmallIntegerField()
    payment_ttl_seconds = models.PositiveIntegerField()
    base_uri = models.CharField(max_length=500, blank=True)
    block_number = models.PositiveBigIntegerField()
    entitlements_tx = models.CharField(max_length=66)
    escrow_tx = models.CharField(max_length=66)
    compiler_version = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain_id"],
                condition=models.Q(is_active=True),
                name="chaindeployment_one_active_per_chain",
            ),
        ]

    def __str__(self) -> str:
        state = "active" if self.is_active else "retired"
        return f"chain {self.chain_id} escrow {self.escrow_address} ({state})"


class ChainAgent(models.Model):
    """An agent registered in a deployment: its on-chain id (the ERC-1155 token id) and prices."""

    deployment = models.ForeignKey(ChainDeployment, on_delete=models.PROTECT, related_name="agents")
    agent = models.ForeignKey(
        "marketplace.Agent", on_delete=models.PROTECT, related_name="chain_registrations"
    )
    chain_agent_id = models.PositiveBigIntegerField()
    developer_address = models.CharField(max_length=42, validators=[eth_address_validator])
    # {token address (0x0 for ETH): price per run in the token's base units, as a string}.
    prices = models.JSONField(default=dict)
    registered_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["chain_agent_id"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "agent"], name="chainagent_unique_agent"),
            models.UniqueConstraint(
                fields=["deployment", "chain_agent_id"], name="chainagent_unique_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} as #{self.chain_agent_id} on chain {self.deployment.chain_id}"


# =============================================================================================
# Wallets and Sign-In with Ethereum (issue 5)
# =============================================================================================

# Token amounts in base units go up to 2**256 - 1 (78 digits).
AMOUNT_DIGITS = 78


def amount_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=0, **kwargs)


class Wallet(models.Model):
    """An address a user proved they control (EIP-4361). One account per address."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="wallets")
    address = models.CharField(max_length=42, unique=True, validators=[eth_address_validator])
    is_primary = models.BooleanField(default=False, help_text="The wallet to pay with.")
    is_contract = models.BooleanField(default=False, help_text="Verified through ERC-1271.")
    label = models.CharField(max_length=50, blank=True)
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "linked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_primary=True), name="wallet_one_primary"
            ),
        ]

    def __str__(self) -> str:
        return self.address


class SiweNonce(models.Model):
    """A server-issued EIP-4361 nonce: single use, consumed atomically, expires in minutes."""

    class Purpose(models.TextChoices):
        LINK = "link", "Link a wallet"
        LOGIN = "login", "Log in"

    nonce = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.purpose} nonce {self.nonce[:8]}…"


# =============================================================================================
# Chain ingestion (indexer)
# =============================================================================================


class ChainCursor(models.Model):
    """How far the indexer has read a deployment's events, and the hash it saw there."""

    deployment = models.OneToOneField(
        ChainDeployment, on_delete=models.CASCADE, related_name="cursor"
    )
    block_number = models.PositiveBigIntegerField()
    block_hash = models.CharField(max_length=66)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.deployment_id} at block {self.block_number}"


class ChainBlock(models.Model):
    """Hashes of recently ingested blocks, to detect a reorg and find where to rewind to."""

    deployment = models.ForeignKey(ChainDeployment, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=66)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deployment", "number"], name="chainblock_unique"),
        ]

    def __str__(self) -> str:
        return f"block {self.number} {self.hash}"


class ChainLog(models.Model):
    """One contract event, ingested exactly once (unique on chain, transaction and log index)."""

    deployment = models.ForeignKey(ChainDeployment, on_delete=models.CASCADE, related_name="logs")
    chain_id = models.PositiveBigIntegerField()
    tx_hash = models.CharField(max_length=66)
    log_index = models.PositiveIntegerField()
    block_number = models.PositiveBigIntegerField()
    block_hash = models.CharField(max_length=66)
    address = models.CharField(max_length=42)
    event = models.CharField(max_length=64)
    args = models.JSONField()
    ingested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["block_number", "log_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain_id", "tx_hash", "log_index"], name="chainlog_unique"
            ),
        ]
        indexes = [models.Index(fields=["deployment", "block_number"], name="chainlog_block")]

    def __str__(self) -> str:
        return f"{self.event} {self.tx_hash}:{self.log_index}"


# =============================================================================================
# Purchases (escrow payments) and settlement
# =============================================================================================


class PurchaseStatus(models.TextChoices):
    INITIATED = "initiated", "Initiated"
    VALIDATING = "validating", "Validating"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


PURCHASE_TRANSITIONS: dict[str, frozenset[str]] = {
    PurchaseStatus.INITIATED: frozenset({PurchaseStatus.VALIDATING, PurchaseStatus.FAILED}),
    PurchaseStatus.VALIDATING: frozenset({PurchaseStatus.PROCESSING, PurchaseStatus.FAILED}),
    PurchaseStatus.PROCESSING: frozenset({PurchaseStatus.COMPLETED, PurchaseStatus.FAILED}),
    # completed -> processing: only when a reorg removed the purchase's event (indexer).
    PurchaseStatus.COMPLETED: frozenset({PurchaseStatus.PROCESSING}),
    PurchaseStatus.FAILED: frozenset(),
}


class Purchase(models.Model):
    """Runs of an agent bought into the escrow: one on-chain payment (its `payment_id`).

    The chain is the source of truth: a purchase is `completed` only once the indexer has
    ingested its `Purchased` event; one made outside the site is created from that event.
    """

    public_id = models.UUIDField(unique=True, editable=False)
    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="purchases"
    )
    agent = models.ForeignKey(
        "marketplace.Agent", on_delete=models.PROTECT, related_name="purchases"
    )
    deployment = models.ForeignKey(ChainDeployment, on_delete=models.PROTECT, related_name="+")
    buyer_address = models.CharField(max_length=42)
    token_address = models.CharField(max_length=42)
    currency = models.CharField(max_length=8)
    runs = models.PositiveIntegerField()
    unit_price = amount_field()
    total = amount_field()
    status = models.CharField(
        max_length=12, choices=PurchaseStatus.choices, default=PurchaseStatus.INITIATED
    )
    failure_reason = models.TextField(blank=True)
    payment_id = models.PositiveBigIntegerField(null=True, blank=True)
    tx_hash = models.CharField(max_length=66, blank=True)
    block_number = models.PositiveBigIntegerField(null=True, blank=True)
    confirmations = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Runs spent (reserved by a run), and settled on chain (released + refunded + reclaimed).
    runs_reserved = models.PositiveIntegerField(default=0)
    runs_released = models.PositiveIntegerField(default=0)
    runs_refunded = models.PositiveIntegerField(default=0)
    runs_reclaimed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "payment_id"],
                condition=models.Q(payment_id__isnull=False),
                name="purchase_unique_payment",
            ),
            models.UniqueConstraint(
                fields=["tx_hash"],
                condition=~models.Q(tx_hash=""),
                name="purchase_unique_tx",
            ),
            models.CheckConstraint(
                condition=models.Q(runs_reserved__lte=models.F("runs")),
                name="purchase_reserved_lte_runs",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "agent", "status", "created_at"], name="purchase_user_agent"
            ),
        ]

    def __str__(self) -> str:
        return f"purchase {self.public_id} ({self.status})"

    @property
    def runs_left(self) -> int:
        return self.runs - self.runs_reserved


class PurchaseEvent(models.Model):
    """Append-only history of a purchase's status changes."""

    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.purchase_id}: {self.from_status or '-'} -> {self.to_status}"


class SettlementStatus(models.TextChoices):
    RESERVED = "reserved", "Reserved (run in progress)"
    PENDING = "pending", "Pending"
    SUBMITTED = "submitted", "Submitted"
    CONFIRMED = "confirmed", "Confirmed"
    FAILED = "failed", "Failed (needs attention)"


SETTLEMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    SettlementStatus.RESERVED: frozenset({SettlementStatus.PENDING}),
    # pending -> confirmed: the chain already shows the run settled (found by reconciliation).
    SettlementStatus.PENDING: frozenset(
        {SettlementStatus.SUBMITTED, SettlementStatus.CONFIRMED, SettlementStatus.FAILED}
    ),
    # submitted -> pending: the transaction never landed; it is sent again (the contract's
    # settle-once run reference makes a duplicate harmless).
    SettlementStatus.SUBMITTED: frozenset(
        {SettlementStatus.CONFIRMED, SettlementStatus.PENDING, SettlementStatus.FAILED}
    ),
    # confirmed -> submitted: only when a reorg removed the settling event (indexer); the
    # transaction is then re-mined or sent again.
    SettlementStatus.CONFIRMED: frozenset({SettlementStatus.SUBMITTED}),
    # An operator can retry a failed settlement after fixing the cause.
    SettlementStatus.FAILED: frozenset({SettlementStatus.PENDING}),
}


class Settlement(models.Model):
    """The money side of one run: the purchased run it spent and how that run was settled.

    Created (reserved) in the same transaction as the run; becomes pending when the run ends,
    with `kind` release (succeeded) or refund (anything else). Keyed by the run: once per run.
    """

    class Kind(models.TextChoices):
        RELEASE = "release", "Release to the developer"
        REFUND = "refund", "Refund to the buyer"

    run = models.OneToOneField("runtime.Run", on_delete=models.PROTECT, related_name="settlement")
    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="settlements")
    run_ref = models.CharField(max_length=66, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, blank=True)
    status = models.CharField(
        max_length=10, choices=SettlementStatus.choices, default=SettlementStatus.RESERVED
    )
    tx_hash = models.CharField(max_length=66, blank=True)
    block_number = models.PositiveBigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    amount = amount_field(null=True, blank=True)
    developer_amount = amount_field(null=True, blank=True)
    fee_amount = amount_field(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="settlement_due"),
        ]

    def __str__(self) -> str:
        return f"settlement of run {self.run_id} ({self.kind or 'reserved'}, {self.status})"


class SettlementEvent(models.Model):
    """Append-only history of a settlement's status changes."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.settlement_id}: {self.from_status or '-'} -> {self.to_status}"


class PaymentAlert(models.Model):
    """Something about money that needs a person: a settlement that keeps failing, or a
    difference between the database and the chain that reconciliation could not explain."""

    class Kind(models.TextChoices):
        SETTLEMENT_STUCK = "settlement_stuck", "Settlement keeps failing"
        RECONCILIATION = "reconciliation", "Database and chain disagree"
        REORG = "reorg", "Chain reorganisation"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    message = models.TextField()
    details = models.JSONField(default=dict)
    # Deduplicates repeated alerts about the same thing (e.g. settlement:<id>).
    key = models.CharField(max_length=120)
    resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["resolved", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(resolved=False), name="paymentalert_open_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:60]}"
