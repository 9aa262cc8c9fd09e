"""Downloads: a system's findings (CSV / JSON / Excel) and its 結果報告書 (PDF and Excel)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from hiroba.core import charts, pdf, tabular
from hiroba.core.dates import wareki_with_seireki
from hiroba.security.models import ACTIVE_STATUSES, DiagnosisRound, Finding, FindingStatus, Severity, System

FINDING_COLUMNS = [
    tabular.Column("ID", "id", width=8),
    tabular.Column("危険度", "severity", width=8),
    tabular.Column("名称", "title", width=36, wrap=True),
    tabular.Column("ルールID", "rule_id", width=12),
    tabular.Column("CWE", "cweid", width=8),
    tabular.Column("メソッド", "method", width=8),
    tabular.Column("URI", "path", width=48, wrap=True),
    tabular.Column("パラメータ", "param", width=16),
    tabular.Column("検出箇所数", "instances", width=10),
    tabular.Column("対応状況", "status", width=16),
    tabular.Column("対応期限", "due_on", width=12, number_format="yyyy/m/d"),
    tabular.Column("初回検出日", "first_seen", width=12, number_format="yyyy/m/d"),
    tabular.Column("最終検出日", "last_seen", width=12, number_format="yyyy/m/d"),
    tabular.Column("解消日", "resolved_on", width=12, number_format="yyyy/m/d"),
    tabular.Column("再発回数", "reopened", width=8),
    tabular.Column("攻撃文字列", "attack", width=24, wrap=True),
    tabular.Column("証跡", "evidence", width=24, wrap=True),
]


def findings_of(system: System) -> QuerySet[Finding]:
    return (Finding.objects.filter(system=system).select_related("rule")
            .order_by("-severity", "status", "due_on", "id"))


def findings_table(system: System) -> tabular.Table:
    rows = ([f.pk, Severity(f.severity).label, f.title, f.rule.rule_id, f.rule.cweid, f.method, f.path, f.param,
             f.instance_count, FindingStatus(f.status).label, f.due_on, f.first_seen_on, f.last_seen_on,
             f.resolved_on, f.reopen_count, f.attack, f.evidence] for f in findings_of(system).iterator(2000))
    return tabular.Table(columns=FINDING_COLUMNS, rows=rows, sheet="検出事項",
                         preamble=[["システム", system.name], ["URL", system.url]])


def findings_csv(system: System) -> bytes:
    return tabular.to_csv(findings_table(system))


def findings_json(system: System) -> bytes:
    table = findings_table(system).materialise()
    return tabular.to_json(table, extra={"system": system.name, "url": system.url,
                                         "department": system.department.name}, key="findings")


@dataclass
class SystemReport:
    system: System
    round: DiagnosisRound | None
    findings: list[Finding]
    by_severity: list[tuple[str, int, int]]  # (grade, open, all)
    generated_on: date

    @property
    def open_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.status in ACTIVE_STATUSES and f.severity >= Severity.LOW]


def build_report(system: System) -> SystemReport:
    """The 結果報告書 of a system: its latest diagnosis and every finding still on record."""
    latest = system.rounds.order_by("-performed_on", "-id").first()
    findings = list(findings_of(system))
    total = Counter(f.severity for f in findings)
    open_ = Counter(f.severity for f in findings if f.status in ACTIVE_STATUSES)
    grades = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]
    return SystemReport(system, latest, findings, [(str(g.label), open_[g], total[g]) for g in grades],
                        timezone.localdate())


def report_context(rep: SystemReport) -> dict[str, Any]:
    chart = charts.bar_chart("危険度別の未対応の検出事項（詳細は下の表）",
                             [(label, n) for label, n, _total in rep.by_severity], chart_id="report-severity",
                             unit="件", label_width=80, chart_width=300)
    return {"rep": rep, "chart": chart, "generated": wareki_with_seireki(rep.generated_on),
            "performed": wareki_with_seireki(rep.round.performed_on) if rep.round else ""}


def report_pdf(system: System) -> bytes:
    """A4 portrait, Noto Sans CJK JP embedded: the report the owning department receives."""
    return pdf.to_pdf(render_to_string("security/export/report_pdf.html", report_context(build_report(system))))


def report_xlsx(system: System) -> bytes:
    rep = build_report(system)
    summary = tabular.Table(
        columns=[tabular.Column("危険度", "grade", width=10), tabular.Column("未対応", "open", width=10),
                 tabular.Column("検出事項数", "all", width=10)],
        rows=[list(row) for row in rep.by_severity], sheet="概要",
        preamble=[["結果報告書", rep.system.name], ["URL", rep.system.url], ["所管所属", rep.system.department.name],
                  ["診断日", rep.round.performed_on if rep.round else None],
                  ["作成日", rep.generated_on]],
    )
    return tabular.to_xlsx(summary, findings_table(system))
