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
