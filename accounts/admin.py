from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import ApiToken, DeveloperProfile, User
from compliance.audit.mixins import AuditedAdminMixin


class DeveloperProfileInline(admin.StackedInline):
    model = DeveloperProfile
    extra = 0
    can_delete = False
    prepopulated_fields = {"slug": ("display_name",)}


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = [
        "email",
        "display_name",
        "role_label",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "theme", "notifications", "date_joined"]
    search_fields = ["email", "display_name", "developer_profile__display_name"]
    readonly_fields = ["last_login", "date_joined"]
    inlines = [DeveloperProfileInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "theme", "notifications")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    @admin.display(description="Role")
    def role_label(self, user: User) -> str:
        return user.role.label

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("developer_profile")


@admin.register(DeveloperProfile)
class DeveloperProfileAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "display_name",
        "user",
        "verified",
        "payout_address",
        "agent_count",
        "created_at",
    ]
    list_filter = ["verified", "created_at"]
    search_fields = ["display_name", "slug", "user__email", "payout_address"]
    prepopulated_fields = {"slug": ("display_name",)}
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    actions = ["mark_verified"]

    @admin.display(description="Agents")
    def agent_count(self, profile: DeveloperProfile) -> int:
        return profile.agents.count()

    @admin.action(description="Mark selected developers as verified")
    def mark_verified(self, request, queryset) -> None:
        profiles = list(queryset.filter(verified=False))
        for profile in profiles:
            profile.verified = True
            profile.save(update_fields=["verified"])  # post_save refreshes cached listings
        self.message_user(request, f"{len(profiles)} developer(s) marked verified.")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["created_at", "revoked_at"]
    search_fields = ["name", "prefix", "user__email"]
    readonly_fields = ["user", "name", "prefix", "token_hash", "created_at", "last_used_at"]
    list_select_related = ["user"]

    def has_add_permission(self, request) -> bool:
        return False  # Tokens are created by their owner, who alone sees the plaintext.
