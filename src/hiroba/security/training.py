"""研修: courses, sessions and attendance imported from the video platform's CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import User
from hiroba.core import audit, tabular
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.core.text import decode_japanese
from hiroba.security import audit_actions as actions
from hiroba.security.models import Attendance, Course, Session
from hiroba.security.services import who

NUMBER_HEADINGS = ("職員番号", "staff_number", "社員番号", "ID")
TIME_HEADINGS = ("受講日時", "attended_at", "完了日時", "受講完了日時")


def _require_office(actor: ActorLike) -> None:
    a = Actor.of(actor)
    if a.user is not None and not a.user.has_perm("security.manage_register"):
        raise NotAllowed(_("研修の登録は情報システム課（CISO事務局）が行います。"))


@transaction.atomic
def course_create(*, actor: ActorLike, fiscal_year: int, title: str, department: Department, audience: str,
                  required: bool = False, description: str = "",
                  sessions: Sequence[tuple[str, str, date, date]] = (), survey: Any = None) -> Course:
    """A course with its sessions ((title, kind, first day, last day), video or in person)."""
    _require_office(actor)
    if not title.strip():
        raise ServiceError(_("研修名を入力してください。"), code="title_required", field="title")
    if Course.objects.filter(fiscal_year=fiscal_year, title=title.strip()).exists():
        raise ServiceError(_("同じ年度に同じ名前の研修があります。"), code="course_exists", field="title")
    course = Course.objects.create(fiscal_year=fiscal_year, title=title.strip(), department=department,
                                   audience=audience, required=required, description=description.strip(),
                                   survey=survey)
    for name, kind, first, last in sessions:
        if last < first:
            raise ServiceError(_("研修の回の終了日は開始日以降にしてください。"), code="period_order")
        Session.objects.create(course=course, title=name, kind=kind, starts_on=first, ends_on=last)
    audit.record(actor=who(actor), action=actions.COURSE_CREATE, obj=course,
                 changes={"title": course.title, "fiscal_year": fiscal_year, "sessions": len(sessions)})
    return course


@dataclass
class AttendanceResult:
    added: int
    already: int
    without_account: int


def _parse_time(text: str) -> datetime | None:
    text = text.strip().replace("/", "-")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return timezone.make_aware(value)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def parse_attendance_csv(content: bytes) -> list[tuple[int, str, datetime]]:
    """(line, staff number, attended at) from the platform's CSV (UTF-8 or Shift_JIS), or a
    ServiceError naming every bad line."""
    text = decode_japanese(content)
    if text is None:
        raise ServiceError(_("文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）。"), code="encoding")
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    if not rows:
        raise ServiceError(_("空のファイルです。"), code="empty")
    header = [tabular.unguard(h).strip() for h in rows[0]]
    number_col = next((header.index(h) for h in NUMBER_HEADINGS if h in header), None)
    time_col = next((header.index(h) for h in TIME_HEADINGS if h in header), None)
    if number_col is None or time_col is None:
        raise ServiceError(_("1行目に「職員番号」と「受講日時」の列が必要です。"), code="columns")
    out, errors = [], []
    for line, row in enumerate(rows[1:], start=2):
        number = row[number_col].strip() if number_col < len(row) else ""
        when = _parse_time(row[time_col]) if time_col < len(row) else None
        if not number:
            errors.append(format_lazy(_("{line}行目: 職員番号が空です"), line=line))
        elif when is None:
            errors.append(format_lazy(_("{line}行目: 受講日時を読めません"), line=line))
        else:
            out.append((line, number[:20], when))
    if errors:
        shown = "／".join(str(e) for e in errors[:10])
        raise ServiceError(format_lazy(_("取り込めない行があります（ファイル全体を取り込みませんでした）: {errors}"),
                                       errors=shown), code="rows")
    return out


@transaction.atomic
def attendance_import(*, actor: ActorLike, course: Course, content: bytes, session: Session | None = None
                      ) -> AttendanceResult:
    """Record completions from the video platform's CSV (職員番号, 受講日時): all rows or none.

    A number already recorded for the course is skipped (re-importing the same export is
    harmless); a number without an account (a temporary staff member) is kept and counted."""
    _require_office(actor)
    rows = parse_attendance_csv(content)
    course = Course.objects.select_for_update().get(pk=course.pk)
    known = set(Attendance.objects.filter(course=course).values_list("staff_number", flat=True))
    users = dict(User.objects.filter(kind=User.Kind.STAFF, staff_number__in=[n for _, n, _ in rows])
                 .values_list("staff_number", "id"))
    new: dict[str, Attendance] = {}
    for _line, number, when in rows:
        if number in known or number in new:
            continue
        new[number] = Attendance(course=course, session=session, staff_number=number, user_id=users.get(number),
                                 attended_at=when)
    Attendance.objects.bulk_create(list(new.values()))
    course.attendee_count = Attendance.objects.filter(course=course).count()
    course.save(update_fields=["attendee_count"])
    result = AttendanceResult(len(new), len(rows) - len(new), sum(1 for a in new.values() if a.user_id is None))
    audit.record(actor=who(actor), action=actions.ATTENDANCE_IMPORT, obj=course,
                 changes={"added": result.added, "already": result.already,
                          "without_account": result.without_account, "attendees": course.attendee_count})
    return result


def attendance_by_session(course: Course) -> list[tuple[Session | None, int]]:
    counts: dict[int | None, int] = dict(course.attendances.order_by().values("session_id").annotate(n=Count("id"))
                  .values_list("session_id", "n"))
    out: list[tuple[Session | None, int]] = [(s, counts.get(s.pk, 0)) for s in course.sessions.all()]
    if counts.get(None):
        out.append((None, counts[None]))
    return out
