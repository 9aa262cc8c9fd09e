"""Moving notices through `Notice.workflow`, many at once, safely beside other processes.

`move` locks the rows that are in the transition's source states (``SELECT … FOR UPDATE``; on
SQLite every transaction takes the write lock at BEGIN), updates exactly those, and writes one
`NoticeEvent` per row. A row another process moved first is no longer in a source state when
the lock is granted (PostgreSQL re-checks the row), so it is left alone: two processes never
both move a notice, which is what keeps "digital or paper, exactly once" true."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from hiroba.core import bulk
from hiroba.core.actors import Actor, ActorLike
from hiroba.notices.models import Notice, NoticeEvent

CHUNK = 1000


def _chunks(ids: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def move(qs: QuerySet[Notice], name: str, *, actor: ActorLike, note: str = "", skip_locked: bool = False,
         limit: int | None = None, now: datetime | None = None,
         each: tuple[str, Mapping[int, int]] | None = None, **fields: Any) -> list[int]:
    """Apply transition `name` to the notices of `qs` that allow it; the ids moved.

    `each`: (an integer or foreign-key field, {notice id: its value}) set in the same UPDATE as
    the status and `fields` (which are then plain values, not expressions): every notice moved
    must have its value."""
    transition = Notice.workflow[name]
    now = now or timezone.now()
    label = Actor.of(actor).audit_label
    with transaction.atomic():
        selected = qs.filter(status__in=transition.source).order_by("pk").select_for_update(skip_locked=skip_locked)
        if limit is not None:
            selected = selected[:limit]
        rows = list(selected.values_list("pk", "status"))
        ids = [pk for pk, _status in rows]
        also = ({"status": transition.target, **{k: bulk.db_value(Notice, k, v) for k, v in fields.items()}}
                if each is not None else {})
        for part in _chunks(ids):
            _events_insert(part, at=now, to_status=transition.target, actor=label[:254], note=note[:300])
            if each is not None:
                field, values = each
                bulk.update_by_pk(Notice, field, {pk: values[pk] for pk in part}, also=also)
            else:
                Notice.objects.filter(pk__in=part).update(status=transition.target, **fields)
    return ids


def _events_insert(ids: list[int], *, at: datetime, to_status: str, actor: str, note: str) -> None:
    """One `NoticeEvent` per notice of `ids`, its ``from_status`` the notice's status now (call it
    before the UPDATE): one ``INSERT … SELECT`` the database runs, no Python object per row."""
    columns = ", ".join(bulk.column(NoticeEvent, name)
                        for name in ("notice", "at", "from_status", "to_status", "actor", "note"))
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(NoticeEvent._meta.db_table)} ({columns}) "  # nosec B608
            f"SELECT {bulk.column(Notice)}, %s, {bulk.column(Notice, 'status')}, %s, %s, %s "
            f"FROM {quote(Notice._meta.db_table)} WHERE {bulk.column(Notice)} IN ({placeholders})",
            [NoticeEvent._meta.get_field("at").get_db_prep_value(at, connection), to_status, actor, note, *ids],
        )


def move_one(notice: Notice, name: str, *, actor: ActorLike, note: str = "", reason: str = "", **fields: Any) -> Notice:
    """One notice, locked, through the state machine's check (permission included)."""
    with transaction.atomic():
        locked = Notice.objects.select_for_update().select_related("batch__notice_type").get(pk=notice.pk)
        before, after = Notice.workflow.apply(locked, name, actor=actor, reason=reason)
        for key, value in fields.items():
            setattr(locked, key, value)
        locked.save(update_fields=["status", *fields])
        NoticeEvent.objects.create(notice=locked, from_status=before, to_status=after,
                                   actor=Actor.of(actor).audit_label[:254], note=note[:300])
    return locked
