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

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.calendars import audit_actions as actions
from hiroba.calendars import importing
from hiroba.calendars.errors import CalendarsError, ImportNotApplicable, RowError
from hiroba.calendars.models import (
    Calendar,
    Combination,
    Event,
    EventRevision,
    ImportBatch,
    School,
    Term,
)
from hiroba.core import audit, pagecache
from hiroba.core.actors import Actor
from hiroba.core.models import Department

MAX_CALENDARS_PER_COMBINATION = 12
UID_DOMAIN = "calendars.hiroba"


__all__ = ["CalendarsError", "ImportNotApplicable"]  # and the use cases below

#: What a service takes as `actor`: an Actor, or what `Actor.of` turns into one (a user, a
#: process name such as "demo", None for the system).
ActorLike = Actor | AbstractBaseUser | str | None


def _audit_actor(who: Actor) -> Any:
    """What `audit.record` takes for an actor: the account, or the actor's one label."""
    return who.user or who.audit_label


# --- schools, calendars, terms ---------------------------------------------------------------

@transaction.atomic
def school_create(
    *, actor: ActorLike, department: Department, slug: str, name: str, short_name: str, kind: str,
    classes_per_grade: int = 0, address: str = "", phone: str = "", website: str = "",
    latitude: Any = None, longitude: Any = None,
) -> School:
    """Register a school with its 全校 calendar, one calendar per grade and, if asked, per class."""
    who = Actor.of(actor)
    school = School.objects.create(
        department=department, slug=slug, name=name, short_name=short_name, kind=kind,
        address=address, phone=phone, website=website, latitude=latitude, longitude=longitude,
    )
    pagecache.invalidate("calendars")
    audit.record(actor=_audit_actor(who), action=actions.SCHOOL_CREATE, obj=school,
                 changes=audit.diff({}, audit.snapshot(school, ["slug", "name", "kind", "department_id"])))
    calendar_create(actor=who, school=school, audience=Calendar.Audience.SCHOOL)
    for grade in range(1, school.max_grade + 1):
        calendar_create(actor=who, school=school, audience=Calendar.Audience.GRADE, grade=grade)
        for number in range(1, classes_per_grade + 1):
            calendar_create(actor=who, school=school, audience=Calendar.Audience.CLASS, grade=grade,
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
def calendar_create(*, actor: ActorLike, school: School, audience: str, grade: int | None = None,
                    class_name: str = "") -> Calendar:
    """Add a calendar for an audience; its key (part of the feed URL) never changes afterwards."""
    class_name = importing.normalize(class_name)
    if audience == Calendar.Audience.SCHOOL:
        grade, class_name = None, ""
    elif audience == Calendar.Audience.GRADE:
        class_name = ""
    if grade is not None and not 1 <= grade <= school.max_grade:
        raise CalendarsError(format_lazy(_("{school}の学年は1〜{max_grade}です"), school=school.name,
                                         max_grade=school.max_grade), code="grade_out_of_range", field="grade")
    order = {"school": 0, "grade": 1, "class": 2}[audience]
    calendar = Calendar.objects.create(
        school=school, audience=audience, grade=grade, class_name=class_name,
        key=_calendar_key(school, audience, grade, class_name),
        sort_order=(grade or 0) * 100 + order * 10,
    )
    pagecache.invalidate("calendars")
    audit.record(actor=_audit_actor(Actor.of(actor)), action=actions.CALENDAR_CREATE, obj=calendar,
                 changes=audit.diff({}, {"school": school.slug, "key": calendar.key, "label": calendar.label}))
    return calendar


@transaction.atomic
def term_save(*, actor: ActorLike, school: School, fiscal_year: int, name: str, start_date: date,
              end_date: date) -> Term:
    """Create or change a 学期 (one per name and school year)."""
    if end_date < start_date:
        raise CalendarsError(_("学期の終了日が開始日より前です"), code="term_end_before_start", field="end_date")
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
    pagecache.invalidate("calendars")
    audit.record(actor=_audit_actor(Actor.of(actor)), action=actions.TERM_SAVE, obj=term, changes=changes)
    return term


@transaction.atomic
def term_delete(*, actor: ActorLike, term: Term) -> None:
    """Remove a 学期 entered by mistake."""
    pagecache.invalidate("calendars")
    audit.record(actor=_audit_actor(Actor.of(actor)), action=actions.TERM_DELETE, obj=term,
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


def _revise(event: Event, *, actor: ActorLike, action: str, changes: dict[str, Any],
            batch: ImportBatch | None = None) -> None:
    who = Actor.of(actor)
    EventRevision.objects.create(event=event, sequence=event.sequence, action=action, changes=changes,
                                 actor=who.account(), actor_label=who.audit_label[:254], import_batch=batch)
    pagecache.invalidate("calendars")
    audit.record(actor=_audit_actor(who), action=actions.EVENT_ACTIONS[action], obj=event,
                 changes={**changes, "sequence": event.sequence, "uid": event.uid,
                          **({"import_batch": batch.pk} if batch else {})})


@transaction.atomic
def event_create(*, actor: ActorLike, data: EventData, ref: str = "", source: str = Event.Source.MANUAL,
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
def event_update(*, actor: ActorLike, event: Event, data: EventData, ref: str | None = None,
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
def event_cancel(*, actor: ActorLike, event: Event, reason: str = "", batch: ImportBatch | None = None) -> Event:
    """Cancel an event: the feeds publish it as STATUS:CANCELLED until the retention window ends."""
    event = Event.objects.select_for_update().select_related("school").get(pk=event.pk)
    if event.is_cancelled:
        return event
    before = _snapshot(event)
    Event.workflow.apply(event, "cancel", actor=actor)
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
def event_restore(*, actor: ActorLike, event: Event) -> Event:
    """Undo a cancellation (the event is published again, with a higher SEQUENCE)."""
    event = Event.objects.select_for_update().select_related("school").get(pk=event.pk)
    if not event.is_cancelled:
        return event
    before = _snapshot(event)
    Event.workflow.apply(event, "restore", actor=actor)
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
        raise CalendarsError(_("カレンダーを1つ以上選んでください"), code="no_calendar", field="calendars")
    if len(ids) > MAX_CALENDARS_PER_COMBINATION:
        raise CalendarsError(format_lazy(_("カレンダーは{limit}個まで選べます"), limit=MAX_CALENDARS_PER_COMBINATION),
                             code="too_many_calendars", field="calendars")
    key = "-".join(str(i) for i in ids)
    combination = Combination.objects.filter(canonical_key=key).first()
    if combination is not None:
        return combination
    combination = Combination.objects.create(token=secrets.token_urlsafe(16), canonical_key=key)
    combination.calendars.set(ids)
    audit.record(actor=_audit_actor(Actor.resident()), action=actions.COMBINATION_CREATE, obj=combination,
                 changes={"calendars": ids})
    return combination


# --- import ---------------------------------------------------------------------------------

@transaction.atomic
def import_preview(*, actor: ActorLike, school: School, filename: str, content: bytes) -> ImportBatch:
    """Read and check an uploaded file; store its rows and errors for the preview. Writes no event.

    Raises FileRejected (a ServiceError, field ``file``) when the file as a whole cannot be read.
    """
    import hashlib

    raw_rows, problems = importing.read_rows(filename, content)
    rows, errors = importing.validate(school, raw_rows, problems)
    who = Actor.of(actor)
    batch = ImportBatch.objects.create(
        school=school, filename=filename[:255], sha256=hashlib.sha256(content).hexdigest(),
        rows=rows, errors=errors, created_by=who.account(), created_by_label=who.audit_label[:254],
    )
    audit.record(actor=_audit_actor(who), action=actions.IMPORT_UPLOAD, obj=batch,
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
def import_apply(*, actor: ActorLike, batch: ImportBatch, cancel_missing: bool = False) -> ImportBatch:
    """Carry out a checked import in one transaction: create new events, update changed ones
    in place (same UID, SEQUENCE + 1), leave unchanged ones alone; optionally cancel this
    year's imported events that the file no longer lists. All or nothing."""
    who = Actor.of(actor)
    batch = ImportBatch.objects.select_for_update().select_related("school").get(pk=batch.pk)
    if not ImportBatch.workflow.can(batch, "apply"):
        raise ImportNotApplicable([RowError(None, "", _("この取込はすでに反映済みか破棄されています"),
                                            code="import_closed").as_dict()], code="import_closed")
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
                term_save(actor=who, school=school, fiscal_year=importing.fiscal_year_of(start),
                          name=row["title"], start_date=start, end_date=date.fromisoformat(row["end_date"]))
                counts["terms"] += 1
            continue
        data = _data_from_row(row, calendars)
        if item.action == "create":
            event_create(actor=who, data=data, ref=row["ref"], source=Event.Source.IMPORT, batch=batch)
            counts["created"] += 1
        else:
            assert isinstance(item.target, Event)
            changed = event_update(actor=who, event=item.target, data=data, ref=row["ref"] or None, batch=batch)
            counts["updated" if changed else "unchanged"] += 1
    if cancel_missing:
        for event in plan.missing:
            reason = format_lazy(_("取込ファイル「{filename}」にないため"), filename=batch.filename)
            event_cancel(actor=who, event=event, reason=str(reason), batch=batch)
            counts["cancelled_missing"] += 1
    ImportBatch.workflow.apply(batch, "apply", actor=who)
    batch.applied_at = timezone.now()
    batch.summary = counts
    batch.save(update_fields=["state", "applied_at", "summary"])
    audit.record(actor=_audit_actor(who), action=actions.IMPORT_APPLY, obj=batch, changes=counts)
    return batch


@transaction.atomic
def import_discard(*, actor: ActorLike, batch: ImportBatch) -> ImportBatch:
    """Throw away a previewed import."""
    who = Actor.of(actor)
    batch = ImportBatch.objects.select_for_update().select_related("school").get(pk=batch.pk)
    if not ImportBatch.workflow.can(batch, "discard"):
        return batch
    ImportBatch.workflow.apply(batch, "discard", actor=who)
    batch.save(update_fields=["state"])
    audit.record(actor=_audit_actor(who), action=actions.IMPORT_DISCARD, obj=batch, changes={})
    return batch
