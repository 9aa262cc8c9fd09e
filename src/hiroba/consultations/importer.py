"""Import past consultations in the fixture formats (shared/fixtures/README.md): JSON or CSV.

The whole file is read and checked before anything is written; a problem anywhere rejects the
file whole with the line or field at fault, and the writes run in one transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from hiroba.accounts.models import IdentityLevel
from hiroba.consultations import audit_actions, services
from hiroba.consultations.models import Case, Category, Channel, ExcludeCategory, Item
from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.core.models import Department

CHANNEL_WORDS = [
    ("持参", Channel.HAND), ("窓口", Channel.HAND), ("郵送", Channel.POST), ("ファクス", Channel.FAX),
    ("ファックス", Channel.FAX), ("FAX", Channel.FAX), ("ＦＡＸ", Channel.FAX), ("電子メール", Channel.EMAIL),
    ("メール", Channel.EMAIL), ("フォーム", Channel.WEB), ("ホームページ", Channel.WEB), ("HP", Channel.WEB),
    ("ウェブ", Channel.WEB), ("Web", Channel.WEB), ("WEB", Channel.WEB), ("電子申請", Channel.WEB),
]
CATEGORY_BY_LABEL = {label: value for value, label in Category.choices}
IMPORT_REASON = "過去の案件の移行（公表資料のとおり）"


class ImportFailed(Exception):
    """The file is rejected whole; `where` is the line or field at fault."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass
class ParsedItem:
    no: int
    section_raw: str
    sections: list[str]
    opinion: str
    response: str
    summary: str = ""
    submitter: dict[str, str] = field(default_factory=dict)
    channel: str = ""
    received_at: datetime | None = None
    submission: str = ""
    published: bool = True
    exclude_reason: str = ""


@dataclass
class Parsed:
    title: str
    municipality: str
    department: str
    period_start: date
    period_end: date
    channels: list[str]
    channel_names: dict[str, str]
    announced_in: list[str]
    submitters: int | None
    sections: list[str]
    reported_on: date | None
    slug: str
    items: list[ParsedItem]


def channel_code(label: str) -> str | None:
    label = label.strip()
    if label in Channel.values:
        return label
    for word, code in CHANNEL_WORDS:
        if word in label:
            return code
    return None


