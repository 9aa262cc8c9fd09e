"""Django admin: configuration and repair for system administrators only. Every write audited."""

from __future__ import annotations

from typing import Any

import rules
from django.contrib import admin
from django.http import HttpRequest

from hiroba.core import audit
from hiroba.core.audit import AuditAction
from hiroba.core.models import AuditEntry, Department, Notification

#: The django-rules rule that opens the admin's audited models. hiroba.accounts.rules grants it to
#: system administrators (システム管理者); core names no app, and without the rule nobody passes.
ADMIN_RULE = "core.use_admin"


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletions land in the audit log with before/after values."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        audit.record(actor=request.user, action=AuditAction.ADMIN_CHANGE if change else AuditAction.ADMIN_ADD, obj=obj,
                     changes=audit.diff(before, audit.snapshot(obj)))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Inline rows (e.g. a staff member's departments and roles on the user's page): each row
        added, changed or deleted gets its own entry with before/after values, naming the parent."""
        model = formset.model
        pks = [f.instance.pk for f in formset.forms if f.instance.pk is not None]
        # The forms' instances already hold the posted values: read the stored ones.
        before = {obj.pk: audit.snapshot(obj) for obj in model._default_manager.filter(pk__in=pks)}
        # Deleting clears an instance's pk: note which rows go, and how they read, beforehand.
        deleting = [(f.instance.pk, str(f.instance)) for f in formset.deleted_forms if f.instance.pk in before]
        super().save_formset(request, form, formset, change)
        parent = {"parent": f"{form.instance._meta.label_lower}:{form.instance.pk}"}
        for obj in formset.new_objects:
            audit.record(actor=request.user, action=AuditAction.ADMIN_ADD, obj=obj,
                         changes={**audit.diff({}, audit.snapshot(obj)), **parent})
        for obj, _fields in formset.changed_objects:
            changes = audit.diff(before.get(obj.pk, {}), audit.snapshot(obj))
            if changes:
                audit.record(actor=request.user, action=AuditAction.ADMIN_CHANGE, obj=obj,
                             changes={**changes, **parent})
        for pk, label in deleting:
            audit.record(actor=request.user, action=AuditAction.ADMIN_DELETE, object_type=model._meta.label_lower,
                         object_id=pk, object_repr=label, changes={**audit.diff(before[pk], {}), **parent})

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before = audit.snapshot(obj)
        audit.record(actor=request.user, action=AuditAction.ADMIN_DELETE, obj=obj, changes=audit.diff(before, {}))
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(rules.has_perm(ADMIN_RULE, request.user))

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record the admin shows and never changes (the audit chain, the outbox)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred_at", "actor_label", "action", "object_type", "object_repr", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_label", "object_repr", "request_id"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """What was sent, to whom, when, and what failed (read only: the outbox is written by
    `core.notify` and changed only by its delivery)."""

    list_display = ["id", "created_at", "template", "recipient", "state", "attempts", "sent_at", "last_error"]
    list_filter = ["state", "template"]
    search_fields = ["recipient", "subject", "object_type", "object_id"]
    readonly_fields = [f.name for f in Notification._meta.fields]
