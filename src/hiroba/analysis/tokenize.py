"""Sentence splitting and Sudachi tokenisation.

SplitMode **C** (the longest units) is used: ward texts are full of compounds such as
``マイナンバーカード``, ``行政手続き`` or ``千代田区九段南`` that carry the meaning as one
unit; mode A would split them into ``マイ/ナンバー/カード`` and make common pieces
(``カード``, ``手続``) dominate TF-IDF. Person names come out the same in every mode.

One tokenizer per process is created lazily and cached. Sudachi refuses inputs over
49,149 bytes, so text is tokenised sentence by sentence (long sentences in slices),
and offsets are mapped back to the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hiroba.analysis.normalize import normalize

__all__ = [
    "Token",
    "sentence_spans",
    "sentences",
    "tokenize",
    "content_words",
    "STOP_WORDS",
]

_SENTENCE_END = re.compile(r"[^。．！？!?\n]*(?:[。．！？!?]+[」』）)]*|\n|$)")
#: Sudachi's limit is 49,149 bytes; 12,000 characters stay below it in UTF-8.
_MAX_CHARS = 12_000

#: Content words that say nothing about an opinion's intent (normalised forms).
STOP_WORDS: frozenset[str] = frozenset(
    """
    する いる ある なる れる られる せる させる できる 出来る 思う 考える 言う いう 思える
    ない よい 良い いい 欲しい ほしい 下さる くださる 頂く いただく 致す いたす 存ずる 存じる
    おる 申す 申し上げる 願う お願い 為る 居る 有る 成る 見る 行う 行なう くる 来る 行く
    こと もの ため よう とき 時 方 所 ところ 等 など 件 点 上 中 内 他 以上 以下 今回 今後
    これ それ あれ どれ ここ そこ 私 自分 我々 皆 皆様 みなさま 区 本 案 素案 意見 内容 必要
    的 化 性 者 感じる 分かる わかる 持つ 使う 出す 入れる 知る 多い 少ない 大きい 小さい
    年 月 日 事 為 そう 仕舞う 様 訳 はず 筈 物 付く 当たる 関する 対する 於く 於ける 通す 含む
    踏まえる 向ける 伴う 基づく 因る 依る 拠る 係る 関わる 頂ける 貰う もらう 呉れる くれる 置く
    みる 見える 掛ける 掛かる 付ける 取る 得る える 言える 有り難い ありがたい 宜しい よろしい 何卒
    いつも 色々 様々 全て 全く 大変 非常 特 更 又 又は 及び 並びに 且つ 即ち 例えば 具体 今 現在
    """.split()
)

_CONTENT_POS = ("名詞", "動詞", "形容詞", "形状詞")
_SKIP_SUBPOS = ("数詞",)


@dataclass(frozen=True, slots=True)
class Token:
    """One morpheme: character offsets in the tokenised text, surface, part of speech,
    Sudachi's normalised form (``附属`` for ``付属``, ``サーバー`` for ``サーバ``)."""

    begin: int
    end: int
    surface: str
    pos: tuple[str, ...]
    normalized: str


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").tokenizer(mode=SplitMode.C)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences of ``text``.

    Sentences end at ``。．！？!?`` (with closing brackets that follow) or a line break;
    empty spans are dropped. Spans cover the text in order.
    """
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE_END.finditer(text):
        a, b = m.span()
        if b > a and text[a:b].strip():
            spans.append((a, b))
    return spans


def sentences(text: str) -> list[str]:
    """Return the stripped sentences of ``text`` (see :func:`sentence_spans`)."""
    return [text[a:b].strip() for a, b in sentence_spans(text)]


def _slices(text: str) -> Iterator[tuple[int, str]]:
    for a, b in sentence_spans(text):
        for s in range(a, b, _MAX_CHARS):
            yield s, text[s : min(b, s + _MAX_CHARS)]


def tokenize(text: str) -> list[Token]:
    """Tokenise ``text`` (as given, not normalised) with offsets into ``text``."""
    tok = _tokenizer()
    out: list[Token] = []
    for base, piece in _slices(text):
        for m in tok.tokenize(piece):
            out.append(
                Token(
                    base + m.begin(),
                    base + m.end(),
                    m.surface(),
                    tuple(m.part_of_speech()),
                    m.normalized_form(),
                )
            )
    return out


def _is_content(tok: Token) -> bool:
    pos = tok.pos
    if pos[0] not in _CONTENT_POS or pos[1] in _SKIP_SUBPOS:
        return False
    if pos[0] == "名詞" and pos[1] == "固有名詞" and pos[2] == "人名":
        return False  # a name is personal data, not an intent
    w = tok.normalized
    if w in STOP_WORDS or len(w) == 1 and not ("\u4e00" <= w <= "\u9fff"):
        return False
    return not w.isdigit() and any(c.isalpha() for c in w)


def content_words(text: str) -> list[str]:
    """Return the normalised content words of ``text``, in order.

    The text is :func:`~hiroba.analysis.normalize.normalize`-d first; nouns, verbs,
    adjectives and adjectival nouns are kept by Sudachi's normalised form; numbers,
    personal names, single kana/Latin letters and :data:`STOP_WORDS` are dropped.
    """
    return [t.normalized for t in tokenize(normalize(text)) if _is_content(t)]


def content_words_many(texts: Iterable[str]) -> list[list[str]]:
    """:func:`content_words` for each text; identical texts are tokenised once."""
    cache: dict[str, list[str]] = {}
    out: list[list[str]] = []
    for t in texts:
        words = cache.get(t)
        if words is None:
            words = cache[t] = content_words(t)
        out.append(words)
    return out


class SentenceCache:
    """Tokenise texts sentence by sentence, each distinct sentence once.

    Campaign copies share almost all their sentences, so a million submissions cost
    about as much Sudachi time as their distinct sentences. For each sentence the cache
    keeps only what the report needs: the person-name candidates (as offsets in the
    sentence, see :func:`hiroba.analysis.pii.find_names`) and the content words.
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple[tuple[int, int, str], ...], tuple[str, ...]]] = {}

    def _piece(self, piece: str) -> tuple[tuple[tuple[int, int, str], ...], tuple[str, ...]]:
        hit = self._cache.get(piece)
        if hit is None:
            from hiroba.analysis.pii import find_names

            toks = tokenize(piece)
            names = tuple(find_names(piece, toks))
            words = tuple(t.normalized for t in toks if _is_content(t))
            hit = self._cache[piece] = (names, words)
        return hit

    def names(self, text: str) -> list[tuple[int, int, str]]:
        """Person-name spans of ``text`` (offsets in ``text``)."""
        out: list[tuple[int, int, str]] = []
        for base, piece in _slices(text):
            out.extend((base + a, base + b, k) for a, b, k in self._piece(piece)[0])
        return out

    def words(self, text: str) -> list[str]:
        """Content words of ``text`` (Sudachi normalised forms, stop words removed)."""
        out: list[str] = []
        for _, piece in _slices(text):
            out.extend(self._piece(piece)[1])
        return out
