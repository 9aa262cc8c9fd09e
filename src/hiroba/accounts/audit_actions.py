"""Labels of the accounts' audit actions (core.audit_labels)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LABELS = {
    "accounts.staff_create": _("職員アカウントの作成"),
    "accounts.membership_grant": _("所属・役割の付与"),
    "accounts.staff_depart": _("職員の異動・退職"),
}
