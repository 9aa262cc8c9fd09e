"""The API's machinery: one error format, token authentication, the shared rate limits, cursor
pagination and the licence every response carries. No business rule lives here."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from django.core import signing
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle
from pydantic import ConfigDict

from hiroba.api import audit_actions, conf, tokens
from hiroba.api.models import ApiToken
from hiroba.core import audit, throttle

CURSOR_SALT = "hiroba.api.cursor"


class ApiError(Exception):
    """A refusal with its HTTP status, rendered in the one error format."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.details = status, code, message, field, details


def error_body(code: str, message: str, field: str | None = None,
               details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``{"error": {"code", "message"[, "field"][, "details"]}}`` — every 4xx the API gives."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    if details:
        error["details"] = details
    return {"error": error}


# --- schemas shared by every router -------------------------------------------------------------

class Strict(Schema):
    """Request bodies: a field the API does not know is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class License(Schema):
    name: str
    url: str


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None
    details: list[dict[str, Any]] | None = None


class ErrorOut(Schema):
    error: ErrorDetail


ERRORS = {400: ErrorOut, 404: ErrorOut, 429: ErrorOut}
STAFF_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


def licensed(**fields: Any) -> dict[str, Any]:
    return {"license": conf.license_info(), **fields}


# --- pagination -------------------------------------------------------------------------------

def _decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        value = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        value = None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ApiError(400, "invalid_cursor", _("cursor が正しくありません。前の応答の next_cursor をそのまま指定してください。"),
                       field="cursor")
    return value


def _encode(value: int) -> str:
    return signing.dumps(value, salt=CURSOR_SALT, compress=False)


def page(items: QuerySet[Any] | Sequence[Any], *, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """One page and the cursor of the next (None on the last page).

    A queryset is paged by its primary key (keyset: stable while rows are added, ordered by pk),
    a list by position. The cursor is signed, so a cursor the API did not give is refused."""
    after = _decode(cursor)
    if isinstance(items, QuerySet):
        rows = list(items.filter(pk__gt=after).order_by("pk")[: limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (_encode(rows[-1].pk) if more and rows else None)
    rows = list(items[after: after + limit + 1])
    more = len(rows) > limit
    return rows[:limit], (_encode(after + limit) if more else None)


# --- authentication and limits ---------------------------------------------------------------

class TokenAuth(HttpBearer):
    """``Authorization: Bearer hiroba_…``: a live staff token; every use is audited with its id."""

    def __call__(self, request: HttpRequest) -> Any:
        if not request.headers.get("Authorization"):
            raise ApiError(401, "token_required", _("APIトークンを Authorization: Bearer で指定してください。"))
        result = super().__call__(request)
        if result is None:
            raise ApiError(401, "token_required", _("APIトークンを Authorization: Bearer で指定してください。"))
        return result

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        try:
            found = tokens.find(token)
        except tokens.TokenRefused as exc:
            known = ApiToken.objects.filter(prefix=(token.split("_") + ["", ""])[1]).first()
            if known is not None and exc.code in ("token_revoked", "token_expired", "token_owner_inactive"):
                audit.record_pending(actor=known.user, action=audit_actions.TOKEN_REFUSED, obj=known, changes={
                    "token_id": known.pk, "reason": exc.code, "method": request.method, "path": request.path[:200]})
            raise ApiError(401, exc.code, exc.message) from None
        tokens.record_use(found, method=request.method or "", path=request.path)
        return found


_refusals = threading.local()


class SharedThrottle(BaseThrottle):
    """hiroba's own rate limits (hiroba.core.throttle): counted in the shared cache for the whole
    site, refusals audited once per window. Staff tokens count per token as well as per address."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def allow_request(self, request: HttpRequest) -> bool:
        token = getattr(request, "auth", None)
        key = f"token:{token.pk}" if isinstance(token, ApiToken) else None
        refusal = throttle.check(request, self.scope, key=key)
        _refusals.wait = refusal.retry_after if refusal else None
        return refusal is None

    def wait(self) -> float | None:
        return getattr(_refusals, "wait", None)


def grant(request: HttpRequest, module: str, *, write: bool = False) -> tokens.Grant:
    try:
        return tokens.authorise(request.auth, module=module, write=write)  # type: ignore[attr-defined]
    except tokens.ServiceError as exc:
        raise ApiError(403, exc.code, exc.message) from None
