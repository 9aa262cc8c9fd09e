"""Rate limits on public writes, counted in the shared cache.

Each scope (``"consultations.submit"``, ``"workshops.apply"``, …) has one or more rates in
``settings.HIROBA_RATE_LIMITS``, written like allauth's: ``"20/10m/ip,10/h/key"`` — at most
20 attempts per address in each 10-minute window and 10 per identity (an e-mail address, a
verified subject, an account) in each hour. Windows are fixed: the counter's key holds the
window's number, so one atomic ``incr`` per rate is all a request costs (on Redis all the
rates of a request go in one pipelined round trip). The counters live in Redis when the cache
is Redis (``HIROBA_CACHE_URL``), and otherwise in the database every app server shares (the
table `core.RateCounter`, one atomic upsert per rate: Django's database cache cannot count
atomically, and its ``incr`` would reset a window's time-out), so a limit holds for the whole
site, not per process (see docs/operations.md).

A refused attempt gets ``429`` with ``Retry-After`` and the Japanese page ``429.html``. Staff
see what was refused (/staff/throttle/): the first refusal of an address or identity in a
window writes one audit entry (``throttle.refused``); every refusal adds to a per-scope, per-day
counter in the cache. A flood therefore writes one row per blocked key and window, never one per
request.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache, wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from hiroba.core.middleware import client_ip
from hiroba.core.models import RateCounter

_RATE = re.compile(r"^(\d+)/(\d*)([smhd])/(ip|key)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PREFIX = "hiroba:rl"
REFUSED_DAYS = 8  # how long the per-day refusal counters are kept in the cache


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int
    per: str  # "ip" (the client address) or "key" (the identity the form names)
    text: str


@lru_cache(maxsize=256)
def parse(spec: str) -> tuple[Rate, ...]:
    """``"20/10m/ip,10/h/key"`` → its rates; ImproperlyConfigured on anything else."""
    rates = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        match = _RATE.match(part)
        if not match:
            raise ImproperlyConfigured(
                f"rate limit {part!r}: write it as COUNT/PERIOD/ip or COUNT/PERIOD/key, e.g. 20/10m/ip or 5/h/key")
        count, n, unit, per = match.groups()
        rates.append(Rate(limit=int(count), seconds=int(n or 1) * _UNIT[unit], per=per, text=part))
    return tuple(rates)


def rates(scope: str) -> tuple[Rate, ...]:
    try:
        spec = settings.HIROBA_RATE_LIMITS[scope]
    except KeyError:
        raise ImproperlyConfigured(f"no rate limit for {scope!r} in HIROBA_RATE_LIMITS") from None
    return parse(spec)


@dataclass(frozen=True)
class Refusal:
    scope: str
    rate: Rate
    retry_after: int  # seconds until the window that refused ends


def _digest(identity: str) -> str:
    # Addresses and e-mail addresses are not kept in the cache as they are.
    return hashlib.blake2b(identity.strip().lower().encode(), key=settings.SECRET_KEY.encode()[:64],
                           digest_size=16).hexdigest()


def _on_redis() -> bool:
    from django.core.cache.backends.redis import RedisCache

    return isinstance(cache, RedisCache)


def _incr_many(keys: list[tuple[str, int]]) -> list[int]:
    """Add one to each counter (creating it with its time-out); the new counts. Atomic across
    processes and app servers, and a counter keeps the time-out its window gave it."""
    from django.core.cache.backends.redis import RedisCache

    if isinstance(cache, RedisCache):
        # One round trip for all of them: INCR creates a missing key at 1; EXPIRE NX only sets
        # the time-out on the first hit of the window.
        made = [(cache.make_and_validate_key(key), ttl) for key, ttl in keys]
        pipeline = cache._cache.get_client(made[0][0], write=True).pipeline(transaction=False)
        for key, ttl in made:
            pipeline.incr(key)
            pipeline.expire(key, ttl, nx=True)
        results = pipeline.execute()
        return [int(n) for n in results[::2]]
    return [_incr_in_database(key, ttl) for key, ttl in keys]


def _incr_in_database(key: str, ttl: int) -> int:
    """One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite ≥ 3.35, PostgreSQL): the
    count after this attempt. A row whose window has ended starts again from 1."""
    now = timezone.now()
    qn = connection.ops.quote_name
    table, k, n, exp = qn(RateCounter._meta.db_table), qn("key"), qn("count"), qn("expires_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({k}, {n}, {exp}) VALUES (%s, 1, %s) "  # nosec B608
            f"ON CONFLICT ({k}) DO UPDATE SET "
            f"{n} = CASE WHEN {table}.{exp} < %s THEN 1 ELSE {table}.{n} + 1 END, "
            f"{exp} = CASE WHEN {table}.{exp} < %s THEN excluded.{exp} ELSE {table}.{exp} END "
            f"RETURNING {n}",
            [key, now + timedelta(seconds=ttl), now, now],
        )
        count = int(cursor.fetchone()[0])
    if count == 1 and zlib.crc32(key.encode()) % 64 == 0:  # now and then, forget ended windows
        RateCounter.objects.filter(expires_at__lt=now - timedelta(minutes=5)).delete()
    return count


def _count_in_database(keys: list[str]) -> dict[str, int]:
    now = timezone.now()
    return dict(RateCounter.objects.filter(key__in=keys, expires_at__gte=now).values_list("key", "count"))


def check(request: HttpRequest, scope: str, *, key: str | None = None) -> Refusal | None:
    """Count one attempt in `scope` for the client's address and, when given, the identity `key`.

    None when every rate still allows it; otherwise the refusal with the longest wait. The
    attempt is counted either way, so a client that keeps trying stays refused until its window
    ends.
    """
    now = time.time()
    counters: list[tuple[Rate, str, int]] = []
    for rate in rates(scope):
        identity = client_ip(request) if rate.per == "ip" else key
        if not identity:
            continue
        window = int(now // rate.seconds)
        remaining = max(1, math.ceil((window + 1) * rate.seconds - now))
        counters.append((rate, f"{PREFIX}:{scope}:{rate.per}:{rate.seconds}:{window}:{_digest(identity)}",
                         remaining))
    if not counters:
        return None
    counts = _incr_many([(name, remaining + 1) for _, name, remaining in counters])
    over = [(rate, remaining, n) for (rate, _, remaining), n in zip(counters, counts, strict=True) if n > rate.limit]
    if not over:
        return None
    rate, remaining, _ = max(over, key=lambda o: o[1])
    refusal = Refusal(scope=scope, rate=rate, retry_after=remaining)
    _note(request, refusal, first=[r for r, _, n in over if n == r.limit + 1])
    return refusal


def _refused_key(scope: str, day: date) -> str:
    return f"{PREFIX}:refused:{scope}:{day.isoformat()}"


def _note(request: HttpRequest, refusal: Refusal, *, first: list[Rate]) -> None:
    """Count the refusal for the staff page; the first one of a key in its window is audited."""
    _incr_many([(_refused_key(refusal.scope, timezone.localdate()), REFUSED_DAYS * 86400)])
    if first:
        from hiroba.core import audit

        user = getattr(request, "user", None)
        audit.record_pending(
            actor=user if user is not None and user.is_authenticated else "anonymous",
            action=audit.AuditAction.THROTTLE_REFUSED, object_type="rate_limit", object_repr=refusal.scope,
            changes={"scope": refusal.scope, "limits": [r.text for r in first], "path": request.path[:200],
                     "retry_after": refusal.retry_after},
        )


def refused_counts(scopes: list[str], days: int = 7) -> list[tuple[date, dict[str, int]]]:
    """Refused attempts per day and scope, newest day first (as long as the cache keeps them)."""
    today = timezone.localdate()
    result = []
    for back in range(days):
        day = today - timedelta(days=back)
        names = [_refused_key(s, day) for s in scopes]
        values = cache.get_many(names) if _on_redis() else _count_in_database(names)
        result.append((day, {s: int(values.get(_refused_key(s, day), 0)) for s in scopes}))
    return result


def too_many(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """429 with Retry-After and the Japanese page."""
    minutes = max(1, math.ceil(refusal.retry_after / 60))
    response = render(request, "429.html", {"retry_after": refusal.retry_after, "minutes": minutes}, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def throttle(scope: str, *, key: Callable[..., str | None] | None = None,
             when: Callable[[HttpRequest], bool] | None = None) -> Callable[[Callable[..., HttpResponse]],
                                                                        Callable[..., HttpResponse]]:
    """Decorate a view: each POST (for which `when(request)` holds) counts in `scope`, per address
    and per `key(request, **view_kwargs)` (the identity the form names: an e-mail address, an
    account); over the limit the view is not run and the client gets `too_many`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST" and (when is None or when(request)):
                refusal = check(request, scope, key=key(request, **kwargs) if key else None)
                if refusal is not None:
                    return too_many(request, refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def posted(field: str) -> Callable[..., str | None]:
    """A key function: the posted value of `field` (an e-mail address, say), normalised."""

    def key(request: HttpRequest, **_: Any) -> str | None:
        value = request.POST.get(field, "").strip().lower()
        return f"{field}:{value}" if value else None

    return key


def account(request: HttpRequest, **_: Any) -> str | None:
    """A key function: the signed-in account."""
    user = getattr(request, "user", None)
    return f"user:{user.pk}" if user is not None and user.is_authenticated else None
