"""The consultation module's knobs, read from settings when used (never at import time).

An operator sets them in settings (for example from the environment); the defaults below are
what hiroba ships with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # 意見公募手続: the ward's minimum period in days (both days inclusive).
    "CONSULTATIONS_MIN_PERIOD_DAYS": 30,
    # Longest opinion accepted, in characters (after normalising line ends).
    "CONSULTATIONS_MAX_OPINION_CHARS": 10_000,
    # Largest attachment or scanned original, in bytes.
    "CONSULTATIONS_MAX_ATTACHMENT_BYTES": 10 * 1024 * 1024,
    # Submissions one worker process handles at the same time; beyond it: 503 + Retry-After.
    "CONSULTATIONS_MAX_INFLIGHT_SUBMISSIONS": 8,
    "CONSULTATIONS_RETRY_AFTER_SECONDS": 5,
    # (The identity verifier and its OpenID Connect provider are hiroba.accounts.identity's:
    # HIROBA_IDENTITY_VERIFIER, HIROBA_OIDC; the former CONSULTATIONS_* names are still read.)
    # Personal-information detector: a dotted path to a function text -> [{"start","end","kind"}].
    "CONSULTATIONS_PII_DETECTOR": "hiroba.consultations.masking.default_detector",
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
