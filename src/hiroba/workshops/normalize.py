"""Normalised keys for spotting the same student applying twice (on `hiroba.core.text.fold`)."""

from __future__ import annotations

from hiroba.core.text import fold

_SCHOOL_PREFIXES = ("千代田区立", "区立", "私立", "国立", "都立")


def kana_key(kana: str) -> str:
    """ヤマダ　タロウ, やまだ たろう and ﾔﾏﾀﾞﾀﾛｳ all become やまだたろう.

    Spaces and middle dots are dropped; katakana become hiragana.
    """
    return fold(kana, drop="・")


def school_key(name: str) -> str:
    """千代田区立 神田一橋中学校, 神田一橋中学校 and 神田一橋中 become 神田一橋中."""
    text = fold(name, drop="・")
    for prefix in _SCHOOL_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    for suffix in ("中学校", "中等教育学校", "学校"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)] + ("中" if suffix == "中学校" else "")
            break
    return text
