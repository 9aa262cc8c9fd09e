"""Taking a diagnosis report into the register: one transaction, one bulk upsert per chunk.

A finding is one rule at one endpoint of one system; its key is the SHA-256 of (tool, rule id,
method, URI without query string, parameter). Within a report, instances with the same key are
one finding (the first instance's fields on the row, the others in `more_instances`); across
reports the unique (system, key) makes the same finding the same row. After the upsert, two
UPDATE statements decide what the new diagnosis means:

- a finding that was 解消 and is present again is reopened (未対応, a new due date);
- a finding still being worked on (未対応 / 対応中 / 対応済) that is absent is 解消, with this
  diagnosis as the one that showed it (`closed_round`);
- 誤検知 and リスク受容 are decisions: a re-import never changes them.

Everything is parsed before anything is written, so a bad file leaves no trace.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import IO, Any

from django.core.files import File
from django.db import transaction
from django.db.models import Case, DateField, F, Value, When
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.dates import fiscal_year_of
from hiroba.core.errors import ServiceError
from hiroba.security import audit_actions as actions
from hiroba.security import conf, parsers
from hiroba.security.models import (
    ACTIVE_STATUSES,
    Contractor,
    DiagnosisRound,
    Finding,
    FindingStatus,
    Rule,
    System,
)

TOOLS = {"zap-json": DiagnosisRound.Tool.ZAP, "zap-xml": DiagnosisRound.Tool.ZAP,
         "wapiti-json": DiagnosisRound.Tool.WAPITI, "csv": DiagnosisRound.Tool.VENDOR}
UPSERT_FIELDS = [
    "rule", "title", "severity", "riskcode", "confidence", "cvss", "alert_ref", "uri", "attack", "evidence",
    "otherinfo", "more_instances", "instance_count", "content_hash", "last_round", "last_seen_on", "updated_at",
]
HASHED_FIELDS = ("rule_id", "title", "severity", "riskcode", "confidence", "cvss", "alert_ref", "uri", "attack",
                 "evidence", "otherinfo", "more_instances", "instance_count")


#: Fields of a report that change with every scan without saying anything new about the finding
#: (ZAP's alert and message ids, the alert's instance count): kept, but not compared.
VOLATILE = frozenset({"id", "sourceid", "count"})


def content_hash(row: Finding) -> str:
    """A digest of what a diagnosis says about a finding (not its status or dates)."""
    values = [getattr(row, name) for name in HASHED_FIELDS]
    values[HASHED_FIELDS.index("more_instances")] = [
        {k: v for k, v in item.items() if k not in VOLATILE} for item in row.more_instances]
    payload = json.dumps(values, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class ImportRefused(ServiceError):
    code = "import_refused"


def finding_key(source: str, rule_id: str, method: str, path: str, param: str) -> str:
    raw = "\x1f".join((source, rule_id, method.upper(), path, param))
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def severity_of(tool: str, inst: parsers.Instance) -> int:
    """The grade (0 情報 … 4 緊急) from the report's own scale, as configured."""
    if tool == "zap":
        return int(conf.get("SECURITY_ZAP_RISKCODE_SEVERITY").get(inst.riskcode, 0))
    if tool == "wapiti":
        return int(conf.get("SECURITY_WAPITI_LEVEL_SEVERITY").get(inst.level, 0))
    if inst.level is not None:
        return inst.level
    return cvss_severity(inst.cvss)


def cvss_severity(score: Decimal | float | None) -> int:
    if score is None:
        return 0
    for lowest, grade in conf.get("SECURITY_CVSS_SEVERITY"):
        if float(score) >= lowest:
            return int(grade)
    return 0


def due_date(severity: int, start: date) -> date | None:
    days = conf.get("SECURITY_DUE_DAYS").get(severity)
    return start + timedelta(days=days) if days else None


@dataclass
class ImportResult:
    round: DiagnosisRound
    new: int
    unchanged: int
    closed: int
    reopened: int

    def line(self) -> str:
        return f"new {self.new}, unchanged {self.unchanged}, closed {self.closed}, reopened {self.reopened}"


def _size_of(stream: IO[bytes]) -> int:
    position = stream.tell()
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(position)
    return size


