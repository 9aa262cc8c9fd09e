"""Django admin: configuration and repair for system administrators only. Every write audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hiroba.core import audit
from hiroba.core.models import AuditEntry, Department


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletions land in the audit log with before/after values."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        audit.record(actor=request.user, action="admin.change" if change else "admin.add", obj=obj,
                     changes=audit.diff(before, audit.snapshot(obj)))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before = audit.snapshot(obj)
        audit.record(actor=request.user, action="admin.delete", obj=obj, changes=audit.diff(before, {}))
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        from hiroba.accounts.permissions import is_system_admin

        return is_system_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


@admin.register(Department)
class DepartmentAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "parent", "is_active", "sort_order"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["seq", "occurred_at", "actor_label", "action", "object_type", "object_repr", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_label", "object_repr", "request_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
