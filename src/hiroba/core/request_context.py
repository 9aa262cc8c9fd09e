"""Who is acting, from where, in which request: set by middleware, read by the audit log."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None


_current: ContextVar[RequestContext] = ContextVar("hiroba_request_context", default=RequestContext())


def current() -> RequestContext:
    return _current.get()


def activate(context: RequestContext):  # type: ignore[no-untyped-def]
    return _current.set(context)


def deactivate(token) -> None:  # type: ignore[no-untyped-def]
    _current.reset(token)
