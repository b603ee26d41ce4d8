from django.contrib import admin

from compliance.audit.mixins import AuditedAdminMixin
from runtime.models import Run, RunEvent


class RunEventInline(admin.TabularInline):
    model = RunEvent
    fields = ("seq", "type", "payload", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("seq",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Runs change only through runtime.services (the state machine): read-only here."""

    list_display = (
        "public_id",
        "agent",
        "user",
        "status",
        "failure_reason",
        "created_at",
        "duration_ms",
    )
    list_filter = ("status", "failure_reason")
    search_fields = ("public_id", "agent__slug", "user__email")
    list_select_related = ("agent", "user")
    exclude = ("secrets_ciphertext",)
    inlines = [RunEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Run._meta.fields if f.name != "secrets_ciphertext"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
