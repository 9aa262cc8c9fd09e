"""The guideline's naming rules and folder zones as data, and the checks the scanner runs.

Pure Python (no Django): the scanner calls it for every name of a walk of millions of files, so
a rule is compiled once (`compile_rules`) and each check is a few string operations.

A rule is a dict, as the guideline stores it::

    {"code": "forbidden_words", "kind": "forbidden_words", "applies_to": "both",
     "words": ["最新", "コピー", "新しいフォルダー"],
     "message": "「最新」「コピー」などの語は使わない", "example": "R06_予算要求資料.xlsx",
     "counter_example": "予算要求資料 - コピー (最新).xlsx"}

kinds: ``forbidden_words`` (words), ``personal_name`` (surnames), ``max_length`` (max),
``forbidden_chars`` (chars), ``leading_fiscal_year`` (folders of the zones that require it),
``temporary_file`` (prefixes such as ``~$``). Each violation carries the rule's code and a
suggested name built by applying every rule's fix in order, so the suggestion passes the rules.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: Part of `Rules.digest`: raise it when `Rules.check` finds something else for the same rules,
#: so that a re-scan checks every name again instead of reusing the previous scan's results.
CHECK_VERSION = 1

KINDS = ("forbidden_words", "personal_name", "max_length", "forbidden_chars", "leading_fiscal_year",
         "temporary_file")

#: A name that starts with a fiscal year: R06_, R6_, 令和6年度_, H30_, 2024_ or 2024年度_.
FISCAL_YEAR_PREFIX = re.compile(r"^(?:R\d{1,2}|H\d{1,2}|令和\d{1,2}年度|平成\d{1,2}年度|20\d\d(?:年度)?)[_\-　 ]")


def fiscal_year_prefix(fiscal_year: int) -> str:
    """R06_ for 2024 (令和), H30_ for 2018 (平成)."""
    if fiscal_year >= 2019:
        return f"R{fiscal_year - 2018:02d}_"
    return f"H{fiscal_year - 1988:02d}_"


def fiscal_year_of(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


@dataclass(frozen=True)
class Zone:
    """A top-level folder of a share (全庁共有, 所属共有, 作業用, 保存用) and its limits."""

    name: str
    folder: str
    max_depth: int
    work: bool = False  # a work area: files not modified for `stale_days` are stale
    fiscal_year_folders: bool = False  # its first-level folders must start with a fiscal year

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Zone:
        return cls(name=str(data["name"]), folder=str(data["folder"]), max_depth=int(data.get("max_depth", 5)),
                   work=bool(data.get("work", False)), fiscal_year_folders=bool(data.get("fiscal_year_folders", False)))


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    suggestion: str


@dataclass
class Rules:
    """Compiled naming rules: `check(name, is_dir)` → violations with one suggested name."""

    rules: Sequence[Mapping[str, Any]]
    _words: list[tuple[str, str, list[str]]] = field(default_factory=list, init=False)
    _words_re: list[tuple[str, str, re.Pattern[str]]] = field(default_factory=list, init=False)
    _names: list[tuple[str, str, re.Pattern[str]]] = field(default_factory=list, init=False)
    _lengths: list[tuple[str, str, str, int]] = field(default_factory=list, init=False)
    _chars: list[tuple[str, str, str, frozenset[str]]] = field(default_factory=list, init=False)
    _temp: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list, init=False)
    fiscal_year_rule: tuple[str, str] | None = field(default=None, init=False)
    _any: re.Pattern[str] | None = field(default=None, init=False)  # matches a name some rule may break
    _shortest_limit: int = field(default=10**9, init=False)
    _surnames: list[str] = field(default_factory=list, init=False)
    digest: str = field(default="", init=False)  # of the rules and CHECK_VERSION: same digest, same results
    _order: dict[str, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.digest = hashlib.sha256(json.dumps([CHECK_VERSION, list(self.rules)], sort_keys=True, default=str,
                                                ensure_ascii=False).encode("utf-8")).hexdigest()
        for r in self.rules:
            kind, code, message = r["kind"], r.get("code", r["kind"]), r.get("message", "")
            applies = r.get("applies_to", "both")
            if kind not in KINDS:
                raise ValueError(f"unknown naming rule kind {kind!r}")
            if kind == "forbidden_words":
                words = sorted((str(w) for w in r.get("words", [])), key=len, reverse=True)
                # A word and the brackets or separators around it: 「 - コピー」「(最新)」「_最新」.
                pattern = re.compile(r"[\s_\-]*[\(（\[【]?\s*(?:" + "|".join(re.escape(w) for w in words)
                                     + r")\s*(?:\s*\(?\d+\)?)?[\)）\]】]?")
                self._words_re.append((code, message, pattern))
                self._words.append((code, applies, words))
            elif kind == "personal_name":
                surnames = sorted((str(s) for s in r.get("surnames", [])), key=len, reverse=True)
                self._surnames += surnames
                suffix = r"(?:さん|様|さま|氏|用|分|作業|確認|メモ|個人)"
                pattern = re.compile(r"[\s_\-（(]*(?:" + "|".join(re.escape(s) for s in surnames) + r")"
                                     + r"(?:" + suffix + r"+|(?=[\s_\-.)）]|$))[）)]?")
                self._names.append((code, message, pattern))
            elif kind == "max_length":
                self._lengths.append((code, message, applies, int(r["max"])))
            elif kind == "forbidden_chars":
                self._chars.append((code, message, applies, frozenset(str(r.get("chars", "")))))
            elif kind == "temporary_file":
                self._temp.append((code, message, tuple(str(p) for p in r.get("prefixes", ["~$", "~", ".~lock"]))))
            elif kind == "leading_fiscal_year":
                self.fiscal_year_rule = (code, message)
        # One pattern that finds any word, surname, character or prefix a rule forbids: a name it
        # does not match (most names) and that is short enough breaks no rule but the fiscal year's.
        plain = [w for _, _, words in self._words for w in words] + self._surnames
        alternatives = [re.escape(w) for w in sorted(set(plain), key=len, reverse=True)]
        chars = "".join(sorted(set().union(*(c for _, _, _, c in self._chars)))) if self._chars else ""
        if chars:
            alternatives.append("[" + re.escape(chars) + "]")
        alternatives += ["^" + re.escape(prefix) for _, _, prefixes in self._temp for prefix in prefixes]
        self._any = re.compile("|".join(f"(?:{a})" for a in alternatives)) if alternatives else None
        self._shortest_limit = min((limit for _, _, _, limit in self._lengths), default=10**9)
        # the order in which `check` lists the rules a name breaks
        codes = [c for c, _, _ in self._temp] + [c for c, _, _ in self._words] + [c for c, _, _ in self._names]
        codes += [c for c, _, _, _ in self._chars] + ([self.fiscal_year_rule[0]] if self.fiscal_year_rule else [])
        codes += [c for c, _, _, _ in self._lengths]
        for i, code in enumerate(codes):
            self._order.setdefault(code, i)

    def order(self, rule: str) -> int:
        """Where `check` lists a violation of `rule` among those of one name (to put stored
        results back in the order `check` gives them)."""
        return self._order.get(rule, len(self._order))

    def check(self, name: str, *, is_dir: bool, needs_fiscal_year: bool = False,
              fiscal_year: int | None = None) -> list[Violation]:
        """The rules `name` breaks, each with the same suggested name (all fixes applied)."""
        if (len(name) <= self._shortest_limit and not needs_fiscal_year
                and (self._any is None or self._any.search(name) is None)):
            return []
        broken: list[tuple[str, str]] = []
        stem, ext = (name, "") if is_dir else _split_ext(name)
        suggestion = stem
        for code, message, prefixes in self._temp:
            if not is_dir and name.startswith(prefixes):
                return [Violation(code, message, "")]  # an editor's lock file: no name to suggest
        for (code, applies, words), (_, message, pattern) in zip(self._words, self._words_re, strict=True):
            if _applies(applies, is_dir) and any(w in stem for w in words):
                broken.append((code, message))
                suggestion = pattern.sub("", suggestion)
        for code, message, pattern in self._names:
            if pattern.search(stem):
                broken.append((code, message))
                suggestion = pattern.sub("", suggestion)
        for code, message, applies, chars in self._chars:
            if _applies(applies, is_dir) and any(c in chars for c in stem):
                broken.append((code, message))
                suggestion = "".join(_replacement(c) if c in chars else c for c in suggestion)
        suggestion = re.sub(r"[_\s]{2,}", "_", suggestion).strip(" _-　")
        if needs_fiscal_year and self.fiscal_year_rule and not FISCAL_YEAR_PREFIX.match(name):
            broken.append(self.fiscal_year_rule)
            if suggestion:
                suggestion = fiscal_year_prefix(fiscal_year or fiscal_year_of(date.today())) + suggestion
        for code, message, applies, limit in self._lengths:
            if _applies(applies, is_dir) and len(stem) > limit:
                broken.append((code, message))
                suggestion = suggestion[:limit].rstrip(" _-")
        if not broken:
            return []
        full = suggestion + ext if suggestion else ""  # nothing left: only a person can name it
        return [Violation(code, message, full) for code, message in dict.fromkeys(broken)]


_REPLACEMENTS = {"　": "_", "～": "-", "〜": "-"}


def _replacement(char: str) -> str:
    """What a forbidden character becomes: ① → 1, ㈱ → (株) (NFKC), a full-width space → _."""
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    normal = unicodedata.normalize("NFKC", char)
    return normal if normal != char else "_"


def _applies(applies: str, is_dir: bool) -> bool:
    return applies == "both" or (applies == "folder") == is_dir


def _split_ext(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    if dot <= 0 or len(name) - dot > 8:
        return name, ""
    return name[:dot], name[dot:]


def zones_of(data: Iterable[Mapping[str, Any]]) -> dict[str, Zone]:
    return {z.folder: z for z in (Zone.of(d) for d in data)}


# --- the ward's first guideline (the demo and a new installation start from it) --------------

COMMON_SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田",
                   "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水"]

DEFAULT_RULES: list[dict[str, Any]] = [
    {"code": "forbidden_words", "kind": "forbidden_words", "applies_to": "both",
     "words": ["新しいフォルダー", "新しいフォルダ", "新規フォルダー", "新規フォルダ", "New folder", "コピー", "Copy of",
               "最新", "最終版", "最終", "修正版", "新しい"],
     "message": "「最新」「最終」「コピー」「新しいフォルダー」など、いつの・何の文書か分からない語は使わない。",
     "example": "R06_予算要求資料_第2版.xlsx", "counter_example": "予算要求資料 - コピー (最新).xlsx"},
    {"code": "personal_name", "kind": "personal_name", "surnames": COMMON_SURNAMES,
     "message": "個人名（「田中さん用」「佐藤作業」など）をフォルダ名・ファイル名に入れない。担当は係名で表す。",
     "example": "R06_庶務係_作業", "counter_example": "田中さん用"},
    {"code": "forbidden_chars", "kind": "forbidden_chars", "applies_to": "both",
     "chars": "　①②③④⑤⑥⑦⑧⑨⑩㈱㈲㍉㌔～〜",
     "message": "全角スペース・丸数字・機種依存文字・波ダッシュを使わない（他の端末や LGWAN 系で文字化けする）。",
     "example": "R06_第1回会議資料.docx", "counter_example": "R06 第①回会議資料.docx"},
    {"code": "leading_fiscal_year", "kind": "leading_fiscal_year",
     "message": "保存用フォルダの名前は年度で始め、内容が分かる語を続ける（例: R06_予算要求）。",
     "example": "R06_予算要求", "counter_example": "予算関係"},
    {"code": "file_length", "kind": "max_length", "applies_to": "file", "max": 40,
     "message": "ファイル名（拡張子を除く）は40文字以内にする。", "example": "R06_区民意見募集_結果公表資料.pdf",
     "counter_example": "令和6年度千代田区DX戦略改定に係る区民意見募集の実施結果及び区の考え方の公表について（案）.pdf"},
    {"code": "folder_length", "kind": "max_length", "applies_to": "folder", "max": 30,
     "message": "フォルダ名は30文字以内にする。", "example": "R06_DX戦略改定", "counter_example": "令和6年度千代田区DX戦略改定作業（パブリックコメント対応を含む）"},
    {"code": "temporary_file", "kind": "temporary_file", "prefixes": ["~$", ".~lock", "~WRL"],
     "message": "Office の一時ファイル・ロックファイル（~$ で始まる）は共有フォルダに残さない。",
     "example": "", "counter_example": "~$予算要求資料.xlsx"},
]

DEFAULT_ZONES: list[dict[str, Any]] = [
    {"name": "全庁共有", "folder": "00_全庁共有", "max_depth": 4},
    {"name": "所属共有", "folder": "10_所属共有", "max_depth": 6},
    {"name": "作業用", "folder": "20_作業用", "max_depth": 3, "work": True},
    {"name": "保存用", "folder": "30_保存用", "max_depth": 5, "fiscal_year_folders": True},
]
