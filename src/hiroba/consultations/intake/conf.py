"""The intake channels' knobs, read from settings when used; the mailbox also from the environment.

Mailboxes (one per case, or one shared box whose messages go to the case whose 意見の送付先
メールアドレス — or its ``+slug`` tag — they were addressed to):

- ``CONSULTATIONS_INTAKE_MAILBOXES = {"dx-plan": "maildir:///var/mail/dx"}`` per case, and/or
- ``CONSULTATIONS_INTAKE_MAILBOX`` (or the environment's ``HIROBA_INTAKE_MAILBOX``) for the shared box:
  ``maildir:///path`` or ``imaps://user:password@host:993/INBOX`` (IMAP over TLS only).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "CONSULTATIONS_INTAKE_MAILBOXES": {},
    "CONSULTATIONS_INTAKE_MAILBOX": "",
    # Addresses the ward's fax server sends from or to (FAX-to-mail): such mail is a ファクス.
    "CONSULTATIONS_INTAKE_FAX_ADDRESSES": [],
    # A whole message larger than this is held, unread beyond its headers (bytes).
    "CONSULTATIONS_INTAKE_MAX_MESSAGE_BYTES": 40 * 1024 * 1024,
    # Attachment types taken (by extension; the content must agree).
    "CONSULTATIONS_INTAKE_ATTACHMENT_TYPES": [".pdf", ".doc", ".docx", ".jpg", ".jpeg", ".png", ".tif", ".tiff",
                                               ".gif", ".txt", ".odt", ".rtf"],
    # Automatic replies (受付番号) to one sender per day, at most.
    "CONSULTATIONS_INTAKE_AUTOREPLY_PER_DAY": 3,
    # OCR: tesseract's languages, the resolution scans are read at, words below this are highlighted.
    "CONSULTATIONS_INTAKE_OCR_LANG": "jpn",
    "CONSULTATIONS_INTAKE_OCR_DPI": 300,
    "CONSULTATIONS_INTAKE_OCR_LOW_CONFIDENCE": 70,
    "CONSULTATIONS_INTAKE_OCR_TIMEOUT_SECONDS": 120,
    # A page with less than this share of dark pixels is blank (a separator between letters).
    "CONSULTATIONS_INTAKE_BLANK_PAGE_INK": 0.0003,
    # A page with a barcode (Code 128, Code 39, QR) of this payload — or of one of a list of them —
    # is a separator sheet between letters, dropped from them. The first is printed on the sheet.
    "CONSULTATIONS_INTAKE_SEPARATOR_BARCODE": "HIROBA-SEP",
    # OCR processes run at once on a batch (0: one per CPU).
    "CONSULTATIONS_INTAKE_OCR_WORKERS": 0,
    # IMAP: seconds to wait for the server.
    "CONSULTATIONS_INTAKE_IMAP_TIMEOUT_SECONDS": 30,
}


def get(name: str) -> Any:
    if name == "CONSULTATIONS_INTAKE_MAILBOX" and not hasattr(settings, name):
        return os.environ.get("HIROBA_INTAKE_MAILBOX", "")
    if name == "CONSULTATIONS_INTAKE_MAX_ATTACHMENT_BYTES":
        from hiroba.consultations import conf as consultations_conf

        return consultations_conf.get("CONSULTATIONS_MAX_ATTACHMENT_BYTES")
    return getattr(settings, name, DEFAULTS[name])
