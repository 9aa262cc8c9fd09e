"""Scheduled work (django-tasks): the deletion of applicants' data after a programme ends."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from hiroba.workshops import services


@task()
def purge_due_programmes(today: str | None = None) -> list[list[object]]:
    """Anonymise the applicants of every programme whose deletion date has come (audited).

    Queued by `hiroba workshops purge --enqueue` (or run inline by the command itself); a
    systemd timer or cron runs that command daily.
    """
    day = date.fromisoformat(today) if today else None
    return [[code, count] for code, count in services.programmes_purge_due(actor="system", today=day)]
