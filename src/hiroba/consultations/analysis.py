"""Opinion analysis in the consultation workflow: run it, read it, act on it.

The analysis itself is `hiroba.analysis` (pure Python, deterministic, no Django). Here a case's
items become its opinions (id = item number), the case's sections its sections, and the answered
items of the ward's other published cases its past answers. A run is queued as a background task
(`tasks.analyze_case`) and reports its progress on the `AnalysisRun` row; staff then see the
campaigns and same-intent groups, answer a whole campaign or group at once, choose to publish a
campaign as one row (「同一の意見 n 件」), and the report's personal-information spans become
mask proposals for the publication.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from hiroba.consultations import masking, services
from hiroba.consultations.models import AnalysisRun, Answer, Case, Item, Mask
from hiroba.core import audit

if TYPE_CHECKING:  # the analysis package loads numpy and scipy: imported where it is used
    from hiroba.analysis.model import Opinion, PastItem
    from hiroba.analysis.model import Section as DraftSection

STAGE_LABELS = {
    "normalize": "正規化",
    "campaigns": "同文・類似文（一斉送信）の検出",
    "groups": "同趣旨の意見のまとまり",
    "sections": "該当箇所の推定",
    "suggestions": "過去の回答からの候補",
    "pii": "個人情報の検出",
    "signals": "提出の傾向",
}
PROGRESS_EVERY_SECONDS = 0.5


class AnalysisError(services.ConsultationError):
    """Refused: a clear Japanese message for staff."""


def analysis_items(case: Case) -> list[Item]:
    """The items analysed: everything that may be published (not 対象外, not 取下げ)."""
    return list(case.items.filter(excluded=False, withdrawn=False).select_related("submission").order_by("number"))


def input_digest(items: Iterable[Item]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(f"{item.number}\x00{item.text}\x1e".encode())
    return h.hexdigest()


@transaction.atomic
def analysis_request(*, actor: Any, case: Case) -> AnalysisRun:
    """Queue a run over the case's current items (refused while another is queued or running)."""
    if case.analysis_runs.filter(state__in=[AnalysisRun.State.QUEUED, AnalysisRun.State.RUNNING]).exists():
        raise AnalysisError("分析を実行中です。終わるまでお待ちください。")
    items = analysis_items(case)
    if not items:
        raise AnalysisError("分析する意見がありません。先に提出された意見を項目に分けてください。")
    run = AnalysisRun.objects.create(case=case, requested_by=actor if getattr(actor, "pk", None) else None,
                                     item_count=len(items), input_digest=input_digest(items), total=len(items))
    audit.record(actor=actor, action="consultations.analysis_request", obj=run,
                 changes={"case": case.slug, "items": len(items), "input_digest": run.input_digest})
    from hiroba.consultations import tasks

    transaction.on_commit(lambda: tasks.analyze_case.enqueue(run.pk))
    return run


def _opinions(items: Sequence[Item]) -> list[Opinion]:
    from hiroba.analysis.model import Opinion

    out = []
    for item in items:
        sub = item.submission
        out.append(Opinion(
            id=str(item.number), text=item.text,
            received_at=timezone.localtime(sub.received_at).isoformat() if sub.received_at else None,
            name=sub.name or None, email=sub.email or None, address=sub.address or None,
        ))
    return out


def _sections(case: Case) -> list[DraftSection]:
    from hiroba.analysis.model import Section as DraftSection

    return [DraftSection(id=str(s.pk), title=f"{s.number} {s.heading}".strip(), text=s.body)
            for s in case.sections.order_by("position", "pk")]


def past_items(case: Case) -> list[PastItem]:
    """Answered, published items of the ward's other published cases (id ``slug#No``)."""
    from hiroba.analysis.model import PastItem

    items = (Item.objects.filter(case__state=Case.State.PUBLISHED, answer__isnull=False, excluded=False,
                                 withdrawn=False)
             .exclude(case=case).select_related("case", "answer").order_by("case__slug", "number"))
    return [PastItem(id=f"{i.case.slug}#{i.number}", opinion=i.text, answer=i.answer.text) for i in items]


def analysis_execute(run_id: int) -> AnalysisRun:
    """Run the analysis (called by the background task); progress is saved as it goes."""
    from hiroba.analysis.report import analyze

    run = AnalysisRun.objects.select_related("case").get(pk=run_id)
    if run.state != AnalysisRun.State.QUEUED:
        return run  # a retried task: the run already ran or is running
    run.state, run.started_at = AnalysisRun.State.RUNNING, timezone.now()
    run.save(update_fields=["state", "started_at"])
    case = run.case
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_SECONDS and done < total:
            return
        last[0] = now
        AnalysisRun.objects.filter(pk=run.pk).update(stage=stage, done=done, total=total)

    try:
        items = analysis_items(case)
        report = analyze(_opinions(items), sections=_sections(case), past=past_items(case), progress=progress)
    except Exception as exc:  # noqa: BLE001 - the run records any failure for staff to see
        AnalysisRun.objects.filter(pk=run.pk).update(state=AnalysisRun.State.FAILED, error=str(exc)[:2000],
                                                     finished_at=timezone.now())
        run.refresh_from_db()
        return run
    with transaction.atomic():
        AnalysisRun.objects.filter(pk=run.pk).update(
            state=AnalysisRun.State.DONE, report=report, finished_at=timezone.now(), stage="", done=len(items),
            total=len(items), item_count=len(items), input_digest=input_digest(items))
        run.refresh_from_db()
        created = masks_from_run(run)
        audit.record(actor="system", action="consultations.analysis_done", obj=run,
                     changes={"campaigns": len(report["campaigns"]), "groups": len(report["groups"]),
                              "pii_items": len(report["pii"]), "masks_created": created})
    return run


