"""Private helpers shared by the proposals service modules: the clock, dates in 和暦, keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _jp(day: date) -> str:
    from hiroba.core.dates import wareki_with_seireki

    return wareki_with_seireki(day)


def _keyed(purpose: bytes, message: str) -> str:
    secret = (getattr(settings, "HIROBA_BALLOT_KEY", "") or settings.SECRET_KEY).encode()
    key = hmac.new(secret, purpose, hashlib.sha256).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
