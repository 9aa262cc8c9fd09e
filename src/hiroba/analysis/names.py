"""Person names from Sudachi's 人名 tags, with context.

A 人名 morpheme (名詞,固有名詞,人名,姓|名) is reported as a ``person_name`` span when the run of
adjacent 人名 morphemes holds a 姓 followed by a 名, is followed by an honorific (さん 様 さま 氏
君 くん ちゃん 殿 先生) or is preceded by a label (氏名 名前 お名前 担当 申請者 代表者). The rules
work on tokens given by the caller: this module tokenises nothing and imports neither
:mod:`hiroba.analysis.tokenize` nor :mod:`hiroba.analysis.pii` (both use it).
"""

from __future__ import annotations

from collections.abc import Sequence

from hiroba.analysis.morphemes import Token

__all__ = ["person_names", "HONORIFICS", "LABELS"]

HONORIFICS = ("さん", "様", "さま", "氏", "君", "くん", "ちゃん", "殿", "先生")
LABELS = ("氏名", "名前", "お名前", "担当", "申請者", "代表者")


def _is_name(tok: Token) -> bool:
    return tok.pos[:3] == ("名詞", "固有名詞", "人名")


def person_names(text: str, toks: Sequence[Token]) -> list[tuple[int, int, str]]:
    """``(start, end, "person_name")`` spans of ``text`` from its tokens ``toks`` (offsets in ``text``)."""
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(toks):
        if not _is_name(toks[i]):
            i += 1
            continue
        j = i
        while j + 1 < len(toks) and _is_name(toks[j + 1]) and toks[j + 1].begin == toks[j].end:
            j += 1
        kinds = [t.pos[3] for t in toks[i : j + 1]]
        full = "姓" in kinds and "名" in kinds and kinds.index("姓") < len(kinds) - 1
        nxt = text[toks[j].end : toks[j].end + 3]
        honor = nxt.startswith(HONORIFICS)
        before = text[max(0, toks[i].begin - 6) : toks[i].begin].rstrip(" 　:：")
        label = before.endswith(LABELS)
        if full or honor or label:
            out.append((toks[i].begin, toks[j].end, "person_name"))
        i = j + 1
    return out