def latest_run(case: Case) -> AnalysisRun | None:
    return case.analysis_runs.first()


def latest_finished_run(case: Case) -> AnalysisRun | None:
    return case.analysis_runs.filter(state=AnalysisRun.State.DONE).first()


# --- reading a report ---------------------------------------------------------------------------

@dataclass
class Cluster:
    """A campaign or a same-intent group, with the items it holds today."""

    kind: str  # "campaign" | "group"
    key: str
    size: int
    representative: Item | None
    items: list[Item]
    evidence: dict[str, Any]
    terms: list[str] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.answer_id)


def clusters(run: AnalysisRun, kind: str) -> list[Cluster]:
    """The run's campaigns (``kind="campaign"``) or groups, mapped onto the case's current items."""
    report = run.report or {}
    entries = report.get("campaigns" if kind == "campaign" else "groups", [])
    by_number = {str(i.number): i for i in run.case.items.select_related("answer").order_by("number")}
    out = []
    for entry in entries:
        members = [by_number[m] for m in entry["member_ids"] if m in by_number]
        rep_id = entry.get("representative_id") or entry.get("centre_id")
        out.append(Cluster(kind=kind, key=entry["id"], size=entry["size"], representative=by_number.get(rep_id),
                           items=members, evidence=entry.get("evidence", {}), terms=entry.get("terms", [])))
    return out


def cluster(run: AnalysisRun, kind: str, key: str) -> Cluster | None:
    return next((c for c in clusters(run, kind) if c.key == key), None)


@dataclass
class ItemAnalysis:
    campaign: str | None
    campaign_size: int
    group: str | None
    group_terms: list[str]
    suggestions: list[dict[str, Any]]


def item_analysis(run: AnalysisRun | None, item: Item) -> ItemAnalysis | None:
    if run is None or not run.report:
        return None
    report, oid = run.report, str(item.number)
    camp = next((c for c in report["campaigns"] if oid in c["member_ids"]), None)
    group = next((g for g in report["groups"] if oid in g["member_ids"]), None)
    return ItemAnalysis(campaign=camp["id"] if camp else None, campaign_size=camp["size"] if camp else 0,
                        group=group["id"] if group else None, group_terms=group["terms"] if group else [],
                        suggestions=report.get("suggestions", {}).get(oid, []))


# --- acting on it -------------------------------------------------------------------------------

@transaction.atomic
def answer_many(*, actor: Any, case: Case, items: Sequence[Item], text: str,
                one_row: bool = False) -> Answer:
    """One answer for all ``items`` (同趣旨の意見はまとめて回答). With ``one_row`` the first item's
    row stands for the others in the publication (「同一の意見 n 件」)."""
    items = sorted(items, key=lambda i: i.number)
    if not items:
        raise AnalysisError("回答する意見を選んでください。")
    if any(i.case_id != case.pk for i in items):
        raise AnalysisError("この案件の意見ではないものが含まれています。")
    if not text.strip():
        raise AnalysisError("区の考え方を入力してください。")
    answer = services.answer_write(actor=actor, items=items, text=text)
    lead, others = items[0], items[1:]
    if one_row:
        Item.objects.filter(pk=lead.pk).update(represented_by=None)
        Item.objects.filter(pk__in=[i.pk for i in others]).update(represented_by=lead)
        audit.record(actor=actor, action="consultations.items_one_row", obj=lead,
                     changes={"case": case.slug, "represents": [i.number for i in others]})
    return answer


@transaction.atomic
def one_row_undo(*, actor: Any, item: Item) -> int:
    """Publish the items this row stood for as rows of their own again."""
    count = Item.objects.filter(represented_by=item).update(represented_by=None)
    audit.record(actor=actor, action="consultations.items_one_row_undo", obj=item,
                 changes={"case": item.case.slug, "count": count})
    return count


def masks_from_run(run: AnalysisRun) -> int:
    """Mask proposals from the report's personal-information spans; returns how many were new.

    Spans are characters of the item text, as is `Mask`. Structured kinds are masked
    automatically, the rest flagged for staff; a span already proposed (or decided by staff)
    is left alone, so running it twice changes nothing.
    """
    pii = (run.report or {}).get("pii", {})
    if not pii:
        return 0
    items = {str(i.number): i for i in run.case.items.filter(number__in=[int(k) for k in pii if k.isdigit()])}
    existing = set(Mask.objects.filter(item__in=items.values(), field="text")
                   .values_list("item_id", "start", "end"))
    new = []
    for oid, spans in pii.items():
        item = items.get(oid)
        if item is None:
            continue
        for span in spans:
            start, end, kind = int(span["start"]), int(span["end"]), str(span["kind"])
            if (item.pk, start, end) in existing or not (0 <= start < end <= len(item.text)):
                continue
            auto = kind in masking.AUTO_KINDS
            new.append(Mask(item=item, field="text", start=start, end=end, kind=kind,
                            source=Mask.Source.AUTO if auto else Mask.Source.FLAG,
                            decision=Mask.Decision.MASK if auto else Mask.Decision.PENDING,
                            note="意見の分析で検出"))
            existing.add((item.pk, start, end))
    Mask.objects.bulk_create(new)
    return len(new)
