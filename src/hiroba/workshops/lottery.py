#!/usr/bin/env python3
"""The workshop lottery (抽選), algorithm "hiroba-lottery-v1" — standard library only.

This file is both the implementation hiroba uses and a standalone verifier anyone can run:

    python3 lottery.py --public-value "令和7年7月25日 …" --entries entries.txt \
        --capacity 15 --waitlist 5 [--quota 中学1年=3 ...]

It never imports Django, so it can be copied out of the repository and run with any Python 3.8+.

The algorithm (also in docs/workshops.md):

1. seed = SHA-256 of the published public value (UTF-8), as 64 lower-case hex digits.
2. The published entry list is a text file: one line per application in the draw,
   sorted by application number (受付番号), each line `NUMBER` or `NUMBER<TAB>GROUP` when the
   programme has quotas (GROUP is the quota group, e.g. the grade), each line ending in "\n".
   digest = SHA-256 of that file's bytes.
3. Each number gets the key HMAC-SHA256(key = bytes of the seed, message = NUMBER in UTF-8),
   as hex. The draw order is the numbers sorted by (key, NUMBER) ascending: rank 1 first.
4. Seats: quota groups in sorted order of their label each take the first `seats` entries of
   their group in draw order; the remaining seats go down the draw order to entries not yet
   selected. The next `waitlist` entries in draw order form the ranked waiting list; the rest
   are not selected.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import sys
from dataclasses import dataclass, field

ALGORITHM = "hiroba-lottery-v1"


def seed_from_public_value(public_value: str) -> str:
    """The lottery seed: SHA-256 of the published public value, hex."""
    return hashlib.sha256(public_value.encode("utf-8")).hexdigest()


def entries_text(entries: dict[str, str]) -> str:
    """The published list: {number: group} as sorted lines ("NUMBER" or "NUMBER\\tGROUP")."""
    lines = []
    for number in sorted(entries):
        group = entries[number]
        lines.append(f"{number}\t{group}\n" if group else f"{number}\n")
    return "".join(lines)


def parse_entries(text: str) -> dict[str, str]:
    """The inverse of entries_text; refuses unsorted, duplicate or blank lines."""
    entries: dict[str, str] = {}
    previous = None
    for line in text.splitlines():
        number, _, group = line.partition("\t")
        if not number.strip() or number != number.strip():
            raise ValueError(f"bad line in the entry list: {line!r}")
        if previous is not None and number <= previous:
            raise ValueError(f"the entry list is not sorted or has duplicates at {number!r}")
        entries[number] = group
        previous = number
    return entries


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def draw_key(seed: str, number: str) -> str:
    return hmac.new(bytes.fromhex(seed), number.encode("utf-8"), hashlib.sha256).hexdigest()


def draw_order(seed: str, numbers: list[str] | set[str] | dict[str, str]) -> list[str]:
    """Every number, ranked: sorted by (HMAC-SHA256(seed, number), number)."""
    if len(seed) != 64:
        raise ValueError("the seed must be 64 hex digits (SHA-256)")
    return sorted(numbers, key=lambda n: (draw_key(seed, n), n))


@dataclass
class Allocation:
    order: list[str]
    selected: list[str] = field(default_factory=list)
    waitlist: list[str] = field(default_factory=list)
    not_selected: list[str] = field(default_factory=list)
    quota_picks: dict[str, list[str]] = field(default_factory=dict)


def allocate(order: list[str], groups: dict[str, str], *, capacity: int,
             waitlist_size: int, quotas: dict[str, int] | None = None) -> Allocation:
    """Seats for a ranked order (step 4 of the algorithm)."""
    quotas = quotas or {}
    if sum(quotas.values()) > capacity:
        raise ValueError("quota seats exceed the capacity")
    result = Allocation(order=list(order))
    chosen: set[str] = set()
    for group in sorted(quotas):
        picks = [n for n in order if groups.get(n, "") == group and n not in chosen][: quotas[group]]
        result.quota_picks[group] = picks
        chosen.update(picks)
    for number in order:
        if len(chosen) >= capacity:
            break
        chosen.add(number)
    result.selected = [n for n in order if n in chosen]
    rest = [n for n in order if n not in chosen]
    result.waitlist = rest[:waitlist_size]
    result.not_selected = rest[waitlist_size:]
    return result


def run(public_value: str, text: str, *, capacity: int, waitlist_size: int,
        quotas: dict[str, int] | None = None) -> tuple[str, str, Allocation]:
    """(seed, digest of the list, allocation) from the published inputs."""
    seed = seed_from_public_value(public_value)
    entries = parse_entries(text)
    order = draw_order(seed, entries)
    return seed, digest(text), allocate(order, entries, capacity=capacity,
                                        waitlist_size=waitlist_size, quotas=quotas)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"Verify a hiroba workshop lottery ({ALGORITHM}).")
    parser.add_argument("--public-value", required=True, help="the published public value (the seed's source)")
    parser.add_argument("--entries", required=True, help="the published entry list file (UTF-8)")
    parser.add_argument("--capacity", type=int, required=True)
    parser.add_argument("--waitlist", type=int, default=0)
    parser.add_argument("--quota", action="append", default=[], metavar="GROUP=SEATS")
    args = parser.parse_args(argv)
    with open(args.entries, encoding="utf-8", newline="") as fh:
        text = fh.read()
    quotas = {}
    for item in args.quota:
        group, _, seats = item.rpartition("=")
        quotas[group] = int(seats)
    seed, list_digest, result = run(args.public_value, text, capacity=args.capacity,
                                    waitlist_size=args.waitlist, quotas=quotas)
    print(f"algorithm {ALGORITHM}")
    print(f"seed {seed}")
    print(f"entries-sha256 {list_digest}")
    status = {n: "selected" for n in result.selected}
    status.update({n: f"waitlist {i}" for i, n in enumerate(result.waitlist, 1)})
    for rank, number in enumerate(result.order, 1):
        print(f"{rank}\t{number}\t{status.get(number, 'not-selected')}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
