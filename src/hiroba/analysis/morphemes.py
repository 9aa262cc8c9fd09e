"""One Sudachi morpheme as the analysis keeps it.

A module of its own so that tokenisation (:mod:`hiroba.analysis.tokenize`) and the person-name
rules (:mod:`hiroba.analysis.names`) share the record without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Token"]


@dataclass(frozen=True, slots=True)
class Token:
    """One morpheme: character offsets in the tokenised text, surface, part of speech,
    Sudachi's normalised form (``附属`` for ``付属``, ``サーバー`` for ``サーバ``)."""

    begin: int
    end: int
    surface: str
    pos: tuple[str, ...]
    normalized: str
