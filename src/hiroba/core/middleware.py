"""Request id and client address for every request, so audit entries can name them."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable

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


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
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

        audit.record(actor=user, action="http.write", object_type="url", object_repr=request.path[:300],
                     changes={"method": request.method, "status": response.status_code})
