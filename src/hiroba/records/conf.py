"""The records module's knobs, read from settings when used (never at import time)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The records manager's office (文書主管課): a role on this department (by code) covers every
    # department's register, dispositions and scans; APPROVE on it approves 廃棄・移管・延長.
    "RECORDS_OFFICE_DEPARTMENT": "joho-system",
    # Folders `hiroba records scan` may read (absolute paths); empty: any folder the command is given.
    "RECORDS_SCAN_ROOTS": [],
    # Rows per bulk statement when storing a scan's inventory and findings.
    "RECORDS_SCAN_CHUNK": 5000,
    # The largest register file an import reads.
    "RECORDS_MAX_IMPORT_BYTES": 20 * 1024 * 1024,
    # The records search's index (`hiroba records index`): the largest document read, the text kept
    # per document, and the seconds pdftotext may take on one PDF.
    "RECORDS_INDEX_MAX_BYTES": 50 * 1024 * 1024,
    "RECORDS_INDEX_MAX_CHARS": 1_000_000,
    "RECORDS_INDEX_TIMEOUT": 30,
    # Segment transfer (インターネット系 ↔ LGWAN系): the types that may cross (decided by content),
    # the largest file, and how a PDF with active content is drawn as the safe copy.
    "RECORDS_TRANSFER_TYPES": ["pdf", "png", "jpeg", "text", "docx", "xlsx", "pptx"],
    "RECORDS_TRANSFER_MAX_BYTES": 20 * 1024 * 1024,
    "RECORDS_TRANSFER_RENDER_DPI": 150,
    "RECORDS_TRANSFER_RENDER_PAGES": 200,
    "RECORDS_TRANSFER_RENDER_TIMEOUT": 120,
    # Office files (.docx/.xlsx/.pptx) that cross are also rendered to PDF by LibreOffice in the
    # background worker (a PDF copy beside the macro-free copy): the `soffice` program ("" turns
    # the PDF copy off; None looks for it on PATH) and the seconds one conversion may take.
    "RECORDS_TRANSFER_SOFFICE": None,
    "RECORDS_TRANSFER_SOFFICE_TIMEOUT": 180,
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def soffice() -> str | None:
    """The LibreOffice program that renders Office files to PDF, or None when there is none."""
    import shutil

    configured = get("RECORDS_TRANSFER_SOFFICE")
    if configured == "":
        return None
    return shutil.which(configured or "soffice")
