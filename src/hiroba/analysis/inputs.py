"""Readers for the analysis input files, with line-numbered Japanese error messages.

* ``IN.jsonl`` — one opinion per line: ``{"id", "text", "received_at"?, "name"?, "email"?,
  "address"?, "submission"?}``; blank lines are skipped.
* ``S.json`` — sections: ``[{"id", "title", "text"?, "pages"?: [first, last]}]`` (or
  ``{"sections": [...]}``), or a fixture ``consultation.json`` whose
  ``consultation.sections`` names become sections (title only).
* ``P.json`` — past answers: ``[{"id", "opinion", "answer"}]`` (``text``/``response`` accepted
  as aliases; or ``{"items": [...]}``), or a fixture ``consultation.json`` (ids are the item
  ``no``, prefixed by ``consultation.slug`` and ``:`` when it has one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hiroba.analysis.model import Opinion, PastItem, Section

__all__ = ["InputError", "read_opinions", "parse_opinions", "read_sections", "read_past"]


class InputError(ValueError):
    """Bad input; ``str(err)`` is the message for the user (Japanese, then English)."""


def _id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    s = str(value).strip()
    return s or None


def parse_opinions(lines: list[str], source: str = "入力") -> list[Opinion]:
    """Parse JSON Lines; raise :class:`InputError` naming the first bad line."""
    out: list[Opinion] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{source} {n}行目: JSONとして読めません（line {n}: invalid JSON: {e.msg}）") from None
        if not isinstance(obj, dict):
            raise InputError(f"{source} {n}行目: JSONオブジェクトではありません（line {n}: not a JSON object）")
        oid = _id(obj.get("id"))
        if oid is None:
            raise InputError(f"{source} {n}行目: \"id\" がないか不正です（line {n}: missing or invalid \"id\"）")
        if not isinstance(obj.get("text"), str):
            raise InputError(f"{source} {n}行目: \"text\" がないか文字列ではありません（line {n}: missing or non-string \"text\"）")
        if oid in seen:
            raise InputError(f"{source} {n}行目: id \"{oid}\" が重複しています（line {n}: duplicate id）")
        for key in ("received_at", "name", "email", "address", "submission"):
            if obj.get(key) is not None and not isinstance(obj[key], (str, int, float)):
                raise InputError(f"{source} {n}行目: \"{key}\" が文字列ではありません（line {n}: \"{key}\" is not a string）")
        seen.add(oid)
        out.append(Opinion.from_mapping({**obj, "id": oid}))
    return out


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: ファイルを読めません（cannot read file: {e.strerror}）") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(f"{path} {line}行目: UTF-8として読めません（line {line}: not UTF-8）") from None


def read_opinions(path: str | Path) -> list[Opinion]:
    """Read ``IN.jsonl``."""
    p = Path(path)
    return parse_opinions(_read_text(p).split("\n"), str(p))


def _read_json(path: str | Path) -> Any:
    p = Path(path)
    text = _read_text(p)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{p} {e.lineno}行目: JSONとして読めません（line {e.lineno}: invalid JSON: {e.msg}）") from None


def read_sections(path: str | Path) -> list[Section]:
    """Read ``S.json`` (see the module docstring)."""
    data = _read_json(path)
    if isinstance(data, dict) and isinstance(data.get("consultation"), dict):
        names = data["consultation"].get("sections") or []
        return [Section(id=str(s), title=str(s)) for s in names]
    if isinstance(data, dict):
        data = data.get("sections")
    if not isinstance(data, list):
        raise InputError(f"{path}: 節の一覧（JSON配列）ではありません（expected a list of sections）")
    out: list[Section] = []
    for n, s in enumerate(data, 1):
        if not isinstance(s, dict) or _id(s.get("id")) is None or not isinstance(s.get("title", ""), str):
            raise InputError(f"{path}: {n}番目の節に \"id\" / \"title\" がありません（section {n}: missing id/title）")
        pages = s.get("pages")
        rng: tuple[int, int] | None = None
        if isinstance(pages, list) and len(pages) == 2 and all(isinstance(x, int) for x in pages):
            rng = (pages[0], pages[1])
        out.append(Section(id=str(_id(s["id"])), title=str(s.get("title", "")), text=str(s.get("text") or ""), pages=rng))
    return out


def read_past(path: str | Path) -> list[PastItem]:
    """Read ``P.json`` or a fixture ``consultation.json`` (see the module docstring)."""
    data = _read_json(path)
    prefix = ""
    if isinstance(data, dict):
        cons = data.get("consultation")
        if isinstance(cons, dict) and cons.get("slug"):
            prefix = f"{cons['slug']}:"
        data = data.get("items")
    if not isinstance(data, list):
        raise InputError(f"{path}: 過去の回答の一覧（JSON配列）ではありません（expected a list of answered items）")
    out: list[PastItem] = []
    for n, it in enumerate(data, 1):
        if not isinstance(it, dict):
            raise InputError(f"{path}: {n}番目の項目がオブジェクトではありません（item {n}: not an object）")
        pid = _id(it.get("id", it.get("no")))
        opinion = it.get("opinion", it.get("text"))
        answer = it.get("answer", it.get("response"))
        if pid is None or not isinstance(opinion, str) or not isinstance(answer, str):
            raise InputError(
                f"{path}: {n}番目の項目に id/opinion/answer がありません（item {n}: needs id, opinion, answer）"
            )
        out.append(PastItem(id=prefix + pid, opinion=opinion, answer=answer))
    return out
