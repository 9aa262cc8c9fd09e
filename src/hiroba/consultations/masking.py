"""Personal information in published opinions: detect, decide, apply.

A detector is any function `text -> [{"start", "end", "kind"}]` (character offsets). The default
uses `hiroba.analysis.pii.find_pii` (structured kinds by pattern, names by Sudachi's 人名 tags)
and adds identifying details a ward reviews by hand: a named school or facility a child attends
and family circumstances. If `hiroba.analysis` cannot be imported, a small structured-only
detector in this module is used instead, so publication never runs without masking.

Structured kinds (phone, e-mail, postal code, street address, My Number) are masked
automatically; everything else is flagged for staff, who keep or mask it. Spans still waiting
for a decision are masked in every export: nothing personal goes public unreviewed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

Span = dict[str, Any]
Detector = Callable[[str], list[Span]]

AUTO_KINDS = frozenset({"phone", "email", "postal_code", "address", "individual_number"})
MASK_TEXT = "＊＊＊"

KIND_LABELS = {
    "phone": "電話番号",
    "email": "メールアドレス",
    "postal_code": "郵便番号",
    "address": "住所",
    "individual_number": "個人番号（マイナンバー）",
    "url": "URL",
    "person_name": "人名",
    "school": "学校・施設名",
    "family": "家族の状況",
    "staff": "職員が指定",
}

_SCHOOL = re.compile(
    r"(?:[一-龥々ヶ]{0,6}?(?:区立|市立|都立|県立|私立|国立))?[一-龥々ヶァ-ヶー]{1,12}?"
    r"(?:小学校|中学校|高等学校|高校|中等教育学校|義務教育学校|幼稚園|保育園|保育所|こども園|学童クラブ|特別支援学校)"
)
_FAMILY = re.compile(
    r"(?:長男|長女|次男|次女|三男|三女|息子|娘|父親（私）|母親（私）|私の(?:夫|妻|父|母|子)|"
    r"夫の(?:DV|ＤＶ|暴力)|ひとり親|離婚|別居中|生活保護|障害者手帳|要介護[1-5１-５]?)"
)


def identifying_details(text: str) -> list[Span]:
    """School/facility names and family circumstances: never masked without a person deciding."""
    spans: list[Span] = []
    for pattern, kind in ((_SCHOOL, "school"), (_FAMILY, "family")):
        for m in pattern.finditer(text):
            if m.group() in ("小学校", "中学校", "高校", "幼稚園", "保育園"):
                continue  # a bare 小学校 names no one
            spans.append({"start": m.start(), "end": m.end(), "kind": kind})
    return spans


# --- the fallback structured detector ---------------------------------------------------------
_D = "[0-9０-９]"
_HY = "[\\-‐‑–—−ー－]"
_SEP = "[ 　\\-‐‑–—−ー－]"
_F_PHONE = re.compile(rf"(?<![0-9０-９])0{_D}{{1,4}}{_HY}?{_D}{{1,4}}{_HY}?{_D}{{3,4}}(?![0-9０-９])")
_F_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+[@＠][A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_F_POSTAL = re.compile(rf"〒\s?{_D}{{3}}{_HY}?{_D}{{4}}")
_F_MYNUMBER = re.compile(rf"(?<![0-9０-９]){_D}{{4}}{_SEP}?{_D}{{4}}{_SEP}?{_D}{{4}}(?![0-9０-９])")
_F_ADDRESS = re.compile(
    rf"(?:東京都|北海道|京都府|大阪府|[一-龥]{{2,3}}県)?[一-龥]{{1,4}}[区市町村][一-龥]{{1,6}}?"
    rf"(?:{_D}{{1,4}}丁目{_D}{{1,4}}番(?:地)?(?:{_D}{{1,4}}号)?|{_D}{{1,4}}{_HY}{_D}{{1,4}}(?:{_HY}{_D}{{1,4}})?)"
)
_TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")


def my_number_is_valid(digits: str) -> bool:
    """個人番号の検査用数字 (check digit): weights 2–7 from the right, mod 11."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    total = sum(int(digits[10 - i]) * (i + 2 if i < 6 else i - 4) for i in range(11))
    remainder = total % 11
    return int(digits[11]) == (0 if remainder <= 1 else 11 - remainder)


def structured_detector(text: str) -> list[Span]:
    """Phone, e-mail, 〒 postal code, 12-digit My Number (check digit) and street address."""
    spans: list[Span] = []
    for m in _F_MYNUMBER.finditer(text):
        digits = re.sub(r"\D", "", m.group().translate(_TO_ASCII))
        if my_number_is_valid(digits):
            spans.append({"start": m.start(), "end": m.end(), "kind": "individual_number"})
    for pattern, kind in ((_F_EMAIL, "email"), (_F_POSTAL, "postal_code"), (_F_ADDRESS, "address")):
        spans.extend({"start": m.start(), "end": m.end(), "kind": kind} for m in pattern.finditer(text))
    for m in _F_PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group().translate(_TO_ASCII))
        if len(digits) in (10, 11):
            spans.append({"start": m.start(), "end": m.end(), "kind": "phone"})
    return resolve(spans)


def resolve(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping: the earliest start wins, then the longest."""
    ordered = sorted(spans, key=lambda s: (s["start"], -(s["end"] - s["start"])))
    out: list[Span] = []
    end = -1
    for span in ordered:
        if span["start"] >= end:
            out.append({"start": span["start"], "end": span["end"], "kind": span["kind"]})
            end = span["end"]
    return out


def default_detector(text: str) -> list[Span]:
    try:
        from hiroba.analysis.pii import find_pii
    except ImportError:  # the analysis package is optional at run time
        base = structured_detector(text)
    else:
        base = list(find_pii(text))
    return resolve([*base, *identifying_details(text)])


def get_detector() -> Detector:
    from django.utils.module_loading import import_string

    from hiroba.consultations import conf

    return import_string(conf.get("CONSULTATIONS_PII_DETECTOR"))


def apply(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with every span replaced by the mask mark (overlaps merged)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out.append(text[pos:start])
        out.append(MASK_TEXT)
        pos = end
    out.append(text[pos:])
    return "".join(out)
