"""The records search (issue 17 §5): the text of the documents on a scanned share, indexed, and
one search function that hides the database's engine.

What is indexed: the PDF, Word (.docx), Excel (.xlsx) and text (.txt, .csv) files of a root's
inventory, i.e. of its latest `hiroba records scan` (`hiroba records index PATH`). Each document
takes its department from the scan (or, for a scan of the whole share, from the department whose
name its first folder carries), and the register file whose 共有フォルダ上の場所 holds it gives its
名称, year and 大分類 (else the year is the fiscal year of its modification time).

The engines: on SQLite an FTS5 table with the trigram tokenizer (migration 0002), so a word of 3
characters or more is a substring MATCH; 1–2 characters, which a trigram cannot match, fall back
to LIKE. On PostgreSQL ILIKE, which pg_trgm's GIN indexes serve when the extension could be
created (and which reads the table without them when it could not).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import Role
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.records import access, conf, queries, textract
from hiroba.records import audit_actions as actions
from hiroba.records.models import DocumentText, InventoryFile, RecordFile, Scan
from hiroba.records.naming import fiscal_year_of
from hiroba.records.scans import allowed_root
from hiroba.records.services import who

# The FTS5 table of migration 0002 (SQLite): a constant statement, the phrase a bound parameter.
FTS_MATCH = "SELECT rowid FROM records_documenttext_fts WHERE records_documenttext_fts MATCH %s"
MAX_WORDS = 5
THREADS = 4
BATCH = 100  # documents read, then written, at a time


@dataclass
class IndexReport:
    root: str
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)  # [{"path", "reason"}]


def _limits() -> textract.Limits:
    return textract.Limits(max_bytes=conf.get("RECORDS_INDEX_MAX_BYTES"), max_chars=conf.get("RECORDS_INDEX_MAX_CHARS"),
                           timeout=float(conf.get("RECORDS_INDEX_TIMEOUT")))


def _department_of(scan: Scan) -> Any:
    """A function: the document's relative path → its department."""
    if scan.department_id is not None:
        return lambda _path: scan.department
    by_folder: dict[str, Department | None] = {}
    departments = sorted(Department.objects.all(), key=lambda d: -len(d.name))

    def find(path: str) -> Department | None:
        top = path.split("/", 1)[0]
        if top not in by_folder:
            by_folder[top] = next((d for d in departments if d.name and d.name in top), None)
        return by_folder[top]
    return find


def _register_of(root: str) -> Any:
    """A function: the document's relative path → the register file whose share folder holds it."""
    files = {f.share_path.strip("/"): f for f in RecordFile.objects.exclude(share_path="")}

    def find(path: str) -> RecordFile | None:
        parts = path.split("/")[:-1]
        for i in range(len(parts), 0, -1):
            hit = files.get("/".join(parts[:i]))
            if hit is not None:
                return hit
        return None
    return find