def _str(obj: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ImportFailed(f"{where}.{key}", _("文字列が必要です（空は不可）") if required else _("文字列が必要です"))
    if "\x00" in value:
        raise ImportFailed(f"{where}.{key}", _("NUL文字が含まれています"))
    return value


def _date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ImportFailed(where, _("ISO形式の日付（例 2025-01-05）が必要です: %(value)s") % {"value": repr(value)}) from None


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ImportFailed(where, _("文字列の配列が必要です"))
    return list(value)


def parse_json(raw: bytes, *, source_name: str = "") -> Parsed:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"byte {exc.start}", _("UTF-8として読めません")) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed(f"line {exc.lineno} column {exc.colno}", _("JSONの構文が正しくありません（%(error)s）") % {"error": exc.msg}) from None
    if not isinstance(data, dict) or not isinstance(data.get("consultation"), dict):
        raise ImportFailed("consultation", _("オブジェクトが必要です"))
    if not isinstance(data.get("items"), list):
        raise ImportFailed("items", _("配列が必要です"))
    c = data["consultation"]
    period = c.get("period")
    if not isinstance(period, dict):
        raise ImportFailed("consultation.period", _("{\"start\", \"end\"} が必要です"))
    start = _date(period.get("start"), "consultation.period.start")
    end = _date(period.get("end"), "consultation.period.end")
    if end < start:
        raise ImportFailed("consultation.period.end", _("終了日が開始日より前です"))
    channels: list[str] = []
    names: dict[str, str] = {}
    for i, label in enumerate(_str_list(c.get("channels"), "consultation.channels")):
        code = channel_code(label)
        if code is None:
            raise ImportFailed(f"consultation.channels[{i}]", _("提出方法「%(label)s」を判別できません") % {"label": label})
        channels.append(code)
        if label != Channel(code).label:
            names[code] = label
    sections = _str_list(c.get("sections"), "consultation.sections")
    if len(set(sections)) != len(sections):
        raise ImportFailed("consultation.sections", _("同じ見出しが重複しています"))
    submitters = c.get("submitters")
    if submitters is not None and (not isinstance(submitters, int) or isinstance(submitters, bool) or submitters < 0):
        raise ImportFailed("consultation.submitters", _("0以上の整数が必要です"))
    reported_on = _date(c["reported_on"], "consultation.reported_on") if c.get("reported_on") else None
    items: list[ParsedItem] = []
    seen: set[int] = set()
    for i, obj in enumerate(data["items"]):
        where = f"items[{i}]"
        if not isinstance(obj, dict):
            raise ImportFailed(where, _("オブジェクトが必要です"))
        no = obj.get("no")
        if not isinstance(no, int) or isinstance(no, bool) or no < 1:
            raise ImportFailed(f"{where}.no", _("1以上の整数が必要です"))
        if no in seen:
            raise ImportFailed(f"{where}.no", _("No.%(no)s が重複しています") % {"no": no})
        seen.add(no)
        item_sections = _str_list(obj.get("sections", []), f"{where}.sections") if obj.get("sections") else []
        for j, name in enumerate(item_sections):
            if name not in sections:
                raise ImportFailed(f"{where}.sections[{j}]", _("「%(name)s」は consultation.sections にありません") % {"name": name})
        opinion = _str(obj, "opinion", where)
        published = obj.get("published", True)
        if not isinstance(published, bool):
            raise ImportFailed(f"{where}.published", _("true か false が必要です"))
        exclude_reason = _str(obj, "exclude_reason", where, required=not published)
        submitter = obj.get("submitter") or {}
        if not isinstance(submitter, dict):
            raise ImportFailed(f"{where}.submitter", _("オブジェクトが必要です"))
        for key in ("name", "address", "email", "phone", "category"):
            if key in submitter and not isinstance(submitter[key], str):
                raise ImportFailed(f"{where}.submitter.{key}", _("文字列が必要です"))
        if submitter.get("category") and submitter["category"] not in CATEGORY_BY_LABEL:
            raise ImportFailed(f"{where}.submitter.category",
                               _("在住/在勤/在学/事業者/利害関係者/その他 のいずれかが必要です"))
        channel = ""
        if obj.get("channel") is not None:
            label = _str(obj, "channel", where)
            channel = channel_code(label) or ""
            if channel not in channels:
                raise ImportFailed(f"{where}.channel", _("「%(label)s」は consultation.channels にありません") % {"label": label})
        received_at = None
        if obj.get("received_at") is not None:
            try:
                received_at = datetime.fromisoformat(_str(obj, "received_at", where))
            except ValueError:
                raise ImportFailed(f"{where}.received_at", _("ISO形式の日時（時差付き）が必要です")) from None
            if timezone.is_naive(received_at):
                raise ImportFailed(f"{where}.received_at", _("時差（+09:00 など）が必要です"))
        submission_key = obj.get("submission")
        if submission_key is not None and not isinstance(submission_key, (str, int)):
            raise ImportFailed(f"{where}.submission", _("文字列が必要です"))
        items.append(ParsedItem(
            no=no, section_raw=_str(obj, "section_raw", where, required=False), sections=item_sections,
            opinion=opinion, response=_str(obj, "response", where, required=False),
            summary=_str(obj, "summary", where, required=False), submitter=dict(submitter), channel=channel,
            received_at=received_at, submission=str(submission_key) if submission_key is not None else "", published=published,
            exclude_reason=exclude_reason,
        ))
    title = _str(c, "title", "consultation")
    department = _str(c, "department", "consultation")
    slug = c.get("slug") or ""
    if slug and not isinstance(slug, str):
        raise ImportFailed("consultation.slug", _("文字列が必要です"))
    return Parsed(
        title=title, municipality=_str(c, "municipality", "consultation", required=False), department=department,
        period_start=start, period_end=end, channels=channels, channel_names=names,
        announced_in=_str_list(c.get("announced_in", []), "consultation.announced_in") if c.get("announced_in") else [],
        submitters=submitters, sections=sections, reported_on=reported_on, slug=slug, items=items,
    )


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def split_sections(raw: str, known: list[str]) -> list[str]:
    """'全体重点方針と取組み' → ['全体', '重点方針と取組み'] using the headings seen alone elsewhere."""
    target = _squash(raw)
    if not target:
        return []
    by_squashed = {_squash(k): k for k in known if _squash(k)}
    if target in by_squashed:
        return [by_squashed[target]]
    n = len(target)
    # best[i] = (characters not matched by a known heading, pieces, names) for target[:i]
    best: list[tuple[int, int, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, 0, [])
    for i in range(n):
        if best[i] is None:
            continue
        unknown, count, names = best[i]  # type: ignore[misc]
        steps = [(i + len(sq), name, 0) for sq, name in by_squashed.items() if target.startswith(sq, i)]
        steps += [(j, target[i:j], j - i) for j in range(i + 1, n + 1)]
        for j, name, cost in steps:
            merged = names[:-1] + [names[-1] + name] if cost and names and names[-1] not in by_squashed.values() else [*names, name]
            candidate = (unknown + cost, len(merged), merged)
            if best[j] is None or candidate[:2] < best[j][:2]:  # type: ignore[index]
                best[j] = candidate
    return best[n][2] if best[n] else [raw.strip()]  # type: ignore[index]


def parse_csv(raw: bytes, *, source_name: str = "") -> Parsed:
    """The results table alone (no,section,opinion,response): title from the file name."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportFailed(f"line {line}", _("UTF-8として読めません")) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise ImportFailed("line 1", _("空のファイルです"))
    expected = ["no", "section", "opinion", "response"]
    if [h.strip().lower() for h in header] != expected:
        raise ImportFailed("line 1", _("見出し行は %(expected)s にしてください（%(header)s）") % {
            "expected": ",".join(expected), "header": ",".join(header)})
    rows: list[tuple[int, int, str, str, str]] = []
    seen: set[int] = set()
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 4:
            raise ImportFailed(f"line {line}", _("4列が必要です（%(count)s列）") % {"count": len(row)})
        no_text, section, opinion, response = row
        if not no_text.strip().isdigit() or int(no_text) < 1:
            raise ImportFailed(f"line {line} column no", _("1以上の整数が必要です: %(value)s") % {"value": repr(no_text)})
        no = int(no_text)
        if no in seen:
            raise ImportFailed(f"line {line} column no", _("No.%(no)s が重複しています") % {"no": no})
        seen.add(no)
        if not opinion.strip():
            raise ImportFailed(f"line {line} column opinion", _("意見内容が空です"))
        for name, value in (("section", section), ("opinion", opinion), ("response", response)):
            if "\x00" in value:
                raise ImportFailed(f"line {line} column {name}", _("NUL文字が含まれています"))
        rows.append((line, no, section, opinion, response))
    if not rows:
        raise ImportFailed("line 2", _("データ行がありません"))
    candidates = list(dict.fromkeys(r[2].strip() for r in rows if r[2].strip() and not re.search(r"\s", r[2].strip())))
    singles: list[str] = []
    # A label made only of other labels ("全体重点方針と取組み") is a joint, not a heading.
    for label in sorted(candidates, key=len):
        parts = split_sections(label, singles)
        if len(parts) < 2 or not all(p in singles for p in parts):
            singles.append(label)
    items: list[ParsedItem] = []
    all_sections: list[str] = []
    for _line, no, section, opinion, response in rows:
        names = split_sections(section, singles) if section.strip() else []
        for name in names:
            if name not in all_sections:
                all_sections.append(name)
        items.append(ParsedItem(no=no, section_raw=section, sections=names, opinion=opinion, response=response))
    today = timezone.localdate()
    title = Path(source_name).stem if source_name else "移行した意見公募"
    return Parsed(
        title=title, municipality="", department="", period_start=today, period_end=today,
        channels=[Channel.UNKNOWN], channel_names={}, announced_in=[], submitters=None, sections=all_sections,
        reported_on=None, slug="", items=items,
    )


def parse(path: Path) -> Parsed:
    raw = path.read_bytes()
    if path.suffix.lower() == ".csv":
        return parse_csv(raw, source_name=path.name)
    if path.suffix.lower() == ".json":
        return parse_json(raw, source_name=path.name)
    raise ImportFailed(path.name, _("拡張子は .json か .csv にしてください"))


def derive_slug(parsed: Parsed, path: Path | None) -> str:
    candidates = [parsed.slug]
    if path is not None:
        candidates += [path.parent.name if path.stem == "consultation" else "", path.stem]
    for candidate in candidates:
        slug = slugify(candidate or "")
        if slug:
            return slug[:80]
    return "case-" + hashlib.sha256(parsed.title.encode()).hexdigest()[:10]


def _department(name: str, actor: ActorLike) -> Department:
    name = name or "所属未設定（移行データ）"
    found = Department.objects.filter(name=name).order_by("id").first() or Department.objects.filter(code=name).first()
    if found:
        return found
    # core has no department service yet; an unknown 所属 from an old paper is created and audited.
    code = "imported-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    dept, _created = Department.objects.get_or_create(code=code, defaults={"name": name, "is_active": False})
    audit.record(actor=actor, action=audit_actions.IMPORT_DEPARTMENT, obj=dept, changes={"name": name})
    return dept


@transaction.atomic
def import_parsed(
    parsed: Parsed, *, slug: str, actor: ActorLike = "import", receipt_code: str = "PC",
    department: Department | None = None, before_publish: Callable[[Case], None] | None = None,
) -> Case:
    """Write a parsed file: case, sections, one submission per submitter, items, grouped answers.

    A case the file reports as published (`reported_on`) gets its table stored as its first
    published version, exactly as every later download serves it; `before_publish` may review
    it first (the demo records the paper's own masking decisions there).
    """
    if Case.objects.filter(slug=slug).exists():
        raise ImportFailed("slug", _("識別子「%(slug)s」の案件は既にあります。--slug で別の識別子を指定してください") % {"slug": slug})
    case = services.case_create(
        actor=actor, slug=slug, title=parsed.title, department=department or _department(parsed.department, actor),
        period_start=parsed.period_start, period_end=parsed.period_end, channels=parsed.channels,
        channel_names=parsed.channel_names, short_period_reason=IMPORT_REASON, announced_in=parsed.announced_in,
        municipality=parsed.municipality, receipt_code=receipt_code, declared_submitters=parsed.submitters,
        reported_on=parsed.reported_on, identity_level=IdentityLevel.NONE,
    )
    sections = {name: services.section_add(actor=actor, case=case, heading=name) for name in parsed.sections}
    groups: dict[str, list[ParsedItem]] = {}
    for parsed_item in sorted(parsed.items, key=lambda i: i.no):
        groups.setdefault(parsed_item.submission or f"no-{parsed_item.no}", []).append(parsed_item)
    answers: dict[str, Any] = {}
    for key, members in groups.items():
        first = members[0]
        text = "\n".join(m.opinion for m in members)
        submitter = first.submitter
        submission, _created = services.submission_receive(
            actor=actor, case=case, idempotency_key=hashlib.sha256(f"import|{slug}|{key}".encode()).hexdigest()[:64],
            channel=first.channel or Channel.UNKNOWN, text=text, name=submitter.get("name", ""),
            address=submitter.get("address", ""), category=CATEGORY_BY_LABEL.get(submitter.get("category", ""), ""),
            email=submitter.get("email", ""), phone=submitter.get("phone", ""),
            received_at=first.received_at or case.closes_at, external_key=f"import:{key}", check_period=False,
        )
        offset = 0
        for member in members:
            span = (offset, offset + len(member.opinion))
            offset += len(member.opinion) + 1
            item = services.item_create(
                actor=actor, submission=submission, span=span, number=member.no,
                sections=[sections[name] for name in member.sections], section_label=member.section_raw,
                summary=member.summary,
            )
            if not member.published:
                services.item_exclude(actor=actor, item=item, reason=member.exclude_reason,
                                      category=ExcludeCategory.OTHER)
            if member.response.strip():
                answer = answers.get(member.response.strip())
                if answer is None:
                    answers[member.response.strip()] = services.answer_write(actor=actor, items=[item],
                                                                             text=member.response)
                else:
                    services.answer_assign(actor=actor, item=item, answer=answer)
    if before_publish is not None:
        before_publish(case)
    state = Case.State.PUBLISHED if parsed.reported_on else Case.State.ANSWERING
    published = services.publication_import(actor=actor, case=case) if parsed.reported_on else None
    Case.objects.filter(pk=case.pk).update(state=state, published_at=published.published_at if published else None)
    audit.record(actor=actor, action=audit_actions.CASE_IMPORT, obj=case,
                 changes={"state": ["preparing", state], "items": len(parsed.items), "submissions": len(groups),
                          **({"version": published.version} if published else {})})
    case.refresh_from_db()
    return case


def import_file(path: Path, *, slug: str | None = None, actor: ActorLike = "import", receipt_code: str = "PC") -> Case:
    parsed = parse(path)
    return import_parsed(parsed, slug=slug or derive_slug(parsed, path), actor=actor, receipt_code=receipt_code)


def items_of(case: Case) -> list[Item]:
    return list(case.items.order_by("number"))
