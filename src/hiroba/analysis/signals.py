"""Submission signals from metadata: bursts, reused identities, disposable e-mail.

Only opinions that carry the metadata take part; none of these is proof of anything, each
is a reason for a clerk to look (the report lists the ids).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hiroba.analysis.model import Opinion, id_key
from hiroba.analysis.normalize import fingerprint, normalize

__all__ = ["SignalParams", "DISPOSABLE_DOMAINS", "find_signals", "parse_time"]

#: A small built-in list of throw-away mail providers (matched on the domain and its parents).
DISPOSABLE_DOMAINS: frozenset[str] = frozenset(
    """
    mailinator.com guerrillamail.com guerrillamail.net guerrillamail.org guerrillamailblock.com
    sharklasers.com grr.la 10minutemail.com 10minutemail.net 20minutemail.com yopmail.com yopmail.fr
    yopmail.net tempmail.com temp-mail.org temp-mail.io tempmail.net tempmailo.com tempr.email
    throwawaymail.com trashmail.com trashmail.de maildrop.cc dispostable.com getnada.com nada.email
    mohmal.com mintemail.com fakeinbox.com spamgourmet.com mailnesia.com mytemp.email emailondeck.com
    burnermail.io discard.email spam4.me mailcatch.com moakt.com tmpmail.org tmail.ws
    """.split()
)

_JST = dt.timezone(dt.timedelta(hours=9))


@dataclass(frozen=True)
class SignalParams:
    """Thresholds of submission signals."""

    burst_window_seconds: int = 60
    burst_min_count: int = 10
    same_second_min_count: int = 5
    identity_min_count: int = 3


def parse_time(value: str) -> dt.datetime | None:
    """Parse an ISO 8601 timestamp; naive times are taken as Asia/Tokyo. ``None`` if invalid."""
    try:
        t = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=_JST)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(_JST).isoformat()


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


def _bursts(
    items: list[tuple[dt.datetime, str]], p: SignalParams, key: Callable[[str], Any] = id_key
) -> list[dict[str, Any]]:
    # Instants as integer microseconds: comparing aware datetimes is slow, integers are
    # exact and order the same way (ties by id, as before; ids are unique).
    keyed = sorted(((t - _EPOCH) // _US, oid, t) for t, oid in items)
    us = [k[0] for k in keyed]
    out: list[dict[str, Any]] = []
    # same second (of the timestamp as given, which is the same second in any time zone)
    secs = [t.replace(microsecond=0) for _, _, t in keyed]
    sec_us = [(s - _EPOCH) // _US for s in secs]
    i = 0
    while i < len(keyed):
        j = i
        sec = sec_us[i]
        while j < len(keyed) and sec_us[j] == sec:
            j += 1
        if j - i >= p.same_second_min_count:
            out.append({"kind": "same_second", "start": _iso(secs[i]), "end": _iso(secs[i]), "count": j - i,
                        "ids": sorted([x[1] for x in keyed[i:j]], key=key)})
        i = j
    # sliding window: mark every submission that sits in a window holding >= min_count
    window = dt.timedelta(seconds=p.burst_window_seconds) // _US
    marked = [False] * len(keyed)
    lo = 0
    done = -1  # every index <= done is already marked
    for hi in range(len(keyed)):
        while us[hi] - us[lo] > window:
            lo += 1
        if hi - lo + 1 >= p.burst_min_count:
            for k in range(max(lo, done + 1), hi + 1):
                marked[k] = True
            done = hi
    k = 0
    while k < len(keyed):
        if not marked[k]:
            k += 1
            continue
        e = k
        while e + 1 < len(keyed) and marked[e + 1] and us[e + 1] - us[e] <= window:
            e += 1
        out.append({"kind": "window", "start": _iso(keyed[k][2]), "end": _iso(keyed[e][2]), "count": e - k + 1,
                    "ids": sorted([x[1] for x in keyed[k : e + 1]], key=key)})
        k = e + 1
    return out


def _domain(email: str) -> str:
    return _domain_of(normalize(email).lower())


def _domain_of(lowered: str) -> str:
    e = lowered.replace("＠", "@")
    return e.rsplit("@", 1)[-1].strip().rstrip(".") if "@" in e else ""


def find_signals(
    opinions: Sequence[Opinion], params: SignalParams | None = None, *, id_order: Callable[[str], Any] | None = None
) -> dict[str, Any]:
    """Signals over ``opinions``: ``bursts``, ``shared_identities``, ``disposable_emails``,
    ``invalid_received_at`` and counts of opinions carrying each kind of metadata."""
    p = params or SignalParams()
    order = id_order or id_key
    timed: list[tuple[dt.datetime, str]] = []
    invalid: list[str] = []
    values: dict[tuple[str, str], list[str]] = {}
    disposable: list[dict[str, str]] = []
    counts = {"received_at": 0, "name": 0, "email": 0, "address": 0}
    email_keys: dict[str, tuple[str, str]] = {}  # raw e-mail -> (identity key, domain)
    for op in opinions:
        received, name, email, address = op.received_at, op.name, op.email, op.address
        if not (received or name or email or address):
            continue
        if received:
            counts["received_at"] += 1
            t = parse_time(received)
            if t is None:
                invalid.append(op.id)
            else:
                timed.append((t, op.id))
        if name:
            counts["name"] += 1
            key = fingerprint(name)
            if key:
                values.setdefault(("name", key), []).append(op.id)
        if email:
            counts["email"] += 1
            hit = email_keys.get(email)
            if hit is None:
                e = normalize(email).lower()
                hit = email_keys[email] = (e, _domain_of(e))
            key, dom = hit
            if key:
                values.setdefault(("email", key), []).append(op.id)
        if address:
            counts["address"] += 1
            key = fingerprint(address)
            if key:
                values.setdefault(("address", key), []).append(op.id)
        if email:
            parts = dom.split(".")
            if any(".".join(parts[i:]) in DISPOSABLE_DOMAINS for i in range(len(parts) - 1)):
                disposable.append({"id": op.id, "domain": dom})
    shared = [
        {"field": f, "value": v, "count": len(ids), "ids": sorted(ids, key=order)}
        for (f, v), ids in values.items()
        if len(ids) >= p.identity_min_count
    ]
    shared.sort(key=lambda s: (-s["count"], s["field"], s["value"]))
    return {
        "with_metadata": counts,
        "bursts": _bursts(timed, p, order),
        "shared_identities": shared,
        "disposable_emails": sorted(disposable, key=lambda d: (d["domain"], order(d["id"]))),
        "invalid_received_at": sorted(invalid, key=order),
        "thresholds": {
            "burst_window_seconds": p.burst_window_seconds,
            "burst_min_count": p.burst_min_count,
            "same_second_min_count": p.same_second_min_count,
            "identity_min_count": p.identity_min_count,
        },
    }