def index(*, actor: ActorLike, path: str) -> IndexReport:
    """Read the text of the root's documents that are new or changed since the last index run
    (by size and modification time), drop those no longer in its inventory. Needs a scan first."""
    root = allowed_root(path)
    scan = Scan.objects.filter(root=root).select_related("department").order_by("-started_at", "-id").first()
    if scan is None:
        raise ServiceError(format_lazy(_("{path} はまだ点検されていません。先に点検してください。"), path=path),
                           code="not_scanned")
    user = Actor.of(actor).user
    if user is not None and not (access.OFFICE.is_office(user, Role.HANDLE) if scan.department_id is None
                                 else access.OFFICE.has_role(user, scan.department_id, Role.HANDLE)):
        raise NotAllowed(_("文書の本文を索引する権限がありません。"))
    report = IndexReport(root=root)
    inventory = {p: (size, mtime) for p, size, mtime in
                 InventoryFile.objects.filter(root=root).values_list("path", "size", "mtime_ns").iterator(chunk_size=20000)
                 if textract.kind_of(p.rsplit("/", 1)[-1])}
    known = {p: (pk, size, mtime) for pk, p, size, mtime in
             DocumentText.objects.filter(root=root).values_list("id", "path", "size", "mtime_ns")}
    todo = [p for p, stamp in inventory.items() if p not in known or known[p][1:] != stamp]
    report.unchanged = len(inventory) - len(todo)
    gone = [pk for p, (pk, *_rest) in known.items() if p not in inventory]
    limits = _limits()

    def read(rel: str) -> tuple[str, str, str]:
        try:
            return rel, textract.extract(os.path.join(root, rel), limits), ""
        except textract.Unreadable as exc:
            return rel, "", exc.reason

    department_of, register_of = _department_of(scan), _register_of(root)

    def store(rel: str, text: str, reason: str) -> None:
        size, mtime = inventory[rel]
        record = register_of(rel)
        name = rel.rsplit("/", 1)[-1] + (f" {record.name}" if record else "")
        year = record.fiscal_year if record else fiscal_year_of(
            datetime.fromtimestamp(mtime / 1e9, tz=timezone.get_current_timezone()).date())
        DocumentText.objects.update_or_create(root=root, path=rel, defaults=dict(
            name=name[:1300], kind=textract.kind_of(rel) or "", department=department_of(rel), record_file=record,
            fiscal_year=year, large=record.large if record else "", size=size, mtime_ns=mtime, text=text,
            error=reason, indexed_at=timezone.now()))
        if reason:
            report.errors.append({"path": rel, "reason": reason})

    # A batch of texts in memory at a time (each up to RECORDS_INDEX_MAX_CHARS), each batch its own
    # transaction, so that a large share's run neither holds every text nor one long transaction.
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for i in range(0, len(todo), BATCH):
            texts = list(pool.map(read, todo[i:i + BATCH]))
            with transaction.atomic():
                for rel, text, reason in texts:
                    store(rel, text, reason)
            report.indexed += len(texts)
    with transaction.atomic():
        for i in range(0, len(gone), 900):
            DocumentText.objects.filter(pk__in=gone[i:i + 900]).delete()
        report.removed = len(gone)
        audit.record(actor=who(actor), action=actions.DOCUMENTS_INDEX, obj=scan,
                     changes={"root": root, "indexed": report.indexed, "unchanged": report.unchanged,
                              "removed": report.removed, "errors": len(report.errors)})
    return report


def engine() -> str:
    """Which engine serves the search here: `fts5_trigram` (SQLite), `pg_trgm` (PostgreSQL with the
    extension's indexes) or `ilike` (PostgreSQL without them: the extension could not be created)."""
    if connection.vendor == "sqlite":
        return "fts5_trigram"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", ["records_documenttext_text_trgm"])
        return "pg_trgm" if cursor.fetchone() else "ilike"


def words_of(q: str) -> list[str]:
    return (q or "").split()[:MAX_WORDS]


def _word(word: str) -> Q:
    if connection.vendor == "sqlite" and len(word) >= 3:
        phrase = '"' + word.replace('"', '""') + '"'
        return Q(id__in=RawSQL(FTS_MATCH, [phrase]))  # nosec B611
    return Q(name__icontains=word) | Q(text__icontains=word)


def search(documents: QuerySet[DocumentText], data: dict[str, Any]) -> QuerySet[DocumentText]:
    """The documents whose name or text holds every word of `q` (filters: department, year, 大分類)."""
    qs = documents
    for word in words_of(data.get("q") or ""):
        qs = qs.filter(_word(word))
    return queries.filtered(qs, data).select_related("department", "record_file").order_by("-fiscal_year", "path")


def snippet(text: str, words: list[str], width: int = 50) -> SafeString:
    """The text around the first word found, escaped, each word in <mark>."""
    low = text.lower()
    hits = [i for i in (low.find(w.lower()) for w in words if w) if i >= 0]
    at = min(hits) if hits else 0
    start, end = max(0, at - width), min(len(text), at + width * 2)
    part = text[start:end].replace("\n", " ")
    pairs, pos = [], 0
    if words:
        pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
        for m in pattern.finditer(part):
            pairs.append((part[pos:m.start()], m.group()))
            pos = m.end()
    return format_html("{}{}{}{}", "…" if start else "", format_html_join("", "{}<mark>{}</mark>", pairs), part[pos:],
                       "…" if end < len(text) else "")
