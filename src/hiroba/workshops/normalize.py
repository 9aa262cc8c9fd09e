"""Normalised keys for spotting the same student applying twice (standard library only)."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"[\s\u3000・･]+")
_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}
_SCHOOL_PREFIXES = ("千代田区立", "区立", "私立", "国立", "都立")


def kana_key(kana: str) -> str:
    """ヤマダ　タロウ, やまだ たろう and ﾔﾏﾀﾞﾀﾛｳ all become やまだたろう.

    Spaces and middle dots are dropped; katakana become hiragana.
    """
    text = unicodedata.normalize("NFKC", kana).translate(_KATAKANA_TO_HIRAGANA)
    return _SPACE.sub("", text).lower()


def school_key(name: str) -> str:
    """千代田区立 神田一橋中学校, 神田一橋中学校 and 神田一橋中 become 神田一橋中."""
    text = _SPACE.sub("", unicodedata.normalize("NFKC", name))
    for prefix in _SCHOOL_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    for suffix in ("中学校", "中等教育学校", "学校"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)] + ("中" if suffix == "中学校" else "")
            break
    return text.lower()
