"""Every write to school calendars: one function per use case, atomic, audited.

An event's SEQUENCE (RFC 5545) rises by one on every change subscribers can see, and each
such change leaves an `EventRevision` beside the audit-log entry; saving an unchanged event
changes nothing, so calendar apps are not told about updates that are not there.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.db import transaction
from django.utils import timezone

from hiroba.calendars import importing
from hiroba.calendars.models import (
    Calendar,
    Combination,
    Event,
    EventRevision,
    ImportBatch,
    School,
    Term,
)
from hiroba.core import audit
from hiroba.core.models import Department

MAX_CALENDARS_PER_COMBINATION = 12
UID_DOMAIN = "calendars.hiroba"


class ImportNotApplicable(Exception):
    """The batch cannot be applied (already applied, or rows no longer fit); `errors` says why."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def _actor_parts(actor: Any) -> tuple[Any, str]:
    if actor is None or isinstance(actor, str):
        return None, actor or audit.SYSTEM_ACTOR
    return (actor if getattr(actor, "pk", None) else None), (getattr(actor, "email", "") or str(actor))


# --- schools, calendars, terms ---------------------------------------------------------------

@transaction.atomic
def school_create(
    *, actor: Any, department: Department, slug: str, name: str, short_name: str, kind: str,
    classes_per_grade: int = 0, address: str = "", phone: str = "", website: str = "",
    latitude: Any = None, longitude: Any = None,
) -> School:
    """Register a school with its 全校 calendar, one calendar per grade and, if asked, per class."""
    school = School.objects.create(
        department=department, slug=slug, name=name, short_name=short_name, kind=kind,
        address=address, phone=phone, website=website, latitude=latitude, longitude=longitude,
    )
    audit.record(actor=actor, action="calendars.school_create", obj=school,
                 changes=audit.diff({}, audit.snapshot(school, ["slug", "name", "kind", "department_id"])))
    calendar_create(actor=actor, school=school, audience=Calendar.Audience.SCHOOL)
    for grade in range(1, school.max_grade + 1):
        calendar_create(actor=actor, school=school, audience=Calendar.Audience.GRADE, grade=grade)
        for number in range(1, classes_per_grade + 1):
            calendar_create(actor=actor, school=school, audience=Calendar.Audience.CLASS, grade=grade,
                            class_name=f"{number}組")
    return school


def _calendar_key(school: School, audience: str, grade: int | None, class_name: str) -> str:
    if audience == Calendar.Audience.SCHOOL:
        return "all"
    if audience == Calendar.Audience.GRADE:
        return f"g{grade}"
    digits = "".join(re.findall(r"\d+", importing.normalize(class_name)))
    base = f"g{grade}-c{digits}" if digits else f"g{grade}-x"
    key, n = base, 1
    while school.calendars.filter(key=key).exists():
        n += 1
        key = f"{base}-{n}"
    return key


@transaction.atomic
def calendar_create(*, actor: Any, school: School, audience: str, grade: int | None = None,
                    class_name: str = "") -> Calendar:
    """Add a calendar for an audience; its key (part of the feed URL) never changes afterwards."""
    class_name = importing.normalize(class_name)
    if audience == Calendar.Audience.SCHOOL:
        grade, class_name = None, ""
    elif audience == Calendar.Audience.GRADE:
        class_name = ""
    if grade is not None and not 1 <= grade <= school.max_grade:
        raise ValueError(f"{school.name}の学年は1〜{school.max_grade}です")
    order = {"school": 0, "grade": 1, "class": 2}[audience]
    calendar = Calendar.objects.create(
        school=school, audience=audience, grade=grade, class_name=class_name,
        key=_calendar_key(school, audience, grade, class_name),
        sort_order=(grade or 0) * 100 + order * 10,
    )
    audit.record(actor=actor, action="calendars.calendar_create", obj=calendar,
                 changes=audit.diff({}, {"school": school.slug, "key": calendar.key, "label": calendar.label}))
    return calendar


