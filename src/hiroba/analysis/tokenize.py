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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from hiroba.analysis.morphemes import Token
from hiroba.analysis.names import person_names
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
#: verbs and adjectives: content words only when 一般 (自立). Sudachi tags the ones that also
#: serve as auxiliaries 非自立可能 (する ある なる できる 付く 掛かる 無い 良い 欲しい …): they say
#: nothing about what an opinion is about.
_INFLECTING = ("動詞", "形容詞")
_DEPENDENT = "非自立可能"

#: Markup inside an opinion (a pasted web page, an HTML mail, a probe such as
#: ``<script>…</script>``): tags, escaped tags, character references, and the code inside
#: script and style elements. Sudachi reads ``script`` as the noun
#: スクリプト, ``lt`` as LT; words inside markup are not the resident's words.
_MARKUP = re.compile(
    r"(?is)[<＜]\s*(script|style)\b[^<>＜＞]{0,300}[>＞].{0,2000}?[<＜]\s*/\s*\1\s*[>＞]"  # code, not words
    r"|&lt;\s*/?\s*[A-Za-z][^&<>\n]{0,300}?&gt;"  # an escaped tag
    r"|[<＜]\s*/?\s*[A-Za-zＡ-Ｚａ-ｚ][^<>＜＞\n]{0,300}[>＞]"
    r"|&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)


def markup_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each tag and character reference in ``text`` (see ``_MARKUP``)."""
    if "<" not in text and "＜" not in text and "&" not in text:
        return []
    return [m.span() for m in _MARKUP.finditer(text)]


def _in_spans(pos: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _kana_only(w: str) -> bool:
    """Hiragana only: a verb or adjective Sudachi could not pin to one written form
    (つく for 付く/着く/突く/吐く/就く, たまる): too ambiguous to carry a subject."""
    return all("\u3041" <= c <= "\u309f" for c in w)


#: Morpheme fields the analysis reads. Loading only these (Sudachi "subsetting") makes
#: tokenisation about 40 % faster and changes nothing else: segmentation, part of speech
#: and normalised form are the same (checked on 49,000 distinct sentences).
_FIELDS = frozenset({"pos", "normalized_form"})


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").tokenizer(mode=SplitMode.C, fields=set(_FIELDS))


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
    yield from pieces(text)


def pieces(text: str) -> list[tuple[int, str]]:
    """The units Sudachi sees: ``(offset, piece)`` for each non-blank sentence of
    :func:`sentence_spans` (unstripped), sentences over ``_MAX_CHARS`` in slices.

    The sentence pattern matches at every position, so its matches tile the text and
    offsets are running sums of their lengths (one C-level ``findall``, no per-character
    work in Python).
    """
    out: list[tuple[int, str]] = []
    pos = 0
    for m in _SENTENCE_END.findall(text):
        n = len(m)
        if n and not m.isspace():
            if n <= _MAX_CHARS:
                out.append((pos, m))
            else:
                out.extend((pos + s, m[s : s + _MAX_CHARS]) for s in range(0, n, _MAX_CHARS))
        pos += n
    return out


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


def _is_content(tok: Token, markup: Sequence[tuple[int, int]] = ()) -> bool:
    """The reference rule for a content word (``markup``: spans of the tokenised text to skip)."""
    pos = tok.pos
    if pos[0] not in _CONTENT_POS or pos[1] in _SKIP_SUBPOS:
        return False
    if pos[0] == "名詞" and pos[1] == "固有名詞" and pos[2] == "人名":
        return False  # a name is personal data, not an intent
    if pos[0] in _INFLECTING and (pos[1] == _DEPENDENT or _kana_only(tok.normalized)):
        return False
    if markup and _in_spans(tok.begin, markup):
        return False
    w = tok.normalized
    if w in STOP_WORDS or len(w) == 1 and not ("\u4e00" <= w <= "\u9fff"):
        return False
    return not w.isdigit() and any(c.isalpha() for c in w)


def content_words(text: str) -> list[str]:
    """Return the normalised content words of ``text``, in order.

    The text is :func:`~hiroba.analysis.normalize.normalize`-d first; nouns, verbs,
    adjectives and adjectival nouns are kept by Sudachi's normalised form; numbers,
    personal names, single kana/Latin letters, :data:`STOP_WORDS`, verbs and adjectives
    that Sudachi tags 非自立可能 or can only write in hiragana, and words inside markup
    (tags, character references) are dropped.
    """
    text = normalize(text)
    markup = markup_spans(text)
    return [t.normalized for t in tokenize(text) if _is_content(t, markup)]


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


# Per-process memo of part-of-speech classes (by Sudachi's POS id) and of the content-word
# test (by normalised form): the same few thousand POS and words recur in every sentence.
_OTHER, _CONTENT, _NAME, _INFLECTED = 0, 1, 2, 3
_POS_CLASS: dict[int, int] = {}
_WORD: dict[str, str | None] = {}

NameSpan = tuple[int, int, str]
PieceInfo = tuple[tuple[NameSpan, ...], tuple[str, ...]]


def _pos_class(m: Any) -> int:
    pid = m.part_of_speech_id()
    c = _POS_CLASS.get(pid)
    if c is None:
        pos = tuple(m.part_of_speech())
        if pos[:3] == ("名詞", "固有名詞", "人名"):
            c = _NAME  # a name is personal data, not an intent
        elif pos[0] in _INFLECTING and pos[1] == _DEPENDENT:
            c = _OTHER
        elif pos[0] in _CONTENT_POS and pos[1] not in _SKIP_SUBPOS:
            c = _INFLECTED if pos[0] in _INFLECTING else _CONTENT
        else:
            c = _OTHER
        _POS_CLASS[pid] = c
    return c


def _content_word(w: str) -> str | None:
    """``w`` (one shared copy per process) when it is a content word, else ``None``;
    the word-level half of :func:`_is_content`."""
    try:
        return _WORD[w]
    except KeyError:
        ok = not (w in STOP_WORDS or len(w) == 1 and not ("\u4e00" <= w <= "\u9fff"))
        ok = ok and not w.isdigit() and any(c.isalpha() for c in w)
        r = _WORD[w] = w if ok else None
        return r


def analyse_piece(piece: str) -> PieceInfo:
    """Person-name spans (offsets in ``piece``) and content words of one sentence piece.

    The same result as :func:`hiroba.analysis.names.person_names` over :func:`tokenize` and the
    content words of :func:`_is_content`, without building a :class:`Token` per morpheme:
    part-of-speech classes are looked up by POS id, and tokens are only materialised for
    the name rules when the sentence holds a 人名 morpheme at all.
    """
    ml = _tokenizer().tokenize(piece)
    words: list[str] = []
    has_name = False
    markup = markup_spans(piece)
    for m in ml:
        c = _pos_class(m)
        if c == _CONTENT or c == _INFLECTED:
            w = _content_word(m.normalized_form())
            if w is not None and not (c == _INFLECTED and _kana_only(w)) and not (markup and _in_spans(m.begin(), markup)):
                words.append(w)
        elif c == _NAME:
            has_name = True
    if not has_name:
        return (), tuple(words)
    toks = [Token(m.begin(), m.end(), m.surface(), tuple(m.part_of_speech()), m.normalized_form()) for m in ml]
    return tuple(person_names(piece, toks)), tuple(words)


def _analyse_chunk(pieces: Sequence[str], chunk: tuple[int, int, bool]) -> list[Any]:
    """Worker: :func:`analyse_piece` for ``pieces[a:b]``; only the names when ``names_only``
    (as ``(index, names)`` for the pieces that have any, to keep the pipe light)."""
    a, b, names_only = chunk
    if names_only:
        out: list[Any] = []
        for k in range(a, b):
            names = analyse_piece(pieces[k])[0]
            if names:
                out.append((k, names))
        return out
    return [analyse_piece(pieces[k]) for k in range(a, b)]


class SentenceCache:
    """Tokenise texts sentence by sentence, each distinct sentence once.

    Campaign copies share almost all their sentences, so a million submissions cost
    about as much Sudachi time as their distinct sentences. For each sentence the cache
    keeps only what the report needs: the person-name candidates (as offsets in the
    sentence, see :func:`hiroba.analysis.names.person_names`) and the content words.

    :meth:`fill` tokenises many pieces at once, in ``workers`` processes when there are
    enough of them (results are merged in order, so the cache content does not depend on
    the number of workers).
    """

    def __init__(self, workers: int = 1) -> None:
        self._cache: dict[str, PieceInfo] = {}
        self.workers = workers

    def __contains__(self, piece: str) -> bool:
        return piece in self._cache

    def known(self) -> Mapping[str, PieceInfo]:
        """The cache itself (read-only use: membership tests in worker processes)."""
        return self._cache

    def items(self) -> Iterable[tuple[str, PieceInfo]]:
        """``(piece, (names, words))`` of every cached piece."""
        return self._cache.items()

    def _piece(self, piece: str) -> PieceInfo:
        hit = self._cache.get(piece)
        if hit is None:
            hit = self._cache[piece] = analyse_piece(piece)
        return hit

    def missing(self, texts: Iterable[str]) -> list[str]:
        """Distinct pieces of ``texts`` not yet in the cache (first-seen order)."""
        cache = self._cache
        seen: dict[str, None] = {}
        for t in texts:
            for _, p in pieces(t):
                if p not in cache:
                    seen[p] = None
        return list(seen)

    def fill(self, todo: Sequence[str], done: Callable[[int, int], None] | None = None) -> None:
        """Tokenise the distinct pieces ``todo`` (none of them cached yet), in parallel
        when there are many; ``done(n, total)`` reports progress."""
        from hiroba.analysis import parallel

        _tokenizer()  # load the dictionary once, before forking: workers share its pages
        size = _chunk_size(len(todo), self.workers)
        chunks = [(a, b, False) for a, b in parallel.ranges(len(todo), size)]
        results = parallel.run(_analyse_chunk, todo, chunks, workers=self.workers, items=len(todo),
                               done=(lambda k: done(min(len(todo), k * size), len(todo))) if done else None)
        cache = self._cache
        canon = _WORD  # one copy of each word in this process, whichever worker produced it
        for (a, _, _), infos in zip(chunks, results, strict=True):
            for k, (names, words) in enumerate(infos, a):
                cache[todo[k]] = (names, tuple([canon.setdefault(w, w) or w for w in words]))

    def names(self, text: str) -> list[NameSpan]:
        """Person-name spans of ``text`` (offsets in ``text``)."""
        out: list[NameSpan] = []
        for base, piece in pieces(text):
            out.extend((base + a, base + b, k) for a, b, k in self._piece(piece)[0])
        return out

    def words(self, text: str) -> list[str]:
        """Content words of ``text`` (Sudachi normalised forms, stop words removed)."""
        out: list[str] = []
        for _, piece in pieces(text):
            out.extend(self._piece(piece)[1])
        return out


def names_of_pieces(
    todo: Sequence[str], workers: int, done: Callable[[int, int], None] | None = None
) -> dict[str, tuple[NameSpan, ...]]:
    """The pieces of ``todo`` (distinct) that hold person names, with their name spans;
    tokenised in parallel when there are many (only the few hits cross the pipe)."""
    from hiroba.analysis import parallel

    _tokenizer()
    size = _chunk_size(len(todo), workers)
    chunks = [(a, b, True) for a, b in parallel.ranges(len(todo), size)]
    results = parallel.run(_analyse_chunk, todo, chunks, workers=workers, items=len(todo),
                           done=(lambda k: done(min(len(todo), k * size), len(todo))) if done else None)
    return {todo[k]: names for hits in results for k, names in hits}


def _chunk_size(n: int, workers: int) -> int:
    # about 100 chunks per run (progress every ~1 %), at least 500 pieces each
    return max(500, -(-n // max(100, 4 * workers)))
