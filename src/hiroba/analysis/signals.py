"""Submission signals from metadata: bursts, reused identities, disposable e-mail.

Signals are about **submissions**, not opinions: the items a clerk cut from one letter share
its ``submission`` key and count once. Only submissions that carry the metadata take part, and
a submission without a usable ``received_at`` (none given: imported data whose time is not
known) takes no part in bursts. Each finding is reported once: a run of submissions close in
time is one burst, and the same submissions sharing a name, an e-mail address and an address
are one shared identity. None of these is proof of anything, each is a reason for a clerk to
look (the report lists the submissions and their opinion ids).
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


@dataclass
class _Submission:
    """One submission: the opinions cut from it and its metadata (the first value given)."""

    key: str
    ids: list[str]
    received_at: str | None = None
    name: str | None = None
    email: str | None = None
    address: str | None = None


def _submissions(opinions: Sequence[Opinion], order: Callable[[str], Any]) -> list[_Submission]:
    """The submissions of the opinions that carry metadata, in the natural order of their first
    opinion id. Opinions with the same ``submission`` are one submission (items cut from one
    letter); an opinion without it is a submission of its own."""
    by_key: dict[tuple[bool, str], _Submission] = {}
    for op in opinions:
        received, name, email, address = op.received_at, op.name, op.email, op.address
        if not (received or name or email or address):
            continue
        k = (True, op.submission) if op.submission is not None else (False, op.id)
        sub = by_key.get(k)
        if sub is None:
            sub = by_key[k] = _Submission(k[1], [])
        sub.ids.append(op.id)
        sub.received_at = sub.received_at or received
        sub.name = sub.name or name
        sub.email = sub.email or email
        sub.address = sub.address or address
    subs = list(by_key.values())
    for sub in subs:
        if len(sub.ids) > 1:
            sub.ids.sort(key=order)
    subs.sort(key=lambda x: order(x.ids[0]))
    return subs


def _describe(subs: Sequence[_Submission], picked: Sequence[int], order: Callable[[str], Any]) -> dict[str, Any]:
    """``count`` (submissions), ``submissions`` (their keys) and ``ids`` (every opinion of them)."""
    chosen = sorted(picked)  # submissions are already in natural order
    ids = [i for k in chosen for i in subs[k].ids]
    if any(len(subs[k].ids) > 1 for k in chosen) or len(chosen) > 1:
        ids.sort(key=order)
    return {"count": len(chosen), "submissions": [subs[k].key for k in chosen], "ids": ids}


def _bursts(
    timed: list[tuple[dt.datetime, int]], subs: Sequence[_Submission], p: SignalParams, order: Callable[[str], Any]
) -> list[dict[str, Any]]:
    """Bursts of submissions, each submission in at most one: runs of the sliding window
    (every submission in a window holding >= ``burst_min_count``), a run within one second
    reported as ``same_second``; then same-second clusters (>= ``same_second_min_count``)
    outside every run. A run lists the same-second clusters inside it."""
    # Instants as integer microseconds: comparing aware datetimes is slow, integers are
    # exact and order the same way (ties by submission order).
    keyed = sorted(((t - _EPOCH) // _US, k, t) for t, k in timed)
    us = [x[0] for x in keyed]
    n = len(keyed)
    # same second (of the timestamp as given, which is the same second in any time zone)
    secs = [t.replace(microsecond=0) for _, _, t in keyed]
    sec_us = [(sec - _EPOCH) // _US for sec in secs]
    clusters: list[tuple[int, int]] = []  # [i, j) of each same-second cluster
    i = 0
    while i < n:
        j = i
        while j < n and sec_us[j] == sec_us[i]:
            j += 1
        if j - i >= p.same_second_min_count:
            clusters.append((i, j))
        i = j
    # sliding window: mark every submission that sits in a window holding >= min_count
    window = dt.timedelta(seconds=p.burst_window_seconds) // _US
    marked = [False] * n
    lo = 0
    done = -1  # every index <= done is already marked
    for hi in range(n):
        while us[hi] - us[lo] > window:
            lo += 1
        if hi - lo + 1 >= p.burst_min_count:
            for k in range(max(lo, done + 1), hi + 1):
                marked[k] = True
            done = hi
    out: list[tuple[int, dict[str, Any]]] = []
    covered = [False] * n
    k = 0
    while k < n:
        if not marked[k]:
            k += 1
            continue
        e = k
        while e + 1 < n and marked[e + 1] and us[e + 1] - us[e] <= window:
            e += 1
        for x in range(k, e + 1):
            covered[x] = True
        entry: dict[str, Any] = {"kind": "same_second" if sec_us[k] == sec_us[e] else "window",
                                 "start": _iso(secs[k] if sec_us[k] == sec_us[e] else keyed[k][2]),
                                 "end": _iso(secs[e] if sec_us[k] == sec_us[e] else keyed[e][2]),
                                 **_describe(subs, [x[1] for x in keyed[k : e + 1]], order)}
        if entry["kind"] == "window":
            entry["same_second"] = [{"at": _iso(secs[a]), "count": b - a} for a, b in clusters if k <= a and b - 1 <= e]
        out.append((k, entry))
        k = e + 1
    for a, b in clusters:
        if not covered[a]:
            out.append((a, {"kind": "same_second", "start": _iso(secs[a]), "end": _iso(secs[a]),
                            **_describe(subs, [x[1] for x in keyed[a:b]], order)}))
    out.sort(key=lambda x: x[0])
    return [e for _, e in out]


def _domain(email: str) -> str:
    return _domain_of(normalize(email).lower())


def _domain_of(lowered: str) -> str:
    e = lowered.replace("＠", "@")
    return e.rsplit("@", 1)[-1].strip().rstrip(".") if "@" in e else ""


_FIELDS = ("name", "email", "address")


def find_signals(
    opinions: Sequence[Opinion], params: SignalParams | None = None, *, id_order: Callable[[str], Any] | None = None
) -> dict[str, Any]:
    """Signals over the **submissions** of ``opinions`` (see :func:`_submissions`): ``bursts``,
    ``shared_identities``, ``disposable_emails``, ``invalid_received_at`` and counts of
    submissions carrying each kind of metadata. An opinion without ``received_at`` (unknown,
    such as imported data without times) takes no part in bursts."""
    p = params or SignalParams()
    order = id_order or id_key
    subs = _submissions(opinions, order)
    timed: list[tuple[dt.datetime, int]] = []
    invalid: list[str] = []
    values: dict[tuple[str, str], list[int]] = {}
    disposable: list[dict[str, Any]] = []
    counts = {"received_at": 0, "name": 0, "email": 0, "address": 0}
    email_keys: dict[str, tuple[str, str]] = {}  # raw e-mail -> (identity key, domain)
    for k, sub in enumerate(subs):
        received, name, email, address = sub.received_at, sub.name, sub.email, sub.address
        if received:
            counts["received_at"] += 1
            t = parse_time(received)
            if t is None:
                invalid.extend(sub.ids)
            else:
                timed.append((t, k))
        if name:
            counts["name"] += 1
            key = fingerprint(name)
            if key:
                values.setdefault(("name", key), []).append(k)
        if email:
            counts["email"] += 1
            hit = email_keys.get(email)
            if hit is None:
                e = normalize(email).lower()
                hit = email_keys[email] = (e, _domain_of(e))
            key, dom = hit
            if key:
                values.setdefault(("email", key), []).append(k)
            parts = dom.split(".")
            if any(".".join(parts[i:]) in DISPOSABLE_DOMAINS for i in range(len(parts) - 1)):
                disposable.append({"submission": sub.key, "ids": list(sub.ids), "domain": dom})
        if address:
            counts["address"] += 1
            key = fingerprint(address)
            if key:
                values.setdefault(("address", key), []).append(k)
    # the same submissions sharing a name, an e-mail address and an address are one finding
    merged: dict[tuple[int, ...], dict[str, str]] = {}
    for (f, v), ks in values.items():
        if len(ks) >= p.identity_min_count:
            merged.setdefault(tuple(ks), {})[f] = v
    shared = [
        {"fields": [f for f in _FIELDS if f in found], "values": {f: found[f] for f in _FIELDS if f in found},
         **_describe(subs, list(ks), order)}
        for ks, found in merged.items()
    ]
    shared.sort(key=lambda s: (-s["count"], order(s["ids"][0]), s["fields"]))
    n_submissions = sum(1 for o in opinions if o.submission is None) + len(
        {o.submission for o in opinions if o.submission is not None}
    )
    return {
        "n_submissions": n_submissions,
        "with_metadata": counts,
        "without_received_at": n_submissions - counts["received_at"],
        "bursts": _bursts(timed, subs, p, order),
        "shared_identities": shared,
        "disposable_emails": sorted(disposable, key=lambda d: (d["domain"], order(d["ids"][0]))),
        "invalid_received_at": sorted(invalid, key=order),
        "thresholds": {
            "burst_window_seconds": p.burst_window_seconds,
            "burst_min_count": p.burst_min_count,
            "same_second_min_count": p.same_second_min_count,
            "identity_min_count": p.identity_min_count,
        },
    }
