"""The anonymised ballot set: canonical form, SHA-256 digest, tally — and a verifier anyone can run.

This module does not import Django, so a resident, a journalist or an auditor can check a
published result with Python alone:

    python -m hiroba.proposals.ballots ballots.json [--digest HEX]

An export is JSON: {"format": "hiroba-proposals-ballots/1", "call": ..., "digest": ...,
"ballots": [{"ballot": "<opaque id>", "choices": ["<受付番号>", ...]}, ...]}. A ballot is one
voter's set of choices under an opaque id (a salted hash, unlinkable to the voter once results
are published). The canonical form is one JSON object per ballot, keys sorted, no spaces,
UTF-8, choices sorted, ballots sorted by id, each line ending in "\n"; the digest is the SHA-256
of those bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

FORMAT = "hiroba-proposals-ballots/1"


def canonical(ballots: Iterable[Mapping[str, object]]) -> bytes:
    lines = []
    for ballot in ballots:
        choices = sorted(str(c) for c in ballot["choices"])  # type: ignore[union-attr]
        if len(set(choices)) != len(choices):
            raise ValueError(f"ballot {ballot['ballot']} votes twice for one proposal")
        lines.append(json.dumps({"ballot": str(ballot["ballot"]), "choices": choices},
                                ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    lines.sort()
    return "".join(line + "\n" for line in lines).encode("utf-8")


def digest(ballots: Iterable[Mapping[str, object]]) -> str:
    return hashlib.sha256(canonical(ballots)).hexdigest()


def tally(ballots: Iterable[Mapping[str, object]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for ballot in ballots:
        counts.update(str(c) for c in ballot["choices"])  # type: ignore[union-attr]
    return dict(sorted(counts.items()))


@dataclass(frozen=True)
class Verification:
    ok: bool
    digest: str
    voters: int
    votes: int
    tally: dict[str, int]
    problems: tuple[str, ...] = ()


def verify(document: Mapping[str, object], *, expected_digest: str | None = None,
           expected_tally: Mapping[str, int] | None = None) -> Verification:
    """Recompute digest and tally from an export; compare with what was published."""
    problems: list[str] = []
    if document.get("format") != FORMAT:
        problems.append(f"unknown format {document.get('format')!r}")
    ballots: Sequence[Mapping[str, object]] = document.get("ballots", [])  # type: ignore[assignment]
    ids = [str(b["ballot"]) for b in ballots]
    if len(set(ids)) != len(ids):
        problems.append("a ballot id appears twice")
    computed = digest(ballots)
    counts = tally(ballots)
    for label, want in (("in the file", document.get("digest")), ("expected", expected_digest)):
        if want is not None and want != computed:
            problems.append(f"digest {label} {want} != computed {computed}")
    if expected_tally is not None and dict(sorted((str(k), int(v)) for k, v in expected_tally.items()
                                                  if int(v))) != counts:
        problems.append("tally differs from the published tally")
    published = document.get("tally")
    if isinstance(published, Mapping):
        if {str(k): int(v) for k, v in published.items() if int(v)} != counts:
            problems.append("tally in the file differs from the ballots")
    return Verification(not problems, computed, len(ballots), sum(counts.values()), counts, tuple(problems))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an exported ballot set (digest and tally).")
    parser.add_argument("file")
    parser.add_argument("--digest", help="the digest published on the results page")
    args = parser.parse_args(argv)
    with open(args.file, encoding="utf-8") as fh:
        document = json.load(fh)
    result = verify(document, expected_digest=args.digest)
    for receipt, votes in result.tally.items():
        print(f"{receipt}\t{votes}")
    print(f"voters\t{result.voters}\nvotes\t{result.votes}\nsha256\t{result.digest}")
    for problem in result.problems:
        print(f"NG: {problem}", file=sys.stderr)
    print("OK" if result.ok else "NG")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
