"""Personal-information spans in opinion texts.

Structured kinds are found by regular expressions run on the **original** text, with
character classes that accept full-width digits, letters, hyphen variants and brackets,
so spans are in characters of the original without any offset mapping; each match is
then validated on its ASCII-normalised digits:

* ``phone`` — domestic numbers of 10 digits (0 + area/city/subscriber, ``0120``,
  ``0570``) or 11 digits (``050/070/080/090/020/060``, ``0800``), with hyphens, spaces,
  dots or brackets (``(03)1234-5678``, ``03(1234)5678``), and ``+81`` forms
  (``+81-3-1234-5678``, ``+81 (0)90 …``);
* ``email`` — ASCII or full-width local part, ``@`` or ``＠``, a dotted domain;
* ``postal_code`` — ``〒`` or ``郵便番号`` followed by ``NNN-NNNN`` / ``NNNNNNN``, or a
  hyphenated ``NNN-NNNN`` directly followed by an address;
* ``address`` — (prefecture) municipality town + block numbers
  (``千代田区九段南1-2-1``, ``東京都千代田区九段南一丁目2番1号``);
* ``individual_number`` — 12 digits (``NNNN NNNN NNNN``, hyphens, full-width) whose
  check digit is valid under the official algorithm (個人番号の検査用数字: weights 2–7,
  mod 11);
* ``url`` — ``http(s)://`` links (a resident's own page may identify them);
* ``person_name`` — Sudachi morphemes tagged 名詞,固有名詞,人名 (姓/名): a 姓 followed by a
  名, or any 人名 morpheme followed by an honorific (さん 様 さま 氏 君 くん ちゃん 殿 先生)
  or preceded by a label (氏名 名前 お名前 担当 申請者).

Digit runs that are part of dates (``2025年3月``), counts (``10,119件``) or page numbers are
not phone numbers because they fail the digit-count and leading-zero rules.
Overlapping spans keep the earliest start, then the longest, then the kind priority
(individual_number > email > url > phone > postal_code > address > person_name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from hiroba.analysis.morphemes import Token
from hiroba.analysis.names import person_names
from hiroba.analysis.tokenize import tokenize

__all__ = ["find_pii", "find_structured", "find_names", "valid_individual_number", "KINDS"]

KINDS = ("individual_number", "email", "url", "phone", "postal_code", "address", "person_name")
_PRIORITY = {k: i for i, k in enumerate(KINDS)}

_D = "[0-9０-９]"
_HY = "[-‐‑‒–—―−ー－ｰ﹣]"
_DIGIT_TABLE = str.maketrans("０１２３４５６７８９", "0123456789")
_KANJI_NUM = "〇一二三四五六七八九十"

# phone: a run of digits with separators, optionally starting with +81 or a bracket
_PHONE = re.compile(
    # not inside a longer run of letters and digits, except directly after TEL / FAX (TEL06-…)
    rf"(?:(?<![0-9０-９A-Za-zＡ-Ｚａ-ｚ])|(?<=[TtＴｔ][EeＥｅ][LlＬｌ])|(?<=[FfＦｆ][AaＡａ][XxＸｘ]))"
    rf"(?:[+＋]\s?[8８]\s?[1１](?:\s?{_HY}\s?|\s)?(?:[(（]\s?[0０]\s?[)）]\s?)?|[(（](?=\s?[0０]))?"
    rf"{_D}(?:{_D}|\s?{_HY}\s?(?={_D}|[(（])|[ 　](?={_D})|[.．](?={_D})|\s?[(（]\s?(?={_D})|\s?[)）]\s?(?={_D}))*"
    rf"(?![0-9０-９])"
)
_MYNUMBER = re.compile(rf"(?<![0-9０-９]){_D}{{4}}(?:[ 　]|{_HY})?{_D}{{4}}(?:[ 　]|{_HY})?{_D}{{4}}(?![0-9０-９])")
_ALNUM = "A-Za-z0-9Ａ-Ｚａ-ｚ０-９"
_EMAIL = re.compile(
    rf"(?<![{_ALNUM}._%+\-．＿＋])[{_ALNUM}_%+\-＿＋](?:[{_ALNUM}._%+\-．＿＋]*[{_ALNUM}_\-＿])?"
    rf"[@＠][{_ALNUM}](?:[{_ALNUM}\-－]*[{_ALNUM}])?(?:[.．][{_ALNUM}](?:[{_ALNUM}\-－]*[{_ALNUM}])?)*[.．][A-Za-zＡ-Ｚａ-ｚ]{{2,}}"
)
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_POSTAL_MARKED = re.compile(
    rf"(?:〒\s?|郵便番号\s?[:：]?\s?(?=[0-9０-９]))({_D}{{3}}{_HY}?{_D}{{4}})(?![0-9０-９])"
)
_PREF = "(?:東京都|北海道|京都府|大阪府|[一-龥]{2,3}県)"
_NAMECH = "[一-龥々ヶケ]"
_TOWNCH = "[一-龥々ヶケがの]"
_NUM = f"(?:{_D}{{1,4}}|[{_KANJI_NUM}]{{1,3}})"
_BLOCK = (
    rf"(?:{_NUM}丁目(?:\s?{_D}{{1,4}}\s?(?:番地?|{_HY})(?:\s?{_D}{{1,4}}\s?号?)?)?"
    rf"|{_D}{{1,4}}\s?番地?(?:\s?{_D}{{1,4}}\s?号)?"
    rf"|{_D}{{1,4}}{_HY}{_D}{{1,4}}(?:{_HY}{_D}{{1,4}})?)"
)
_ADDRESS = re.compile(
    rf"(?:{_PREF}\s?)?(?:{_NAMECH}{{1,4}}?[市郡]\s?)?{_NAMECH}{{1,4}}?[区市町村]\s?{_TOWNCH}{{1,6}}?\s?{_BLOCK}(?![0-9０-９])"
)
_POSTAL_BEFORE_ADDRESS = re.compile(rf"(?<![0-9０-９])(?<!{_HY})({_D}{{3}}{_HY}{_D}{{4}})\s?(?={_PREF}|{_NAMECH}{{1,4}}[市区町村])")

Span = dict[str, int | str]


def _digits(s: str) -> str:
    return "".join(c for c in s.translate(_DIGIT_TABLE) if c.isascii() and c.isdigit())


_FIRST_GROUP = re.compile(r"[0-9０-９]+")


def _valid_phone(raw: str) -> bool:
    digits = _digits(raw)
    groups = _FIRST_GROUP.findall(raw)
    if raw.lstrip("(（ ").startswith(("+", "＋")):
        rest = digits[2:]
        national = rest if rest.startswith("0") else "0" + rest
        groups = groups[1:]
        if groups and groups[0].translate(_DIGIT_TABLE) == "0":  # +81 (0)3 …
            groups = groups[1:]
        area = "0" + groups[0].translate(_DIGIT_TABLE).lstrip("0") if groups else ""
    else:
        national = digits
        area = groups[0].translate(_DIGIT_TABLE) if groups else ""
    if not national.startswith("0") or national.startswith("00"):
        return False
    if len(national) == 11:
        return national[:3] in ("050", "070", "080", "090", "020", "060") or national.startswith("0800")
    if len(national) == 10:
        # 050/070/080/090/020/060 numbers have 11 digits, unless the writing shows a two-digit
        # area code (03, 06: 「06(0530)2573」, 「０６－０５３０－…」)
        return national[:3] not in ("050", "070", "080", "090", "020", "060") or (len(area) == 2 and len(groups) > 1)
    return False


def valid_individual_number(digits: str) -> bool:
    """True when ``digits`` (12 ASCII digits) has a valid 個人番号 check digit.

    Check digit = 11 − (Σ Pn·Qn mod 11), or 0 when the remainder is 0 or 1, where Pn is the
    n-th digit counted from the right *excluding* the check digit and Qn = n + 1 for
    n ≤ 6, n − 5 for 7 ≤ n ≤ 11.
    """
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    body = digits[:11]
    total = 0
    for n in range(1, 12):
        p = int(body[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    check = 0 if r <= 1 else 11 - r
    return check == int(digits[11])


def _phone_spans(text: str) -> Iterable[tuple[int, int]]:
    for m in _PHONE.finditer(text):
        raw = m.group()
        # drop a trailing bracket / separators the pattern may have eaten
        a, b = m.span()
        while b > a and not text[b - 1].translate(_DIGIT_TABLE).isdigit():
            b -= 1
        raw = text[a:b]
        if _valid_phone(raw):
            # a leading "(" only belongs to the number when a ")" follows inside it
            if raw[0] in "(（" and not any(c in ")）" for c in raw):
                a += 1
            yield a, b
            continue
        # two numbers joined by a space: try each whitespace-separated part
        pos = a
        for part in re.split(r"(\s+)", raw):
            if part and not part.isspace() and _valid_phone(part) and len(_digits(part)) >= 10:
                yield pos, pos + len(part)
            pos += len(part)


# Cheap necessary conditions, one per pattern, so that the detailed patterns (and their
# Python-level validation) only run on texts that could hold a match. Every match of a
# pattern implies its hint, so skipping a pattern whose hint is absent never loses a span:
# the result is exactly that of running every pattern (tested on generated texts).
# One C-level scan finds the digit runs and the marker characters; the hints are then read
# off the few matches instead of scanning the text once per pattern. (The pattern starts
# with a single character class, which lets the regex engine skip ahead quickly; an
# alternation would be tried at every position.)
_TRIGGERS = re.compile(r"[0-9０-９@＠〒丁:郵][0-9０-９]*")
_DIGIT_CHARS = frozenset("0123456789０１２３４５６７８９")
_HY_CHARS = frozenset(_HY[1:-1])
_SEP = _HY[1:-1] + r"\s.．()（）"  # hyphen first: a literal, not a range
#: a phone match holds >= 10 digits, consecutive digits at most 6 separator characters apart
#: (``\s?-\s?`` then ``\s?(\s?``), separators being whitespace, hyphens, dots and brackets
_HINT_PHONE = re.compile(rf"{_D}(?:[{_SEP}]{{0,6}}{_D}){{9}}")


def find_structured(text: str) -> list[tuple[int, int, str]]:
    """Structured personal information (everything except names), unresolved overlaps."""
    found: list[tuple[int, int, str]] = []
    runs: list[tuple[int, int]] = []  # maximal runs of digits
    email = url = postal = chome = False
    for m in _TRIGGERS.finditer(text):
        a, b = m.span()
        c = text[a]
        if c in _DIGIT_CHARS:
            runs.append((a, b))
            continue
        if b > a + 1:  # a marker directly followed by digits
            runs.append((a + 1, b))
        if c == "@" or c == "＠":
            email = True
        elif c == "〒":
            postal = True
        elif c == "郵":
            postal = postal or text.startswith("郵便番号", a)
        elif c == "丁":
            chome = chome or text.startswith("丁目", a)
        else:
            url = url or text.startswith("://", a)
    if not runs and not (email or url or postal or chome):
        return found
    n = len(text)
    # digit, hyphen, digit (postal code before an address, 1-2-3 blocks)
    dhd = any(
        b + 1 < n and text[b] in _HY_CHARS and runs[k + 1][0] == b + 1 for k, (_, b) in enumerate(runs[:-1])
    )
    if any(b - a >= 4 for a, b in runs):
        for m in _MYNUMBER.finditer(text):
            if valid_individual_number(_digits(m.group())):
                found.append((m.start(), m.end(), "individual_number"))
    if email:
        for m in _EMAIL.finditer(text):
            found.append((m.start(), m.end(), "email"))
    if url:
        for m in _URL.finditer(text):
            found.append((m.start(), m.end(), "url"))
    if sum(b - a for a, b in runs) >= 10 and _HINT_PHONE.search(text):
        for a, b in _phone_spans(text):
            found.append((a, b, "phone"))
    if postal:
        for m in _POSTAL_MARKED.finditer(text):
            start = m.start() if text[m.start()] == "〒" else m.start(1)
            found.append((start, m.end(1), "postal_code"))
    if dhd:
        for m in _POSTAL_BEFORE_ADDRESS.finditer(text):
            found.append((m.start(1), m.end(1), "postal_code"))
    # a block number: N丁目, N番 / N 番, N-N
    if chome or dhd or any(
        text[b : b + 1] == "番" or (text[b : b + 1].isspace() and text[b + 1 : b + 2] == "番") for _, b in runs
    ):
        for m in _ADDRESS.finditer(text):
            found.append((m.start(), m.end(), "address"))
    return found


def _find_structured_unfiltered(text: str) -> list[tuple[int, int, str]]:
    """Every pattern on the whole text, no hints (the reference the hints are tested against)."""
    found: list[tuple[int, int, str]] = []
    for m in _MYNUMBER.finditer(text):
        if valid_individual_number(_digits(m.group())):
            found.append((m.start(), m.end(), "individual_number"))
    for m in _EMAIL.finditer(text):
        found.append((m.start(), m.end(), "email"))
    for m in _URL.finditer(text):
        found.append((m.start(), m.end(), "url"))
    for a, b in _phone_spans(text):
        found.append((a, b, "phone"))
    for m in _POSTAL_MARKED.finditer(text):
        start = m.start() if text[m.start()] == "〒" else m.start(1)
        found.append((start, m.end(1), "postal_code"))
    for m in _POSTAL_BEFORE_ADDRESS.finditer(text):
        found.append((m.start(1), m.end(1), "postal_code"))
    for m in _ADDRESS.finditer(text):
        found.append((m.start(), m.end(), "address"))
    return found


def find_names(text: str, tokens: Sequence[Token] | None = None) -> list[tuple[int, int, str]]:
    """Person names from Sudachi's 人名 tags with context (rules in :mod:`hiroba.analysis.names`);
    ``text`` is tokenised unless its ``tokens`` are given."""
    return person_names(text, tokens if tokens is not None else tokenize(text))


def _resolve(spans: list[tuple[int, int, str]]) -> list[Span]:
    spans = sorted(set(spans), key=lambda s: (s[0], -(s[1] - s[0]), _PRIORITY[s[2]]))
    out: list[Span] = []
    end = -1
    for a, b, kind in spans:
        if a >= end:
            out.append({"start": a, "end": b, "kind": kind})
            end = b
    return out


def find_pii(
    text: str,
    *,
    names: bool = True,
    tokenizer: Callable[[str], list[Token]] | None = None,
) -> list[Span]:
    """Personal-information spans of ``text``: ``[{"start", "end", "kind"}]`` sorted by
    start, non-overlapping, offsets in characters of ``text``."""
    spans = find_structured(text)
    if names:
        spans.extend(find_names(text, (tokenizer or tokenize)(text)))
    return _resolve(spans)
