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


#: What a Japanese office's files are written in: UTF-8 (with or without the BOM Excel writes),
#: else Shift_JIS as Windows writes it (cp932, a superset with the NEC and IBM extensions).
#: EUC-JP is not tried: almost any EUC-JP text also decodes as cp932, as half-width katakana.
JAPANESE_ENCODINGS = ("utf-8-sig", "cp932")


def decode_japanese(raw: bytes) -> str | None:
    """The text of a file a ward's PC wrote (a CSV, an export, a plain-text file), or None when it
    reads as neither UTF-8 nor Shift_JIS — the caller says so in its own words."""
    for encoding in JAPANESE_ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
