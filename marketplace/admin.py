from django.contrib import admin

from compliance.audit.mixins import AuditedAdminMixin
from marketplace.models import Agent, AgentVersion, Category, Review
from marketplace.services import agent_set_current_version, agent_set_status, review_delete


@admin.register(Category)
class CategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "position", "description"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    list_editable = ["position"]


class AgentVersionInline(admin.TabularInline):
    model = AgentVersion
    extra = 0
    fields = [
        "version",
        "image_ref",
        "price",
        "currency",
        "memory_mb",
        "cpus",
        "timeout_seconds",
        "created_at",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Agent)
class AgentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name", "slug", "category", "developer", "status", "featured", "current_version",
        "rating_avg", "rating_count", "runs_total", "updated_at",
    ]  # fmt: skip
    list_filter = ["status", "category", "featured", "developer__verified"]
    search_fields = ["name", "slug", "summary", "developer__display_name"]
    list_select_related = ["category", "developer", "current_version"]
    autocomplete_fields = ["developer"]
    readonly_fields = [
        "list_price",
        "rating_avg",
        "rating_count",
        "runs_total",
        "runs_succeeded",
        "created_at",
        "updated_at",
    ]
    inlines = [AgentVersionInline]
    actions = ["set_active", "set_maintenance", "set_deprecated"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "current_version":
            object_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = AgentVersion.objects.filter(agent_id=object_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: Agent, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "current_version" in form.changed_data and obj.current_version is not None:
            agent_set_current_version(agent=obj, version=obj.current_version)

    def _set_status(self, request, queryset, status: str) -> None:
        agents = list(queryset)
        for agent in agents:
            agent_set_status(agent=agent, status=status)
        self.message_user(request, f"{len(agents)} agent(s) set to {Agent.Status(status).label}.")

    @admin.action(description="Set status: active")
    def set_active(self, request, queryset) -> None:
        self._set_status(request, queryset, Agent.Status.ACTIVE)

    @admin.action(description="Set status: under maintenance")
    def set_maintenance(self, request, queryset) -> None:
        self._set_status(request, queryset, Agent.Status.MAINTENANCE)

    @admin.action(description="Set status: deprecated")
    def set_deprecated(self, request, queryset) -> None:
        self._set_status(request, queryset, Agent.Status.DEPRECATED)


@admin.register(AgentVersion)
class AgentVersionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "agent",
        "version",
        "price",
        "currency",
        "memory_mb",
        "cpus",
        "timeout_seconds",
        "created_at",
    ]
    list_filter = ["currency", "created_at", "agent__category"]
    search_fields = ["agent__name", "agent__slug", "version", "image_ref"]
    list_select_related = ["agent"]
    autocomplete_fields = ["agent"]

    def get_readonly_fields(self, request, obj=None):
        # Versions are immutable once created: runs and purchases refer to exactly this release.
        if obj is not None:
            return [f.name for f in self.model._meta.fields]
        return ["created_at"]


@admin.register(Review)
class ReviewAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["agent", "author", "rating", "short_body", "created_at"]
    list_filter = ["rating", "created_at", "agent__category"]
    search_fields = ["agent__name", "author__email", "body"]
    list_select_related = ["agent", "author"]
    readonly_fields = ["agent", "author", "rating", "body", "created_at", "updated_at"]

    @admin.display(description="Review")
    def short_body(self, review: Review) -> str:
        return review.body[:80]

    def has_add_permission(self, request) -> bool:
        return False  # Reviews come from users; the admin can only read or delete them.

    # Moderation goes through the service so the agent's rating follows the deletion.
    def delete_model(self, request, obj: Review) -> None:
        review_delete(review=obj, author=None)

    def delete_queryset(self, request, queryset) -> None:
        for review in queryset.select_related("agent"):
            review_delete(review=review, author=None)
