"""Private helpers shared by the proposals service modules: the clock, dates in 和暦, keyed hashes."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from hiroba.accounts.identity import keyed_hash


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _jp(day: date) -> str:
    from hiroba.core.dates import wareki_with_seireki

    return wareki_with_seireki(day)


def _keyed(purpose: bytes, message: str) -> str:
    return keyed_hash(purpose, message)
