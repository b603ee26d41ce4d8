"""`AuditedAdminMixin`: admin additions, changes, deletions and actions go to the audit trail."""

from __future__ import annotations

from compliance.audit.services import audit_record


class AuditedAdminMixin:
    """Records every admin addition, change, deletion and bulk action in the audit trail.

    Put it first in the bases: `class UserAdmin(AuditedAdminMixin, DjangoUserAdmin)`. Django's own
    LogEntry is still written. Entries name the model and primary key and the changed field
    names (Django's change message), never field values or the object's text, so they hold no
    personal data when a user is later erased.
    """

    def _audit(self, request, action: str, obj, **data) -> None:
        audit_record(
            actor=request.user,
            action=action,
            obj=obj,
            data={"model": self.model._meta.label_lower, **data},
        )

    def log_addition(self, request, obj, message):
        result = super().log_addition(request, obj, message)
        self._audit(request, "admin.add", obj, message=message)
        return result

    def log_change(self, request, obj, message):
        result = super().log_change(request, obj, message)
        self._audit(request, "admin.change", obj, message=message)
        return result

    def log_deletions(self, request, queryset):
        objects = list(queryset)
        result = super().log_deletions(request, objects)
        for obj in objects:
            self._audit(request, "admin.delete", obj)
        return result

    def get_actions(self, request):
        actions = super().get_actions(request)
        for name, (func, action_name, description) in list(actions.items()):
            if name == "delete_selected":  # recorded per object by log_deletions
                continue
            actions[name] = (_audited_action(func, name), action_name, description)
        return actions


def _audited_action(func, name: str):
    def action(modeladmin, request, queryset):
        ids = [str(pk) for pk in queryset.values_list("pk", flat=True)[:1000]]
        response = func(modeladmin, request, queryset)
        audit_record(
            actor=request.user,
            action="admin.action",
            data={"model": modeladmin.model._meta.label_lower, "action": name, "ids": ids},
        )
        return response

    action.__name__ = getattr(func, "__name__", name)
    return action
