from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from agentnexus.core.admin import ReadOnlyAdminMixin
from agentnexus.core.errors import ApplicationError
from agentnexus.core.forms import add_application_error
from compliance.audit.mixins import AuditedAdminMixin
from marketplace.models import Agent, AgentEvent, AgentVersion, Category, Review
from marketplace.services import (
    agent_reactivate,
    agent_set_current_version,
    agent_suspend,
    agent_transition,
    review_delete,
)


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
        "deprecated_at",
        "created_at",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class SuspendForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        max_length=2000,
        help_text="Shown on the agent's page and to its developer, and kept in the audit trail.",
    )


class AgentEventInline(admin.TabularInline):
    model = AgentEvent
    extra = 0
    fields = ["created_at", "kind", "from_status", "to_status", "version", "actor", "reason"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "Status history"

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
    # The status only changes through agent_transition (the actions and the suspend page), so
    # every change leaves an AgentEvent and reaches the chain.
    readonly_fields = [
        "status",
        "status_reason",
        "list_price",
        "rating_avg",
        "rating_count",
        "runs_total",
        "runs_succeeded",
        "created_at",
        "updated_at",
    ]
    inlines = [AgentVersionInline, AgentEventInline]
    actions = ["set_active", "set_maintenance", "set_deprecated"]
    change_form_template = "admin/marketplace/agent/change_form.html"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "current_version":
            object_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = AgentVersion.objects.filter(
                agent_id=object_id, deprecated_at__isnull=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: Agent, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "current_version" in form.changed_data and obj.current_version is not None:
            agent_set_current_version(agent=obj, version=obj.current_version)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/suspend/",
                self.admin_site.admin_view(self.suspend_view),
                name=f"{info[0]}_{info[1]}_suspend",
            ),
            path(
                "<path:object_id>/reinstate/",
                self.admin_site.admin_view(self.reinstate_view),
                name=f"{info[0]}_{info[1]}_reinstate",
            ),
            *super().get_urls(),
        ]

    def _set_status(self, request, queryset, status: str) -> None:
        done, refused = 0, []
        for agent in queryset:
            try:
                agent_transition(agent=agent, to=status, actor=request.user)
            except ApplicationError as exc:
                refused.append(f"{agent.slug}: {exc.message}")
            else:
                done += 1
        self.message_user(request, f"{done} agent(s) set to {Agent.Status(status).label}.")
        for problem in refused:
            self.message_user(request, problem, messages.ERROR)

    @admin.action(
        description="Set status: active (also lifts a suspension)", permissions=["change"]
    )
    def set_active(self, request, queryset) -> None:
        self._set_status(request, queryset, Agent.Status.ACTIVE)

    @admin.action(description="Set status: under maintenance", permissions=["change"])
    def set_maintenance(self, request, queryset) -> None:
        self._set_status(request, queryset, Agent.Status.MAINTENANCE)

    @admin.action(description="Set status: deprecated", permissions=["change"])
    def set_deprecated(self, request, queryset) -> None:
        self._set_status(request, queryset, Agent.Status.DEPRECATED)

    def _agent(self, request, object_id: str) -> Agent:
        agent = self.get_object(request, object_id)  # None for a malformed or unknown id
        if agent is None:
            raise Http404
        if not self.has_change_permission(request, agent):
            raise PermissionDenied
        return agent

    def _change_url(self, agent: Agent) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[agent.pk]
        )

    def suspend_view(self, request, object_id: str):
        """Take the agent down at once: out of the catalog and purchase, its runs stopped and
        refunded, inactive on chain."""
        agent = self._agent(request, object_id)
        form = SuspendForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                agent_suspend(agent=agent, by=request.user, reason=form.cleaned_data["reason"])
            except ApplicationError as exc:
                add_application_error(form, exc)
            else:
                self.message_user(
                    request,
                    f"Suspended {agent.name}: it is out of the catalog, cannot be bought, and "
                    "its queued and running runs were stopped and will be refunded.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(agent))
        return TemplateResponse(
            request,
            "admin/marketplace/agent/suspend.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"Suspend {agent.name}",
                "agent": agent,
                "original": agent,
                "form": form,
                "active_runs": agent.runs.filter(
                    status__in=["queued", "starting", "running"]
                ).count(),
            },
        )

    def reinstate_view(self, request, object_id: str):
        agent = self._agent(request, object_id)
        if request.method != "POST":
            return HttpResponseRedirect(self._change_url(agent))
        try:
            agent_reactivate(agent=agent, by=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"{agent.name} is active again.", messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(agent))


@admin.register(AgentEvent)
class AgentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only status history of every agent (read-only)."""

    list_display = ["created_at", "agent", "kind", "from_status", "to_status", "version", "actor"]
    list_filter = ["kind", "to_status", "created_at"]
    search_fields = ["agent__slug", "agent__name", "reason", "actor__email"]
    list_select_related = ["agent", "version", "actor"]


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
