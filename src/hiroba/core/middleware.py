"""Request id and client address for every request, so audit entries can name them; refusal of
input that is not UTF-8; no caching of staff pages."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from hiroba.core import request_context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind `HIROBA_PROXY_COUNT` reverse proxies the
    address the outermost of them saw (X-Forwarded-For, counted from the right, where each
    trusted proxy appended). The audit log, the sign-in lock-out and the rate limits all use it."""
    proxies = getattr(settings, "HIROBA_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR") or None


def request_id_of(request: HttpRequest) -> str:
    """The id nginx gave the request (X-Request-ID, when well formed), or a fresh one."""
    incoming = request.headers.get("X-Request-ID", "")
    return incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_context.activate(
            request_context.RequestContext(request_id=request_id, ip_address=client_ip(request))
        )
        try:
            response = self.get_response(request)
            self._backstop(request, response)
        finally:
            request_context.deactivate(token)
        response["X-Request-ID"] = request_id
        return response

    @staticmethod
    def _backstop(request: HttpRequest, response: HttpResponse) -> None:
        """A staff write that reached no service's audit call is still recorded, by URL.

        Services record rich entries (before/after values); this guarantees that no staff
        write — in a third-party view, or a future view that forgot — goes unrecorded.
        """
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or response.status_code >= 400:
            return
        user = getattr(request, "user", None)
        if not (user is not None and user.is_authenticated and getattr(user, "is_staff_member", False)):
            return
        if request_context.audit_writes():
            return
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "set_language":
            return  # a display preference, not a write
        from hiroba.core import audit

        audit.record(actor=user, action=audit.AuditAction.HTTP_WRITE, object_type="url", object_repr=request.path[:300],
                     changes={"method": request.method, "status": response.status_code})


def _is_utf8(raw: bytes) -> bool:
    """Raw bytes and their percent-decoded form both UTF-8 (a form's body or a query string)."""
    try:
        raw.decode("utf-8")
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class RejectUndecodableInputMiddleware:
    """A query string or form that is not UTF-8 is answered 400 with the Japanese page.

    Django decodes undecodable bytes as Latin-1 (raw) or U+FFFD (percent-encoded): a resident's
    text would be stored as mojibake. Nothing reaches a view, so nothing is stored.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._readable(request):
            from hiroba.core.views import bad_request

            return bad_request(request, reason="encoding")
        return self.get_response(request)

    @staticmethod
    def _readable(request: HttpRequest) -> bool:
        query = request.META.get("QUERY_STRING", "")
        if query and not _is_utf8(query.encode("iso-8859-1", errors="replace")):
            return False
        if request.method not in ("POST", "PUT", "PATCH"):
            return True
        content_type = request.content_type or ""
        if content_type == "application/x-www-form-urlencoded":
            return _is_utf8(request.body)
        if content_type == "multipart/form-data":
            # The multipart parser turns undecodable field bytes into U+FFFD; files are left alone.
            return not any("\ufffd" in key or any("\ufffd" in v for v in values)
                           for key, values in request.POST.lists())
        return True


class StaffNoStoreMiddleware:
    """Pages of the staff area (and admin) are never kept by a browser or a proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(("/staff/", "/admin/")):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
