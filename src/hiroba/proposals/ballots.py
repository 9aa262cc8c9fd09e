"""The anonymised ballot set: canonical form, SHA-256 digest, tally — and a verifier anyone can run.

This module does not import Django, so a resident, a journalist or an auditor can check a
published result with Python alone:

    python -m hiroba.proposals.ballots FILE [--digest HEX]

FILE is any of the three downloads of the results page: the JSON export, the canonical text
(exactly the bytes the digest is the SHA-256 of) or the CSV (one row per vote, for a spreadsheet).
All three hold the same ballots; each gives back the same canonical bytes and the same digest.

An export is JSON: {"format": "hiroba-proposals-ballots/1", "call": ..., "digest": ...,
"ballots": [{"ballot": "<opaque id>", "choices": ["<受付番号>", ...]}, ...]}. A ballot is one
voter's set of choices under an opaque id (a salted hash, unlinkable to the voter once results
are published). The canonical form is one JSON object per ballot, keys sorted, no spaces,
UTF-8, choices sorted, ballots sorted by id, each line ending in "\n"; the digest is the SHA-256
of those bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

FORMAT = "hiroba-proposals-ballots/1"
CSV_HEADER = ("投票用紙の番号", "受付番号")


def _choices(ballot: Mapping[str, object]) -> Iterable[object]:
    choices = ballot["choices"]
    if not isinstance(choices, Iterable):
        raise TypeError(f"ballot {ballot.get('ballot')}: choices is not a list")
    return choices


def canonical(ballots: Iterable[Mapping[str, object]]) -> bytes:
    lines = []
    for ballot in ballots:
        choices = sorted(str(c) for c in _choices(ballot))
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
        counts.update(str(c) for c in _choices(ballot))
    return dict(sorted(counts.items()))


def vote_rows(ballots: Iterable[Mapping[str, object]]) -> list[tuple[str, str]]:
    """One (ballot id, 受付番号) pair per vote, in canonical order: the CSV's rows."""
    pairs = [(str(b["ballot"]), str(c)) for b in ballots for c in _choices(b)]
    return sorted(pairs)


def from_vote_rows(rows: Iterable[Sequence[str]]) -> list[dict[str, object]]:
    """The ballots back from (ballot id, 受付番号) pairs."""
    grouped: dict[str, list[str]] = {}
    for ballot, receipt in rows:
        grouped.setdefault(ballot, []).append(receipt)
    return [{"ballot": b, "choices": sorted(c)} for b, c in sorted(grouped.items())]


def from_csv(data: bytes) -> list[dict[str, object]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    if not rows or tuple(rows[0]) != CSV_HEADER:
        raise ValueError("not a ballot CSV (the first row must be: " + ",".join(CSV_HEADER) + ")")
    return from_vote_rows(tuple(row) for row in rows[1:] if row)  # type: ignore[misc]


def from_canonical(data: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line]


def load(data: bytes) -> dict[str, object]:
    """A downloaded file as an export document, whichever of the three forms it is."""
    text = data.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{") and not text.startswith(b'{"ballot"'):
        return json.loads(data.decode("utf-8"))  # type: ignore[no-any-return]
    ballots = from_canonical(data) if text.startswith(b'{"ballot"') or not text else from_csv(data)
    return {"format": FORMAT, "ballots": ballots}


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
    try:
        computed = digest(ballots)
    except ValueError as exc:  # a ballot that votes twice for one proposal
        problems.append(str(exc))
        computed = hashlib.sha256(b"".join(
            json.dumps(b, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"
            for b in ballots)).hexdigest()
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
    with open(args.file, "rb") as fh:
        document = load(fh.read())
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
