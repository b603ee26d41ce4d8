from django.contrib import admin

from agentnexus.core.admin import ReadOnlyAdminMixin
from compliance.audit.mixins import AuditedAdminMixin
from payments.models import (
    ChainAgent,
    ChainCursor,
    ChainDeployment,
    ChainLog,
    PaymentAlert,
    Purchase,
    PurchaseEvent,
    Settlement,
    SettlementEvent,
    Wallet,
)


class ReadOnlyAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by chain_deploy from what the chain did; editing here would desynchronise them."""


class ChainAgentInline(admin.TabularInline):
    model = ChainAgent
    fields = ("chain_agent_id", "agent", "developer_address", "prices", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChainDeployment)
class ChainDeploymentAdmin(ReadOnlyAdmin):
    list_display = ("chain_id", "escrow_address", "entitlements_address", "is_active", "created_at")
    list_filter = ("chain_id", "is_active")
    inlines = [ChainAgentInline]


@admin.register(ChainAgent)
class ChainAgentAdmin(ReadOnlyAdmin):
    list_display = ("chain_agent_id", "agent", "deployment", "developer_address", "updated_at")
    list_select_related = ("agent", "deployment")
    search_fields = ("agent__slug", "developer_address")


class PurchaseEventInline(admin.TabularInline):
    model = PurchaseEvent
    fields = ("from_status", "to_status", "payload", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class SettlementEventInline(PurchaseEventInline):
    model = SettlementEvent


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    """Purchases change only through their state machine (payments.services)."""

    list_display = ("public_id", "agent", "user", "runs", "runs_reserved", "status", "created_at")
    list_filter = ("status", "currency")
    search_fields = ("public_id", "tx_hash", "buyer_address", "user__email", "agent__slug")
    list_select_related = ("agent", "user")
    inlines = [PurchaseEventInline]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ("run", "kind", "status", "attempts", "tx_hash", "updated_at")
    list_filter = ("status", "kind")
    search_fields = ("run_ref", "tx_hash")
    inlines = [SettlementEventInline]


@admin.register(PaymentAlert)
class PaymentAlertAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Staff mark an alert resolved once they have dealt with it; nothing else is editable.
    Resolving frees its key, so the same problem can alert again."""

    list_display = ("kind", "message", "resolved", "created_at")
    list_filter = ("kind", "resolved")
    fields = ("kind", "message", "details", "key", "resolved", "created_at")
    readonly_fields = ("kind", "message", "details", "key", "created_at")
    actions = ["mark_resolved"]

    @admin.action(description="Mark selected alerts resolved")
    def mark_resolved(self, request, queryset) -> None:
        count = queryset.filter(resolved=False).update(resolved=True)
        self.message_user(request, f"{count} alert(s) marked resolved.")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ("address", "user", "is_primary", "is_contract", "linked_at")
    search_fields = ("address", "user__email")


@admin.register(ChainLog)
class ChainLogAdmin(ReadOnlyAdmin):
    list_display = ("block_number", "log_index", "event", "tx_hash", "deployment")
    list_filter = ("event", "deployment")
    search_fields = ("tx_hash",)


@admin.register(ChainCursor)
class ChainCursorAdmin(ReadOnlyAdmin):
    list_display = ("deployment", "block_number", "block_hash", "updated_at")