@transaction.atomic
def term_save(*, actor: Any, school: School, fiscal_year: int, name: str, start_date: date,
              end_date: date) -> Term:
    """Create or change a 学期 (one per name and school year)."""
    if end_date < start_date:
        raise ValueError("学期の終了日が開始日より前です")
    term = Term.objects.filter(school=school, fiscal_year=fiscal_year, name=name).first()
    after = {"name": name, "fiscal_year": fiscal_year, "start_date": start_date, "end_date": end_date}
    before = {"name": name, "fiscal_year": fiscal_year, "start_date": term.start_date,
              "end_date": term.end_date} if term else {}
    changes = audit.diff(before, after)
    if term is not None and not changes:
        return term
    if term is None:
        term = Term(school=school, fiscal_year=fiscal_year, name=name)
    term.start_date, term.end_date = start_date, end_date
    term.save()
    audit.record(actor=actor, action="calendars.term_save", obj=term, changes=changes)
    return term


@transaction.atomic
def term_delete(*, actor: Any, term: Term) -> None:
    """Remove a 学期 entered by mistake."""
    audit.record(actor=actor, action="calendars.term_delete", obj=term,
                 changes=audit.diff(audit.snapshot(term, ["name", "fiscal_year", "start_date", "end_date"]), {}))
    term.delete()


# --- events ---------------------------------------------------------------------------------

@dataclass
class EventData:
    """What a clerk enters for an event (validated by the form or the import)."""

    calendar: Calendar
    title: str
    start_date: date
    end_date: date
    all_day: bool = True
    start_time: time | None = None
    end_time: time | None = None
    category: str = Event.Category.EVENT
    description: str = ""
    location: str = ""
    rrule: str = ""
    exdates: list[date] = field(default_factory=list)
    off_day: str = Event.OffDay.KEEP
    url: str = ""
    url_label: str = ""
    status: str = Event.Status.CONFIRMED

    def apply_to(self, event: Event) -> None:
        event.calendar = self.calendar
        event.school_id = self.calendar.school_id
        event.title, event.description, event.location = self.title, self.description, self.location
        event.category = self.category
        event.all_day = self.all_day
        event.start_date, event.end_date = self.start_date, self.end_date
        event.start_time = None if self.all_day else self.start_time
        event.end_time = None if self.all_day else self.end_time
        event.rrule = self.rrule
        event.exdates = sorted({d.isoformat() for d in self.exdates})
        event.off_day = self.off_day if self.rrule else Event.OffDay.KEEP
        event.url, event.url_label = self.url, self.url_label
        if self.status == Event.Status.CANCELLED:
            if event.status != Event.Status.CANCELLED:
                event.cancelled_at = timezone.now()
        else:
            event.cancelled_at = None
        event.status = self.status


def _snapshot(event: Event) -> dict[str, Any]:
    return importing.event_values(event)


def _revise(event: Event, *, actor: Any, action: str, changes: dict[str, Any],
            batch: ImportBatch | None = None) -> None:
    actor_obj, label = _actor_parts(actor)
    EventRevision.objects.create(event=event, sequence=event.sequence, action=action, changes=changes,
                                 actor=actor_obj, actor_label=label[:254], import_batch=batch)
    audit.record(actor=actor, action=f"calendars.event_{action}", obj=event,
                 changes={**changes, "sequence": event.sequence, "uid": event.uid,
                          **({"import_batch": batch.pk} if batch else {})})


@transaction.atomic
def event_create(*, actor: Any, data: EventData, ref: str = "", source: str = Event.Source.MANUAL,
                 batch: ImportBatch | None = None) -> Event:
    """Add an event; it gets its UID for good, SEQUENCE 0."""
    now = timezone.now()
    event = Event(uid=f"{uuid.uuid4()}@{UID_DOMAIN}", ref=ref, source=source, created_at=now, updated_at=now)
    data.apply_to(event)
    event.full_clean(exclude=["calendar", "school", "uid"])
    event.save()
    _revise(event, actor=actor, action=EventRevision.Action.CREATE,
            changes=audit.diff({}, _snapshot(event)), batch=batch)
    return event