def refuse_if_too_large(size: int) -> None:
    limit = conf.get("SECURITY_MAX_REPORT_BYTES")
    if size > limit:
        raise ImportRefused(format_lazy(
            _("ファイルが大きすぎます（{size} MB）。取り込めるのは {limit} MB までです。診断ツールでサイトごとに"
              "分けて出力してください。"), size=round(size / 1024 / 1024, 1), limit=limit // 1024 // 1024),
            code="too_large")


def _digest(stream: IO[bytes]) -> tuple[str, bytes]:
    sha = hashlib.sha256()
    stream.seek(0)
    head = stream.read(4096)
    sha.update(head)
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        sha.update(chunk)
    stream.seek(0)
    return sha.hexdigest(), head


def round_import(
    *, actor: ActorLike, system: System, stream: IO[bytes], filename: str = "", fmt: str | None = None,
    performed_on: date | None = None, vendor: Contractor | None = None, allow_empty: bool = False,
    keep_file: bool = True,
) -> ImportResult:
    """Import one diagnosis report of `system`; all of it, or (on any problem) nothing.

    Refused before reading: a file over ``SECURITY_MAX_REPORT_BYTES``; an empty file; the very
    same file already imported for this system; a report older than the latest diagnosis.
    """
    size = _size_of(stream)
    refuse_if_too_large(size)
    if size == 0:
        raise ImportRefused(_("空のファイルです。"), code="empty")
    sha, head = _digest(stream)
    try:
        fmt = fmt or parsers.detect(head, filename)
        report = parsers.parse(stream, fmt)
    except parsers.ReportError as exc:
        raise ImportRefused(exc.message, code=exc.code) from None
    return _store(actor=actor, system=system, report=report, stream=stream, filename=filename, sha=sha, size=size,
                  performed_on=performed_on, vendor=vendor, allow_empty=allow_empty, keep_file=keep_file)


@transaction.atomic
def _store(*, actor: ActorLike, system: System, report: parsers.Report, stream: IO[bytes], filename: str, sha: str,
           size: int, performed_on: date | None, vendor: Contractor | None, allow_empty: bool,
           keep_file: bool) -> ImportResult:
    who = Actor.of(actor)
    system = System.objects.select_for_update().get(pk=system.pk)
    target = parsers.origin(system.url)
    instances = [i for i in report.instances if parsers.origin(i.uri) == target]
    if report.instances and not instances:
        sites = "、".join(sorted({parsers.origin(i.uri) for i in report.instances})[:5])
        raise ImportRefused(format_lazy(_("このレポートには {url} の診断結果がありません（含まれるサイト: {sites}）。"
                                          "取込先のサイトを確かめてください。"), url=target, sites=sites),
                            code="site_mismatch")
    if not instances and not allow_empty:
        raise ImportRefused(_("検出事項が1件もないレポートです。診断が正常に終わったか確かめてください"
                              "（取り込むと、対応中の検出事項がすべて解消になります）。"), code="empty")
    previous = system.rounds.filter(source_sha256=sha).first()
    if previous is not None:
        raise ImportRefused(format_lazy(_("同じファイルを取込済みです（{day} の診断 #{pk}）。"),
                                        day=previous.performed_on.isoformat(), pk=previous.pk), code="duplicate")
    day = performed_on or report.performed_on or timezone.localdate()
    latest = system.rounds.order_by("-performed_on", "-id").first()
    if latest is not None and day < latest.performed_on:
        raise ImportRefused(format_lazy(_("取込済みの最新の診断（{latest}）より前の診断（{day}）は取り込めません。"),
                                        latest=latest.performed_on.isoformat(), day=day.isoformat()),
                            code="older_than_latest")
    tool = TOOLS[report.fmt]
    source = "zap" if tool == DiagnosisRound.Tool.ZAP else ("wapiti" if tool == DiagnosisRound.Tool.WAPITI else
                                                             "vendor")
    rnd = DiagnosisRound.objects.create(
        system=system, fiscal_year=fiscal_year_of(day), performed_on=day, tool=tool, file_format=report.fmt,
        scanner_version=report.version[:40], vendor=vendor, source_name=os.path.basename(filename)[:255],
        source_sha256=sha, source_bytes=size, imported_by=who.user, instance_count=len(instances),
    )
    rule_ids = _upsert_rules(source, report, {i.rule_id for i in instances})
    counts = _upsert_findings(system, rnd, source, tool, instances, rule_ids, day)
    rnd.finding_count = counts["findings"]
    rnd.new_count, rnd.unchanged_count = counts["new"], counts["unchanged"]
    rnd.closed_count, rnd.reopened_count = counts["closed"], counts["reopened"]
    if keep_file:
        stream.seek(0)
        rnd.report_file.save(f"{system.pk}-{sha[:16]}-{os.path.basename(filename) or 'report'}"[:200],
                             File(stream), save=False)
    rnd.save()
    audit.record(actor=who.user or who.audit_label, action=actions.FINDING_IMPORT, obj=rnd, changes={
        "system": system.url, "format": report.fmt, "file": rnd.source_name, "sha256": sha,
        "instances": len(instances), "findings": counts["findings"], "new": counts["new"],
        "unchanged": counts["unchanged"], "closed": counts["closed"], "reopened": counts["reopened"],
    })
    return ImportResult(rnd, counts["new"], counts["unchanged"], counts["closed"], counts["reopened"])


def _upsert_rules(source: str, report: parsers.Report, used: set[str]) -> dict[str, int]:
    now = timezone.now()
    rows = [Rule(source=source, rule_id=r.rule_id, name=r.name[:300], cweid=r.cweid, wascid=r.wascid,
                 description=r.description, solution=r.solution, reference=r.reference, otherinfo=r.otherinfo,
                 updated_at=now) for key, r in report.rules.items() if key in used]
    Rule.objects.bulk_create(rows, update_conflicts=True, unique_fields=["source", "rule_id"],
                             update_fields=["name", "cweid", "wascid", "description", "solution", "reference",
                                            "otherinfo", "updated_at"])
    return dict(Rule.objects.filter(source=source, rule_id__in=list(used)).values_list("rule_id", "id"))


def _upsert_findings(system: System, rnd: DiagnosisRound, source: str, tool: str,
                     instances: list[parsers.Instance], rule_ids: dict[str, int], day: date) -> dict[str, int]:
    now = timezone.now()
    rows: dict[str, Finding] = {}
    for inst in instances:
        path = parsers.endpoint_path(inst.uri)
        key = finding_key(source, inst.rule_id, inst.method, path, inst.param)
        severity = severity_of(tool, inst)
        row = rows.get(key)
        if row is not None:  # the same endpoint again (another query string, another alertRef)
            row.instance_count += 1
            row.more_instances.append({
                "uri": inst.uri, "method": inst.method, "param": inst.param, "attack": inst.attack,
                "evidence": inst.evidence, "otherinfo": inst.otherinfo, "alert_ref": inst.alert_ref,
                "riskcode": inst.riskcode, "confidence": inst.confidence, **inst.extra,
            })
            if severity > row.severity:
                row.severity, row.riskcode, row.confidence = severity, inst.riskcode, inst.confidence
            continue
        rows[key] = Finding(
            system_id=system.pk, key=key, rule_id=rule_ids[inst.rule_id], title=inst.title, severity=severity,
            riskcode=inst.riskcode, confidence=inst.confidence, cvss=inst.cvss, alert_ref=inst.alert_ref,
            method=inst.method, path=path, param=inst.param, uri=inst.uri, attack=inst.attack, evidence=inst.evidence,
            otherinfo=inst.otherinfo, more_instances=[inst.extra] if inst.extra else [], instance_count=1,
            status=FindingStatus.OPEN, due_on=due_date(severity, day), first_round_id=rnd.pk, last_round_id=rnd.pk,
            first_seen_on=day, last_seen_on=day, updated_at=now,
        )
    for row in rows.values():
        row.content_hash = content_hash(row)
    existing = {key: (pk, digest) for key, pk, digest in
                Finding.objects.filter(system=system).values_list("key", "id", "content_hash").iterator(5000)}
    fresh = [row for key, row in rows.items() if key not in existing]
    changed = [row for key, row in rows.items() if key in existing and existing[key][1] != row.content_hash]
    same_ids = [existing[key][0] for key, row in rows.items()
                if key in existing and existing[key][1] == row.content_hash]
    chunk = conf.get("SECURITY_IMPORT_CHUNK")
    # New findings: a plain bulk insert (the system's row is locked, so no other import adds keys
    # meanwhile). Changed ones: one bulk upsert per chunk. Unchanged ones: only marked as seen.
    for start in range(0, len(fresh), chunk):
        Finding.objects.bulk_create(fresh[start:start + chunk])
    for start in range(0, len(changed), chunk):
        Finding.objects.bulk_create(changed[start:start + chunk], update_conflicts=True,
                                    unique_fields=["system", "key"], update_fields=UPSERT_FIELDS)
    for start in range(0, len(same_ids), 5000):
        Finding.objects.filter(id__in=same_ids[start:start + 5000]).update(
            last_round=rnd, last_seen_on=day, updated_at=now)
    new = len(fresh)
    due_days = conf.get("SECURITY_DUE_DAYS")
    reopened = Finding.objects.filter(system=system, status=FindingStatus.RESOLVED, last_round=rnd).update(
        status=FindingStatus.OPEN, reopen_count=F("reopen_count") + 1, closed_round=None, resolved_on=None,
        decision_reason="", updated_at=Now(),
        due_on=Case(*[When(severity=grade, then=Value(day + timedelta(days=days)))
                      for grade, days in due_days.items()], default=Value(None), output_field=DateField()),
    )
    closed = Finding.objects.filter(system=system, status__in=ACTIVE_STATUSES).exclude(last_round=rnd).update(
        status=FindingStatus.RESOLVED, closed_round=rnd, resolved_on=day, updated_at=Now(),
    )
    return {"findings": len(rows), "new": new, "reopened": reopened, "closed": closed,
            "unchanged": len(rows) - new - reopened}


def import_path(*, actor: ActorLike, system: System, path: str, fmt: str | None = None, **kwargs: Any) -> ImportResult:
    """`round_import` of a file on disk (the command line); the size is checked before opening."""
    refuse_if_too_large(os.path.getsize(path))
    with open(path, "rb") as stream:
        return round_import(actor=actor, system=system, stream=stream, filename=os.path.basename(path), fmt=fmt,
                            **kwargs)


def spooled(content: bytes) -> IO[bytes]:
    """A file object for report bytes held in memory (tests, the demo)."""
    handle = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    handle.write(content)
    handle.seek(0)
    return handle


__all__ = ["ImportRefused", "ImportResult", "round_import", "import_path", "finding_key", "severity_of",
           "cvss_severity", "due_date", "spooled"]
