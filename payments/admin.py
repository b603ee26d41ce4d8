from django.contrib import admin

from payments.models import ChainAgent, ChainDeployment


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by chain_deploy from what the chain did; editing here would desynchronise them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