@transaction.atomic
def event_update(*, actor: Any, event: Event, data: EventData, ref: str | None = None,
                 batch: ImportBatch | None = None) -> bool:
    """Change an event; bump SEQUENCE only when something subscribers see has changed.

    Returns whether it changed.
    """
    event = Event.objects.select_for_update().select_related("calendar").get(pk=event.pk)
    before = _snapshot(event)
    old_calendar_id = event.calendar_id
    was_cancelled = event.is_cancelled
    data.apply_to(event)
    changes = audit.diff(before, _snapshot(event))
    ref_changed = ref is not None and ref != event.ref
    if ref_changed:
        event.ref = ref or ""
    if not changes:
        if ref_changed:
            event.save(update_fields=["ref"])
        return False
    event.full_clean(exclude=["calendar", "school", "uid"])
    event.sequence += 1
    event.updated_at = timezone.now()
    event.save()
    if old_calendar_id != event.calendar_id:
        # The old calendar's feed lost an event: its Last-Modified must move too.
        Calendar.objects.filter(pk=old_calendar_id).update(updated_at=event.updated_at)
    if event.is_cancelled and not was_cancelled:
        action = EventRevision.Action.CANCEL
    elif was_cancelled and not event.is_cancelled:
        action = EventRevision.Action.RESTORE
    else:
        action = EventRevision.Action.UPDATE
    _revise(event, actor=actor, action=action, changes=changes, batch=batch)
    return True


@transaction.atomic
def event_cancel(*, actor: Any, event: Event, reason: str = "", batch: ImportBatch | None = None) -> Event:
    """Cancel an event: the feeds publish it as STATUS:CANCELLED until the retention window ends."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.is_cancelled:
        return event
    before = _snapshot(event)
    event.status = Event.Status.CANCELLED
    event.cancelled_at = timezone.now()
    event.sequence += 1
    event.updated_at = event.cancelled_at
    event.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"])
    changes: dict[str, Any] = audit.diff(before, _snapshot(event))
    if reason:
        changes["reason"] = ["", reason]
    _revise(event, actor=actor, action=EventRevision.Action.CANCEL, changes=changes, batch=batch)
    return event


@transaction.atomic
def event_restore(*, actor: Any, event: Event) -> Event:
    """Undo a cancellation (the event is published again, with a higher SEQUENCE)."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not event.is_cancelled:
        return event
    before = _snapshot(event)
    event.status = Event.Status.CONFIRMED
    event.cancelled_at = None
    event.sequence += 1
    event.updated_at = timezone.now()
    event.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"])
    _revise(event, actor=actor, action=EventRevision.Action.RESTORE,
            changes=audit.diff(before, _snapshot(event)))
    return event


# --- family combinations --------------------------------------------------------------------

@transaction.atomic
def combination_get_or_create(*, calendars: list[Calendar]) -> Combination:
    """The one stable URL for a set of calendars: the same set always gives the same token."""
    ids = sorted({c.pk for c in calendars})
    if not ids:
        raise ValueError("カレンダーを1つ以上選んでください")
    if len(ids) > MAX_CALENDARS_PER_COMBINATION:
        raise ValueError(f"カレンダーは{MAX_CALENDARS_PER_COMBINATION}個まで選べます")
    key = "-".join(str(i) for i in ids)
    combination = Combination.objects.filter(canonical_key=key).first()
    if combination is not None:
        return combination
    combination = Combination.objects.create(token=secrets.token_urlsafe(16), canonical_key=key)
    combination.calendars.set(ids)
    audit.record(actor="public", action="calendars.combination_create", obj=combination,
                 changes={"calendars": ids})
    return combination


# --- import ---------------------------------------------------------------------------------

@transaction.atomic
def import_preview(*, actor: Any, school: School, filename: str, content: bytes) -> ImportBatch:
    """Read and check an uploaded file; store its rows and errors for the preview. Writes no event.

    Raises importing.FileRejected when the file as a whole cannot be read.
    """
    import hashlib

    raw_rows, problems = importing.read_rows(filename, content)
    rows, errors = importing.validate(school, raw_rows, problems)
    actor_obj, label = _actor_parts(actor)
    batch = ImportBatch.objects.create(
        school=school, filename=filename[:255], sha256=hashlib.sha256(content).hexdigest(),
        rows=rows, errors=errors, created_by=actor_obj, created_by_label=label[:254],
    )
    audit.record(actor=actor, action="calendars.import_upload", obj=batch,
                 changes={"filename": batch.filename, "sha256": batch.sha256, "rows": len(rows),
                          "errors": len(errors)})
    return batch


