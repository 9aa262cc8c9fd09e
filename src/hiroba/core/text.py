"""Comparison keys for Japanese text typed by people (standard library only).

One normaliser for every module that must recognise the same name, kana or address typed two
ways: full-width and half-width forms unified (NFKC: ＡＢＣ→abc, ﾔﾏﾀﾞ→ヤマダ, １→1), case folded,
katakana turned into hiragana (ヤマダ and やまだ are the same person), and white space —
including the ideographic space — removed, with any further characters the caller names.
"""

from __future__ import annotations

import unicodedata

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}


def fold(text: str, *, drop: str = "") -> str:
    """The comparison key of `text`: NFKC, casefold, katakana → hiragana, without white space
    and without the characters in `drop` (compared after NFKC, so pass their full-width forms)."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_KATAKANA_TO_HIRAGANA)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in drop)
