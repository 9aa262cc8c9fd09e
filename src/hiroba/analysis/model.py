"""Input records and small shared helpers of the analysis package."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Opinion",
    "Section",
    "PastItem",
    "Progress",
    "id_key",
    "id_rank",
    "sort_ids",
    "rounded",
]

#: ``progress(stage, done, total)`` — called from time to time during :func:`analyze`.
#: ``stage`` is one of ``"normalize"``, ``"campaigns"``, ``"groups"``, ``"sections"``,
#: ``"suggestions"``, ``"pii"``, ``"signals"``; ``done <= total``.
Progress = Callable[[str, int, int], None]

#: Scores in the report are rounded to this many decimals (byte-stable output).
SCORE_DIGITS = 4


@dataclass(frozen=True, slots=True)
class Opinion:
    """One opinion to analyse. ``id`` is a string (integers from JSON are converted);
    metadata is optional and only used for submission signals. Opinions with the same
    ``submission`` key were cut from one submission (a letter with several items) and count
    as one submission in the signals; ``received_at`` is ``None`` when the time is unknown."""

    id: str
    text: str
    received_at: str | None = None
    name: str | None = None
    email: str | None = None
    address: str | None = None
    submission: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Opinion:
        """Build an opinion from a JSON object (``id`` and ``text`` required)."""

        def opt(key: str) -> str | None:
            v = data.get(key)
            return None if v is None or v == "" else str(v)

        return cls(
            id=str(data["id"]),
            text=str(data["text"]),
            received_at=opt("received_at"),
            name=opt("name"),
            email=opt("email"),
            address=opt("address"),
            submission=opt("submission"),
        )


@dataclass(frozen=True, slots=True)
class Section:
    """A section of the draft under consultation (``S.json`` entry)."""

    id: str
    title: str
    text: str = ""
    pages: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class PastItem:
    """An answered opinion of a past consultation (``P.json`` entry)."""

    id: str
    opinion: str
    answer: str


_DIGITS = re.compile(r"([0-9]+)")


def id_key(value: str) -> tuple[Any, ...]:
    """Natural sort key: ``"2" < "10" < "a2" < "a10"``; ties by the raw string."""
    if value.isdigit() and value.isascii():  # the common case (database ids), same key
        return (((0, int(value), ""),), value)
    parts = tuple((0, int(p), "") if "0" <= p[0] <= "9" else (1, 0, p) for p in _DIGITS.split(value) if p)
    return (parts, value)


def id_rank(ids: Iterable[str]) -> dict[str, int]:
    """Rank of each distinct id in natural order: ``key=rank.__getitem__`` sorts exactly as
    ``key=id_key`` does, with one integer comparison instead of nested tuples (the report
    sorts a million ids several times)."""
    distinct = list(set(ids))
    ordered: list[str] | None = None
    if all(v.isdigit() and v.isascii() and len(v) <= 18 for v in distinct):
        # id_key of a digit string is (((0, int, ""),), raw): when no two ids have the same
        # number (no leading-zero variants), the order is simply the numbers' order
        import numpy as np

        nums = np.fromiter(map(int, distinct), np.int64, count=len(distinct))
        order = np.argsort(nums, kind="stable")
        sorted_nums = nums[order]
        if bool((sorted_nums[1:] != sorted_nums[:-1]).all()):
            ordered = [distinct[i] for i in order.tolist()]
    if ordered is None:
        ordered = sorted(distinct, key=id_key)
    return {v: r for r, v in enumerate(ordered)}


def sort_ids(ids: list[str]) -> list[str]:
    """Return ``ids`` in natural order (see :func:`id_key`)."""
    return sorted(ids, key=id_key)


def rounded(x: float) -> float:
    """Round a score for the report (fixed decimals; ``-0.0`` becomes ``0.0``)."""
    return round(float(x), SCORE_DIGITS) + 0.0
