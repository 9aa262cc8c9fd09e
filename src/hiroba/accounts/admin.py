from __future__ import annotations

from django.contrib import admin

from hiroba.accounts.models import StaffMembership, User
from hiroba.core.admin import AuditedModelAdmin


class MembershipInline(admin.TabularInline):
    model = StaffMembership
    extra = 0


@admin.register(User)
class UserAdmin(AuditedModelAdmin):
    list_display = ["email", "display_name", "kind", "is_active", "last_login", "departed_on"]
    list_filter = ["kind", "is_active"]
    search_fields = ["email", "display_name", "staff_number"]
    exclude = ["password", "user_permissions", "groups"]
    readonly_fields = ["last_login", "date_joined", "password_changed_at"]
    inlines = [MembershipInline]
