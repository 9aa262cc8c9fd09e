"""Text normalisation for Japanese opinions.

Two entry points:

* :func:`normalize` — the fast path (whole-string C routines) used for hashing,
  duplicate detection and tokenisation input.
* :func:`normalize_with_offsets` — the same steps done per character cluster, also
  returning, for every character of the normalised text, the offset of the
  original character it came from. Use it when a position in the normalised text
  must be reported in characters of the original.

Steps, in this order (the order is what makes :func:`normalize` idempotent):

1. remove control and format characters (Unicode Cc/Cf) that are not whitespace —
   zero-width spaces, BOMs, bidi marks, NULs;
2. NFKC — full-width ASCII and digits become half-width, half-width katakana become
   full-width (with their voiced marks composed), compatibility forms are unfolded;
3. whitespace runs collapse to one ``"\\n"`` when they contain a line break, else to one
   ``" "``; the ends are stripped;
4. dash and long-vowel variants (``ー－―‐‑‒–—−ｰ﹣``) are unified: a run that follows a
   kana becomes the long-vowel mark ``ー`` (``デ－タ`` → ``データ``), any other run becomes
   ASCII ``-`` (``03ー1234`` → ``03-1234``); wave dashes ``〜～`` become ``~``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "normalize",
    "normalize_with_offsets",
    "fingerprint",
    "DASHES",
]

#: Characters treated as a dash or long-vowel mark (after NFKC).
DASHES = "-‐‑‒–—―−ー－ｰ﹣⁃"
_DASH_RUN = re.compile("[" + re.escape(DASHES) + "]+")
_KANA_CLASS = "ぁ-ゖゝゞァ-ヺー-ヾ"
_OTHER_DASHES = DASHES.replace("ー", "")
# Only runs that change: a run holding a dash other than ー, or ー not after a kana.
# (A run of ー after a kana is already in its normal form; skipping it avoids a Python
# callback per katakana word.)
_DASH_FIX = re.compile(
    "[" + re.escape(DASHES) + "]*[" + re.escape(DASHES.replace("ー", "")) + "][" + re.escape(DASHES) + "]*"
    + "|(?<![" + _KANA_CLASS + "])ー+"
)
_WS_RUN = re.compile(r"\s+")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_WAVES = str.maketrans({"\u301c": "~", "\uff5e": "~"})  # WAVE DASH, FULLWIDTH TILDE


def _is_kana(ch: str) -> bool:
    o = ord(ch)
    # hiragana ぁ-ゖ ゝゞ, katakana ァ-ヺ ー-ヾ (ー itself counts, so runs stay stable)
    return 0x3041 <= o <= 0x3096 or o in (0x309D, 0x309E) or 0x30A1 <= o <= 0x30FA or 0x30FC <= o <= 0x30FE


@lru_cache(maxsize=1)
def _control_chars() -> frozenset[int]:
    # Cc/Cf only occur in planes 0, 1 and 14 (planes 2-13 are ideographs or unassigned,
    # 15-16 private use), so scanning those is enough and takes a fraction of a second.
    cps = [*range(0x20000), *range(0xE0000, 0xE1000)]
    return frozenset(
        cp for cp in cps if unicodedata.category(chr(cp)) in ("Cc", "Cf") and not chr(cp).isspace()
    )


@lru_cache(maxsize=1)
def _control_re() -> re.Pattern[str]:
    cps = sorted(_control_chars())
    ranges: list[str] = []
    start = prev = cps[0]
    for cp in cps[1:] + [-1]:
        if cp != prev + 1:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev != start else ""))
            start = cp
        prev = cp
    return re.compile("[" + "".join(ranges) + "]+")


def _control_table() -> dict[int, None]:
    return dict.fromkeys(_control_chars())


def _is_control(ch: str) -> bool:
    return ord(ch) in _control_chars()


def _ws_repl(m: re.Match[str]) -> str:
    return "\n" if any(c in _LINE_BREAKS for c in m.group()) else " "


def _dash_repl(m: re.Match[str]) -> str:
    start = m.start()
    prev = m.string[start - 1] if start > 0 else ""
    mark = "ー" if prev and _is_kana(prev) else "-"
    return mark * (m.end() - start)


def normalize(text: str) -> str:
    """Return the normalised form of ``text`` (see the module docstring).

    >>> normalize("ＤＸ戦略　デ－タ ０３ー１２３４")
    'DX戦略 データ 03-1234'
    """
    s = _normalize_once(text)
    # A second pass is a no-op unless the result is not NFKC-stable (rare: NFKC yielding a
    # space before a combining mark, e.g. "¨"); then iterate to the fixed point.
    if unicodedata.is_normalized("NFKC", s):
        return s
    for _ in range(4):
        t = _normalize_once(s)
        if t == s:
            break
        s = t
    return s


# Full-width ASCII (U+FF01-FF5E) decomposes to ASCII under NFKC. CPython's NFKC is slow
# (about 100 µs for 300 characters of Japanese) as soon as one character needs it, which
# full-width digits do; mapping them first (a regex over the few runs: str.translate is slow
# on non-ASCII strings) usually leaves a string that passes NFKC's quick check. The result
# is the same: both strings have the same compatibility decomposition.
_FULLWIDTH_RUN = re.compile("[\uff01-\uff5e]+")
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}


def _fullwidth_repl(m: re.Match[str]) -> str:
    return m.group().translate(_FULLWIDTH)


def _nfkc(s: str) -> str:
    if unicodedata.is_normalized("NFKC", s):
        return s
    return unicodedata.normalize("NFKC", _FULLWIDTH_RUN.sub(_fullwidth_repl, s))


def _normalize_once(text: str) -> str:
    # Fast paths: str.isprintable() is false for every Cc/Cf and for every whitespace but
    # the ASCII space, so clean texts skip the (slower) regular-expression passes.
    s = text if text.isprintable() else _control_re().sub("", text)
    s = _nfkc(s)
    if not s.isprintable() or "  " in s or s[:1] == " " or s[-1:] == " ":
        s = _WS_RUN.sub(_ws_repl, s).strip()
    s = s.replace("〜", "~").replace("～", "~")
    return _fix_dashes(s)


# A dash other than ー, or ー not after a kana: the only texts _DASH_FIX would change.
# Two C-level scans, each starting with a character class or a literal so that the regex
# engine skips ahead quickly (instead of a search per dash variant plus a Python loop
# over every ー of every katakana word).
_DASH_OTHER_RE = re.compile("[" + re.escape(_OTHER_DASHES) + "]")
_LONG_NOT_AFTER_KANA = re.compile("ー(?<![" + _KANA_CLASS + "]ー)")


def _fix_dashes(s: str) -> str:
    if _DASH_OTHER_RE.search(s) or _LONG_NOT_AFTER_KANA.search(s):
        return _DASH_FIX.sub(_dash_repl, s)
    return s


def fingerprint(text: str) -> str:
    """Return the key used for exact-duplicate detection and shingling.

    :func:`normalize`, then all whitespace removed (PDF and form copies differ in
    spacing such as ``2025 年 3 月`` / ``2025年3月``) and Latin letters lower-cased.
    """
    s = _fingerprint_once(text)
    if unicodedata.is_normalized("NFKC", s) and s == s.lower():
        return s
    for _ in range(4):  # fixed point, as in normalize()
        t = _fingerprint_once(s)
        if t == s:
            break
        s = t
    return s


def _fingerprint_once(text: str) -> str:
    # _normalize_once without its whitespace collapse: all whitespace is removed next, and
    # collapsing cannot change the dash step (whitespace is neither a dash nor a kana).
    s = text if text.isprintable() else _control_re().sub("", text)
    s = _nfkc(s)
    if "〜" in s or "～" in s:
        s = s.replace("〜", "~").replace("～", "~")
    s = _fix_dashes(s)
    s = "".join(s.split()).lower()
    s = _nfkc(s)
    return _fix_dashes(s)


def _clusters(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into (start, end) clusters: a base character and the marks
    that NFKC may compose with it (combining marks, half-width voiced marks)."""
    out: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i < len(text):
            ch = text[i]
            norm = unicodedata.normalize("NFKC", ch)
            joins = bool(norm) and (
                unicodedata.combining(norm[0]) != 0 or 0x1160 <= ord(norm[0]) <= 0x11FF
            )
            if joins:
                continue
        out.append((start, i))
        start = i
    return out


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` and map each output character to an original offset.

    Returns ``(normalised, offsets)`` with ``len(offsets) == len(normalised)``;
    ``offsets[i]`` is the index in ``text`` of the character (cluster start) that
    produced ``normalised[i]``. Offsets are non-decreasing and ``< len(text)``.
    A span ``[a, b)`` of the normalised text covers ``text[offsets[a]:end]`` where
    ``end`` is ``offsets[b]`` (or ``len(text)`` when ``b == len(normalised)``).
    """
    table = _control_chars()
    # 1. controls
    kept = [(i, c) for i, c in enumerate(text) if ord(c) not in table]
    base = "".join(c for _, c in kept)
    base_off = [i for i, _ in kept]
    # 2. NFKC per cluster
    chars: list[str] = []
    offs: list[int] = []
    for a, b in _clusters(base):
        piece = unicodedata.normalize("NFKC", base[a:b])
        chars.extend(piece)
        offs.extend([base_off[a]] * len(piece))
    s = "".join(chars)
    # 3. whitespace collapse and strip
    out_c: list[str] = []
    out_o: list[int] = []
    pos = 0
    for m in _WS_RUN.finditer(s):
        out_c.extend(s[pos : m.start()])
        out_o.extend(offs[pos : m.start()])
        out_c.append(_ws_repl(m))
        out_o.append(offs[m.start()])
        pos = m.end()
    out_c.extend(s[pos:])
    out_o.extend(offs[pos:])
    while out_c and out_c[0] in (" ", "\n"):
        out_c.pop(0)
        out_o.pop(0)
    while out_c and out_c[-1] in (" ", "\n"):
        out_c.pop()
        out_o.pop()
    # 4. waves and dashes are one-to-one replacements
    s = "".join(out_c).translate(_WAVES)
    s = _DASH_FIX.sub(_dash_repl, s)
    return s, out_o
