"""Submission signals from metadata: bursts, reused identities, disposable e-mail.

Only opinions that carry the metadata take part; none of these is proof of anything, each
is a reason for a clerk to look (the report lists the ids).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hiroba.analysis.model import Opinion, id_key, sort_ids
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


def _bursts(items: list[tuple[dt.datetime, str]], p: SignalParams) -> list[dict[str, Any]]:
    items.sort(key=lambda x: (x[0], x[1]))
    out: list[dict[str, Any]] = []
    # same second
    i = 0
    while i < len(items):
        j = i
        sec = items[i][0].replace(microsecond=0)
        while j < len(items) and items[j][0].replace(microsecond=0) == sec:
            j += 1
        if j - i >= p.same_second_min_count:
            out.append({"kind": "same_second", "start": _iso(sec), "end": _iso(sec), "count": j - i,
                        "ids": sort_ids([x[1] for x in items[i:j]])})
        i = j
    # sliding window: mark every submission that sits in a window holding >= min_count
    window = dt.timedelta(seconds=p.burst_window_seconds)
    marked = [False] * len(items)
    lo = 0
    done = -1  # every index <= done is already marked
    for hi in range(len(items)):
        while items[hi][0] - items[lo][0] > window:
            lo += 1
        if hi - lo + 1 >= p.burst_min_count:
            for k in range(max(lo, done + 1), hi + 1):
                marked[k] = True
            done = hi
    k = 0
    while k < len(items):
        if not marked[k]:
            k += 1
            continue
        e = k
        while e + 1 < len(items) and marked[e + 1] and items[e + 1][0] - items[e][0] <= window:
            e += 1
        out.append({"kind": "window", "start": _iso(items[k][0]), "end": _iso(items[e][0]), "count": e - k + 1,
                    "ids": sort_ids([x[1] for x in items[k : e + 1]])})
        k = e + 1
    return out


def _domain(email: str) -> str:
    e = normalize(email).lower().replace("＠", "@")
    return e.rsplit("@", 1)[-1].strip().rstrip(".") if "@" in e else ""


def find_signals(opinions: Sequence[Opinion], params: SignalParams | None = None) -> dict[str, Any]:
    """Signals over ``opinions``: ``bursts``, ``shared_identities``, ``disposable_emails``,
    ``invalid_received_at`` and counts of opinions carrying each kind of metadata."""
    p = params or SignalParams()
    timed: list[tuple[dt.datetime, str]] = []
    invalid: list[str] = []
    values: dict[tuple[str, str], list[str]] = {}
    disposable: list[dict[str, str]] = []
    counts = {"received_at": 0, "name": 0, "email": 0, "address": 0}
    for op in opinions:
        if op.received_at:
            counts["received_at"] += 1
            t = parse_time(op.received_at)
            if t is None:
                invalid.append(op.id)
            else:
                timed.append((t, op.id))
        for field, raw in (("name", op.name), ("email", op.email), ("address", op.address)):
            if not raw:
                continue
            counts[field] += 1
            key = normalize(raw).lower() if field == "email" else fingerprint(raw)
            if key:
                values.setdefault((field, key), []).append(op.id)
        if op.email:
            dom = _domain(op.email)
            parts = dom.split(".")
            if any(".".join(parts[i:]) in DISPOSABLE_DOMAINS for i in range(len(parts) - 1)):
                disposable.append({"id": op.id, "domain": dom})
    shared = [
        {"field": f, "value": v, "count": len(ids), "ids": sort_ids(ids)}
        for (f, v), ids in values.items()
        if len(ids) >= p.identity_min_count
    ]
    shared.sort(key=lambda s: (-s["count"], s["field"], s["value"]))
    return {
        "with_metadata": counts,
        "bursts": _bursts(timed, p),
        "shared_identities": shared,
        "disposable_emails": sorted(disposable, key=lambda d: (d["domain"], id_key(d["id"]))),
        "invalid_received_at": sort_ids(invalid),
        "thresholds": {
            "burst_window_seconds": p.burst_window_seconds,
            "burst_min_count": p.burst_min_count,
            "same_second_min_count": p.same_second_min_count,
            "identity_min_count": p.identity_min_count,
        },
    }
