"""The whole-page cache for what many residents read at once (issue 20): a public page marked
with `@pagecache.public_page("<scope>")` is kept in the shared cache (the default alias: the
database cache, or Redis with HIROBA_CACHE_URL) and served from it to anonymous readers.

The key is the scheme, host, path and query, the language the reader would be served and
today's date (a period opens and closes by the day); the entry carries the *generation* of the
page's scope it was rendered under, and a hit needs it to be the current one (both read in one
round trip, `get_many`). Every service that changes what such a page shows calls
`pagecache.invalidate("<scope>")`: the generation becomes a fresh random token at once and again
after the commit, so no reader is served a page older than a publication once it has committed
(a token rather than `cache.incr`: the database cache's incr is a read and a write, and two bumps
could land on the same number). A page rendered while the change was in flight carries the
generation it read before rendering, which the bump after the commit has left behind.

Only what is the same for every anonymous reader is kept: a GET (or HEAD) without a session or a
messages cookie, answered 200 without Set-Cookie, without a CSRF token or a CSP nonce, not marked
private or no-store, varying on nothing but Accept-Language and Cookie (both in the key). A
signed-in reader always gets the page rendered for them. The middleware is the first of
MIDDLEWARE: a hit is answered before sessions, CSRF, the locale, the CSP, the request id and the
metrics middleware run, so the entry keeps every header the whole stack gave the page (security
headers, HSTS on https, CSP, Content-Language, Vary) but the request id, which each hit gets
afresh, and the hit is counted in the request metrics here. `Cache-Control: public,
max-age=HIROBA_PAGECACHE_MAX_AGE` lets a browser keep it briefly, `Vary: Accept-Language, Cookie`
keeps a shared proxy from mixing readers.

In production a hit does not even reach Django's handler: `WSGIFront`, the application of
hiroba.wsgi, makes the same lookup (`look_up`, the one implementation of the key, the language and
the anonymity test) and answers a hit with `start_response` itself, without Django's signals, its
connection checks or the middleware chain (ADR 0021); a miss goes on to Django with the lookup in
the environ, and the middleware stores the page without looking again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import parse_http_date_safe

from hiroba.core import health
from hiroba.core.middleware import request_id_of

V = TypeVar("V", bound=Callable[..., Any])
logger = logging.getLogger(__name__)

ATTRIBUTE = "pagecache_scope"
STATUS_HEADER = "X-Hiroba-Cache"  # hit / miss, for the benchmark and operators' curl
REQUEST_ID_HEADER = "X-Request-ID"
_PER_REQUEST = {STATUS_HEADER, REQUEST_ID_HEADER}  # never stored: each reader gets its own
_SAFE = {"GET", "HEAD"}
_CSP_HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")
_VARY_KEYED = {"accept-language", "cookie"}
_COMMAS = re.compile(r"\s*,\s*")
_GENERATION = "pagecache:gen:{scope}"
# The WSGI front's lookup, kept in the environ for the middleware (no header can name it: those are HTTP_*).
LOOKED_UP = "hiroba.pagecache.lookup"
# The entries' format: the headers of the whole stack (v2, since the middleware is the first);
# an entry stored by the previous release (without the security headers) is never replayed.
_FORMAT = "v2"
_TARGETS: dict[tuple[str, str], tuple[str, str] | None] = {}
_TARGETS_KEPT = 4096


def public_page(scope: str) -> Callable[[V], V]:
    """Mark a public view whose anonymous GETs may be served from the page cache; `scope` names
    the data it shows (its app), which the services changing that data invalidate."""

    def mark(view: V) -> V:
        setattr(view, ATTRIBUTE, scope)
        return view

    return mark


def _bump(scope: str) -> None:
    cache.set(_GENERATION.format(scope=scope), secrets.token_hex(8), None)


def invalidate(scope: str) -> None:
    """Every cached page of `scope` is left behind: now, and once more when the current
    transaction commits (a reader between the two may have rendered the old rows)."""
    _bump(scope)
    transaction.on_commit(lambda: _bump(scope))


def _fresh_generation(key: str) -> str:
    """First use, or culled: any fresh token will do (another process may have set one first)."""
    cache.add(key, secrets.token_hex(8), None)
    return str(cache.get(key) or "")


def seconds() -> int:
    return int(getattr(settings, "HIROBA_PAGECACHE_SECONDS", 0))


def _anonymous(request: HttpRequest) -> bool:
    cookies = request.COOKIES
    return (settings.SESSION_COOKIE_NAME not in cookies and getattr(settings, "MESSAGES_COOKIE_NAME", "messages")
            not in cookies and "HTTP_AUTHORIZATION" not in request.META)


def page_key(request: HttpRequest, scope: str) -> str:
    language = translation.get_language_from_request(request)
    parts = [_FORMAT, scope, request.scheme or "", request.get_host(), request.get_full_path(), language,
             timezone.localdate().isoformat()]
    return "pagecache:page:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _redirected(request: HttpRequest) -> bool:
    """SecurityMiddleware sends this reader to https:// (below: never answered from the cache)."""
    return bool(settings.SECURE_SSL_REDIRECT) and not request.is_secure()