def _data_from_row(row: dict[str, Any], calendars: dict[int, Calendar]) -> EventData:
    all_day = row["start_time"] is None
    return EventData(
        calendar=calendars[row["calendar_id"]], title=row["title"],
        start_date=date.fromisoformat(row["start_date"]), end_date=date.fromisoformat(row["end_date"]),
        all_day=all_day,
        start_time=None if all_day else time.fromisoformat(row["start_time"]),
        end_time=None if all_day else time.fromisoformat(row["end_time"]),
        category=row["category"], description=row["description"], location=row["location"],
        rrule=row["rrule"], exdates=[date.fromisoformat(d) for d in row["exdates"]],
        off_day=row.get("off_day", ""), url=row["url"], url_label=row["url_label"], status=row["status"],
    )


@transaction.atomic
def import_apply(*, actor: Any, batch: ImportBatch, cancel_missing: bool = False) -> ImportBatch:
    """Carry out a checked import in one transaction: create new events, update changed ones
    in place (same UID, SEQUENCE + 1), leave unchanged ones alone; optionally cancel this
    year's imported events that the file no longer lists. All or nothing."""
    batch = ImportBatch.objects.select_for_update().select_related("school").get(pk=batch.pk)
    if batch.state != ImportBatch.State.PREVIEW:
        raise ImportNotApplicable([{"line": None, "column": "", "message": "この取込はすでに反映済みか破棄されています"}])
    if batch.errors:
        raise ImportNotApplicable(batch.errors)
    school = batch.school
    # Serialise imports of one school: two clerks applying files at once would otherwise both
    # plan against the same old state.
    School.objects.select_for_update().filter(pk=school.pk).first()
    plan = importing.plan(school, batch.rows)
    if plan.errors:
        raise ImportNotApplicable(plan.errors)
    calendars = {c.pk: c for c in school.calendars.all()}
    counts = {"created": 0, "updated": 0, "unchanged": 0, "cancelled_missing": 0, "terms": 0}
    for item in plan.rows:
        row = item.row
        if row["kind"] == "term":
            if item.action != "unchanged":
                start = date.fromisoformat(row["start_date"])
                term_save(actor=actor, school=school, fiscal_year=importing.fiscal_year_of(start),
                          name=row["title"], start_date=start, end_date=date.fromisoformat(row["end_date"]))
                counts["terms"] += 1
            continue
        data = _data_from_row(row, calendars)
        if item.action == "create":
            event_create(actor=actor, data=data, ref=row["ref"], source=Event.Source.IMPORT, batch=batch)
            counts["created"] += 1
        else:
            assert isinstance(item.target, Event)
            changed = event_update(actor=actor, event=item.target, data=data, ref=row["ref"] or None, batch=batch)
            counts["updated" if changed else "unchanged"] += 1
    if cancel_missing:
        for event in plan.missing:
            event_cancel(actor=actor, event=event, reason=f"取込ファイル「{batch.filename}」にないため", batch=batch)
            counts["cancelled_missing"] += 1
    batch.state = ImportBatch.State.APPLIED
    batch.applied_at = timezone.now()
    batch.summary = counts
    batch.save(update_fields=["state", "applied_at", "summary"])
    audit.record(actor=actor, action="calendars.import_apply", obj=batch, changes=counts)
    return batch


@transaction.atomic
def import_discard(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """Throw away a previewed import."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.state != ImportBatch.State.PREVIEW:
        return batch
    batch.state = ImportBatch.State.DISCARDED
    batch.save(update_fields=["state"])
    audit.record(actor=actor, action="calendars.import_discard", obj=batch, changes={})
    return batch
