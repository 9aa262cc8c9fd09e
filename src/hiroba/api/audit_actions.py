"""Audit action names of the API."""

TOKEN_CREATE = "api.token_create"
TOKEN_REVOKE = "api.token_revoke"
TOKEN_USE = "api.token_use"
TOKEN_REFUSED = "api.token_refused"
WEBHOOK_CREATE = "api.webhook_create"
WEBHOOK_DISABLE = "api.webhook_disable"