def _target(path: str) -> tuple[str, str] | None:
    """(scope, view name) of the marked view at `path`, None for any other: resolved once per
    address and URLconf (resolving walks the patterns; the answer depends on nothing else)."""
    memo = (str(settings.ROOT_URLCONF), path)
    if memo in _TARGETS:
        return _TARGETS[memo]
    try:
        match = resolve(path)
    except Resolver404:
        target = None
    else:
        scope = getattr(match.func, ATTRIBUTE, None)
        target = None if scope is None else (scope, match.view_name or "unmatched")
    if len(_TARGETS) >= _TARGETS_KEPT:  # a crawler's made-up addresses: start again
        _TARGETS.clear()
    _TARGETS[memo] = target
    return target


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if any("'nonce-" in response.get(name, "") for name in _CSP_HEADERS):  # a nonce is for one reader
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):  # a form's token is in the page
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    control = {part.split("=")[0].strip().lower() for part in _COMMAS.split(response.get("Cache-Control", ""))}
    if control & {"private", "no-store", "no-cache"}:
        return False
    vary = {part.strip().lower() for part in _COMMAS.split(response.get("Vary", "")) if part.strip()}
    return vary <= _VARY_KEYED


def _replay(request: HttpRequest, headers: list[tuple[str, str]], content: bytes) -> HttpResponse:
    """The stored page; 304 when the reader's ETag / Last-Modified still match (a calendar app)."""
    response = HttpResponse(content)
    for name, value in headers:
        response[name] = value
    response[STATUS_HEADER] = "hit"
    etag, modified = response.get("ETag"), parse_http_date_safe(response.get("Last-Modified", ""))
    if etag or modified:
        return get_conditional_response(request, etag=etag, last_modified=modified, response=response) or response
    return response


@dataclass(frozen=True, slots=True)
class Lookup:
    """One reader's look in the cache: the entry's key, the scope's current generation, the
    view's name for the metrics, when the request began, and the answer on a hit (None: a miss)."""

    key: str
    generation: str
    view_name: str
    started: float
    hit: HttpResponse | None


def look_up(request: HttpRequest, started: float) -> Lookup | None:
    """The one lookup of a reader's page, for the WSGI front and the middleware alike: None when
    the request is not for the cache (a write, a signed-in reader, another page, the cache off or
    away); else the entry's key and current generation, read in one round trip, and the hit."""
    if request.method not in _SAFE or not seconds() or not _anonymous(request) or _redirected(request):
        return None
    target = _target(request.path_info)
    if target is None:
        return None
    scope, view_name = target
    try:
        key = page_key(request, scope)
    except DisallowedHost:  # refused below (SecurityMiddleware's 400), counted there
        return None
    generation_key = _GENERATION.format(scope=scope)
    try:
        found = cache.get_many([generation_key, key])  # before the view reads anything (see above)
        current = found.get(generation_key) or _fresh_generation(generation_key)
    except Exception:  # noqa: BLE001 (the cache away: the page is rendered as if it were off)
        logger.warning("page cache unavailable", exc_info=True)
        return None
    stored = found.get(key)
    if stored is None or stored[0] != current:
        return Lookup(key, current, view_name, started, None)
    response = _replay(request, stored[1], stored[2])
    response[REQUEST_ID_HEADER] = request_id_of(request)
    health.FIGURES.observe(view_name, request.method or "", response.status_code, time.perf_counter() - started)
    return Lookup(key, current, view_name, started, response)


def _store(request: HttpRequest, response: HttpResponse, lookup: Lookup) -> None:
    if not _storable(request, response):
        return
    if "max-age" not in response.get("Cache-Control", ""):  # a feed says its own
        patch_cache_control(response, public=True, max_age=int(getattr(settings, "HIROBA_PAGECACHE_MAX_AGE", 0)))
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    headers = [(k, v) for k, v in response.items() if k not in _PER_REQUEST]
    try:
        cache.set(lookup.key, (lookup.generation, headers, response.content), seconds())
    except Exception:  # noqa: BLE001 (not kept this time; the reader has the page)
        logger.warning("page cache unavailable", exc_info=True)
    response[STATUS_HEADER] = "miss"


class PageCacheMiddleware:
    """First in MIDDLEWARE: a hit is answered before any other middleware runs (no session, no
    CSRF, no locale, no CSP work), with the headers the whole stack gave the page when it was
    stored, a fresh X-Request-ID, and counted in the request metrics as the metrics middleware
    would have; everything else (misses, writes, signed-in readers) goes down the stack as is.
    Behind the WSGI front (`WSGIFront`, hiroba.wsgi) the lookup was made there, and only its
    misses reach this: their entry is stored here, with no second round trip."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if LOOKED_UP in request.META:  # the front's lookup of this very request
            lookup = request.META[LOOKED_UP]
        else:
            lookup = look_up(request, time.perf_counter())
        if lookup is None:
            return self.get_response(request)
        if lookup.hit is not None:
            return lookup.hit
        response = self.get_response(request)
        _store(request, response, lookup)
        return response


class WSGIFront:
    """In front of Django's WSGI application (hiroba.wsgi): a hit is answered here, from the same
    lookup as the middleware's (`look_up`), before Django's handler runs (no request_started /
    request_finished signals, no database connection check, no middleware chain); anything else
    goes to Django with the lookup kept in the environ, where the middleware stores a miss."""

    def __init__(self, application: Callable[..., Any]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") in _SAFE and seconds():
            started = time.perf_counter()
            try:
                lookup = look_up(WSGIRequest(environ), started)
            except Exception:  # noqa: BLE001 (Django answers it, with its own handling of the error)
                logger.warning("page cache lookup failed", exc_info=True)
            else:
                environ[LOOKED_UP] = lookup
                if lookup is not None and lookup.hit is not None:
                    response = lookup.hit
                    start_response(f"{response.status_code} {response.reason_phrase}", [*response.items()])
                    return [response.content]
        return self.application(environ, start_response)
