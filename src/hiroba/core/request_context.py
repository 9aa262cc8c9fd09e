"""Who is acting, from where, in which request: set by middleware, read by the audit log."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None


_current: ContextVar[RequestContext] = ContextVar("hiroba_request_context", default=RequestContext())  # noqa: B039 (frozen)
# How many audit entries the current request has written (a one-item list, so it can be bumped).
_writes: ContextVar[list[int] | None] = ContextVar("hiroba_request_audit_writes", default=None)


def current() -> RequestContext:
    return _current.get()


def activate(context: RequestContext):  # type: ignore[no-untyped-def]
    return _current.set(context), _writes.set([0])


def deactivate(tokens) -> None:  # type: ignore[no-untyped-def]
    _current.reset(tokens[0])
    _writes.reset(tokens[1])


def note_audit_write() -> None:
    counter = _writes.get()
    if counter is not None:
        counter[0] += 1


def audit_writes() -> int:
    counter = _writes.get()
    return counter[0] if counter is not None else 0
