"""Names of the accounts' audit actions, and their labels (core.audit_labels)."""

from __future__ import annotations

from typing import Final

from django.utils.translation import gettext_lazy as _

STAFF_CREATE: Final = "accounts.staff_create"
MEMBERSHIP_GRANT: Final = "accounts.membership_grant"
STAFF_DEPART: Final = "accounts.staff_depart"
# The stored verification (本人確認). The names are the ones from when only the proposals app
# stored verifications: the log's earlier entries keep meaning the same thing.
VERIFICATION_RECORD: Final = "proposals.voter_verify"
VERIFICATION_LINK: Final = "proposals.voter_link"
VERIFICATION_REVOKE: Final = "proposals.voter_revoke"

LABELS = {
    STAFF_CREATE: _("職員アカウントの作成"),
    MEMBERSHIP_GRANT: _("所属・役割の付与"),
    STAFF_DEPART: _("職員の異動・退職"),
    VERIFICATION_RECORD: _("本人確認の記録"),
    VERIFICATION_LINK: _("本人確認とアカウントの紐付け"),
    VERIFICATION_REVOKE: _("本人確認の取消し"),
}
