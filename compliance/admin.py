"""Geo-fencing rules, anonymizer lists, anonymized-access approvals and the access-decision log.

Saving or deleting a rule or a range reaches every process within
COMPLIANCE_RULES_RECHECK_SECONDS (compliance/geo.py); nothing else needs to happen.
"""

from django.contrib import admin, messages
from django.utils import timezone

from compliance.models import (
    AccessDecisionLog,
    AnonymizedAccessApproval,
    CountryRule,
    IpRange,
    IpRangeList,
)


@admin.register(CountryRule)
class CountryRuleAdmin(admin.ModelAdmin):
    list_display = [
        "country",
        "blocked",
        "max_transaction_usd",
        "min_kyc_level",
        "reviewable",
        "updated_at",
    ]
    list_filter = ["blocked", "reviewable", "min_kyc_level"]
    search_fields = ["country", "reason", "note"]
    filter_horizontal = ["blocked_categories"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (None, {"fields": ["country", "blocked", "reason"]}),
        ("Limits", {"fields": ["blocked_categories", "max_transaction_usd", "min_kyc_level"]}),
        ("Review", {"fields": ["reviewable", "note", "updated_at"]}),
    ]
    actions = ["mark_reviewed"]

    @admin.action(description="Mark as reviewed by the operator")
    def mark_reviewed(self, request, queryset) -> None:
        for rule in queryset:  # save() per row so the rules version is bumped
            rule.reviewable = False
            rule.save(update_fields=["reviewable", "updated_at"])
        self.message_user(request, f"{queryset.count()} rule(s) marked as reviewed.")


class IpRangeInline(admin.TabularInline):
    model = IpRange
    extra = 1
    fields = ["cidr"]


@admin.register(IpRangeList)
class IpRangeListAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "active", "range_count", "updated_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]
    inlines = [IpRangeInline]

    @admin.display(description="ranges")
    def range_count(self, obj) -> int:
        return obj.ranges.count()


@admin.register(IpRange)
class IpRangeAdmin(admin.ModelAdmin):
    list_display = ["cidr", "list"]
    list_filter = ["list"]
    search_fields = ["cidr"]


@admin.register(AnonymizedAccessApproval)
class AnonymizedAccessApprovalAdmin(admin.ModelAdmin):
    list_display = ["user", "decision", "ip", "created_at", "decided_by", "decided_at"]
    list_filter = ["decision"]
    search_fields = ["user__email", "reason"]
    autocomplete_fields = ["user"]
    readonly_fields = ["decided_by", "decided_at", "created_at", "ip"]
    fields = ["user", "decision", "reason", "ip", "created_at", "decided_by", "decided_at"]
    actions = ["approve", "reject"]

    def save_model(self, request, obj, form, change) -> None:
        if "decision" in form.changed_data or not change:
            obj.decided_by = request.user if obj.decision != obj.Decision.PENDING else None
            obj.decided_at = timezone.now() if obj.decision != obj.Decision.PENDING else None
        super().save_model(request, obj, form, change)

    def _decide(self, request, queryset, decision: str) -> None:
        count = queryset.update(
            decision=decision, decided_by=request.user, decided_at=timezone.now()
        )
        self.message_user(request, f"{count} request(s) {decision}.", messages.SUCCESS)

    @admin.action(description="Approve anonymized access")
    def approve(self, request, queryset) -> None:
        self._decide(request, queryset, AnonymizedAccessApproval.Decision.APPROVED)

    @admin.action(description="Reject anonymized access")
    def reject(self, request, queryset) -> None:
        self._decide(request, queryset, AnonymizedAccessApproval.Decision.REJECTED)


@admin.register(AccessDecisionLog)
class AccessDecisionLogAdmin(admin.ModelAdmin):
    list_display = ["time", "ip", "country", "point", "decision", "code", "category", "path"]
    list_filter = ["decision", "point", "code", "anonymized", "country"]
    search_fields = ["ip", "path", "reason"]
    date_hierarchy = "time"
    list_per_page = 100

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
