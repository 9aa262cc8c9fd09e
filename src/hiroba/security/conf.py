"""The security register's knobs, read from settings when used (never at import time)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The CISO office (情報システム課): a role on this department (by code) covers every
    # department's systems, findings, audits, incidents and training records.
    "SECURITY_OFFICE_DEPARTMENT": "joho-system",
    # ZAP riskcode → grade (0 情報, 1 注意, 2 警告, 3 重要, 4 緊急). ZAP has no grade above High (3).
    "SECURITY_ZAP_RISKCODE_SEVERITY": {0: 0, 1: 1, 2: 2, 3: 3},
    # wapiti3 level → grade (0 info … 4 critical).
    "SECURITY_WAPITI_LEVEL_SEVERITY": {0: 0, 1: 1, 2: 2, 3: 3, 4: 4},
    # CVSS base score → grade (IPA): the lowest score of each grade, highest first.
    "SECURITY_CVSS_SEVERITY": [(9.0, 4), (7.0, 3), (4.0, 2), (0.1, 1), (0.0, 0)],
    # Days to fix, by grade (緊急, 重要, 警告, 注意); 情報 has no due date.
    "SECURITY_DUE_DAYS": {4: 7, 3: 30, 2: 90, 1: 120},
    # A report larger than this is refused before it is read.
    "SECURITY_MAX_REPORT_BYTES": 200 * 1024 * 1024,
    # Rows per bulk upsert statement when importing findings.
    "SECURITY_IMPORT_CHUNK": 1000,
    # Remind departments of findings due within this many days (besides overdue ones).
    "SECURITY_REMIND_DUE_WITHIN_DAYS": 14,
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
