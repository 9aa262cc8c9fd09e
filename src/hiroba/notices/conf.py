"""Settings of the notice service, each overridable in settings.py or by environment variable.

- ``NOTICES_SITE_URL`` (env ``HIROBA_SITE_URL``): the public address the e-mails link to.
- ``NOTICES_POSTAGE_YEN`` (env ``HIROBA_NOTICES_POSTAGE_YEN``): price of one letter, ¥110 by default.
- ``NOTICES_MAILS_PER_HOUR`` (env ``HIROBA_NOTICES_MAILS_PER_HOUR``): at most this many notice
  e-mails queued in any hour, over all batches (0, the default: no limit). A batch that reaches it
  stays 送付処理中 and ``hiroba notices batch dispatch`` (run on a schedule) sends the rest later.
- ``NOTICES_PRINT_CHUNK`` (env ``HIROBA_NOTICES_PRINT_CHUNK``): at most this many letters of a print
  run laid out as one WeasyPrint document (250); the chunks' PDFs are joined into the run's file.
- ``NOTICES_PRINT_WORKERS`` (env ``HIROBA_NOTICES_PRINT_WORKERS``): chunks laid out at once, each
  in a forked process (0, the default: one per core, at most two).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "NOTICES_SITE_URL": os.environ.get("HIROBA_SITE_URL", ""),
    "NOTICES_POSTAGE_YEN": int(os.environ.get("HIROBA_NOTICES_POSTAGE_YEN", "110")),
    "NOTICES_MAILS_PER_HOUR": int(os.environ.get("HIROBA_NOTICES_MAILS_PER_HOUR", "0")),
    "NOTICES_PRINT_CHUNK": int(os.environ.get("HIROBA_NOTICES_PRINT_CHUNK", "250")),
    "NOTICES_PRINT_WORKERS": int(os.environ.get("HIROBA_NOTICES_PRINT_WORKERS", "0")),
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def site_url(path: str) -> str:
    base = str(get("NOTICES_SITE_URL")).rstrip("/")
    return base + path
