"""Audit action names of the API, and how the audit log names them."""

from django.utils.translation import gettext_lazy as _

TOKEN_CREATE = "api.token_create"
TOKEN_REVOKE = "api.token_revoke"
TOKEN_USE = "api.token_use"
TOKEN_REFUSED = "api.token_refused"
WEBHOOK_CREATE = "api.webhook_create"
WEBHOOK_DISABLE = "api.webhook_disable"

LABELS = {
    TOKEN_CREATE: _("API：トークンの発行"),
    TOKEN_REVOKE: _("API：トークンの失効"),
    TOKEN_USE: _("API：トークンの使用"),
    TOKEN_REFUSED: _("API：トークンの拒否"),
    WEBHOOK_CREATE: _("API：Webhook の登録"),
    WEBHOOK_DISABLE: _("API：Webhook の停止"),
}
