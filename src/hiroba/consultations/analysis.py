"""Opinion analysis in the consultation workflow: run it, read it, act on it.

The analysis itself is `hiroba.analysis` (pure Python, deterministic, no Django). Here a case's
publishable items become its opinions (id = item number), the case's sections its sections, and
the answered items of the ward's other published cases its past answers. A run is queued as a
background task (`tasks.analyze_case`) and reports its progress on the `AnalysisRun` row; staff
then see the campaigns and same-intent groups with their evidence, answer a whole campaign or
group at once, may publish a campaign as one row (「同一の意見 n 件」, `Item.represented_by`),
and the report's personal-information spans become mask proposals for the publication.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hiroba.consultations import masking, services
from hiroba.consultations.models import AnalysisRun, AnalysisRunItem, Answer, Case, Item, Mask
from hiroba.core import audit

if TYPE_CHECKING:  # the analysis package loads numpy and scipy: imported where it is used
    from hiroba.analysis.model import Opinion, PastItem
    from hiroba.analysis.model import Section as DraftSection

logger = logging.getLogger(__name__)

STAGE_LABELS = {
    "normalize": gettext_lazy("文面の正規化"),
    "campaigns": gettext_lazy("同じ文面の意見の検出"),
    "groups": gettext_lazy("同趣旨の意見のまとまりの検出"),
    "sections": gettext_lazy("該当箇所の推定"),
    "suggestions": gettext_lazy("過去の回答からの候補の検索"),
    "pii": gettext_lazy("個人情報の検出"),
    "signals": gettext_lazy("提出の傾向の確認"),
}
#: Progress is written to the database at most this often (the last call of a stage always).
PROGRESS_EVERY_SECONDS = 0.5
#: A run queued or running for longer than this is taken as lost (worker stopped) when staff
#: ask for a new one, and marked failed so the case is not blocked for ever.
ABANDONED_AFTER = timedelta(hours=2)
MASK_NOTE = "意見の分析で検出"


class AnalysisError(services.ConsultationError):
    """Refused: a clear Japanese message for staff."""


# --- running ------------------------------------------------------------------------------------


def analysis_items(case: Case) -> list[Item]:
    """The items analysed: those that may be published (neither 対象外 nor 取下げ)."""
    return list(case.items.filter(excluded=False, withdrawn=False).select_related("submission").order_by("number"))


def input_digest(items: Iterable[Item]) -> str:
    """SHA-256 over the items' numbers and texts, in number order: equal for unchanged input."""
    h = hashlib.sha256()
    for item in sorted(items, key=lambda i: i.number):
        h.update(f"{item.number}\x00{item.text}\x1e".encode())
    return h.hexdigest()


@transaction.atomic
def analysis_request(*, actor: Any, case: Case) -> AnalysisRun:
    """Queue a run over the case's current items; refused while another run of the case is
    queued or running (a database constraint holds it too). The task is queued after commit."""
    active = case.analysis_runs.filter(state__in=[AnalysisRun.State.QUEUED, AnalysisRun.State.RUNNING])
    active.filter(created_at__lt=timezone.now() - ABANDONED_AFTER).update(
        state=AnalysisRun.State.FAILED,
        finished_at=timezone.now(),
        error="時間内に終わらなかったため打ち切りました（処理が停止した可能性があります）。",
    )
    if active.exists():
        raise AnalysisError(_("分析を実行中です。終わるまでお待ちください。"))
    items = analysis_items(case)
    if not items:
        raise AnalysisError(_("分析する意見がありません。先に提出された意見を項目に分けてください。"))
    try:
        with transaction.atomic():
            run = AnalysisRun.objects.create(
                case=case,
                requested_by=actor if getattr(actor, "is_authenticated", False) else None,
                item_count=len(items),
                total=len(items),
                input_digest=input_digest(items),
            )
    except IntegrityError as exc:  # a concurrent request won the race
        raise AnalysisError(_("分析を実行中です。終わるまでお待ちください。")) from exc
    audit.record(
        actor=actor,
        action="consultations.analysis_request",
        obj=run,
        changes={"case": case.slug, "items": len(items), "input_digest": run.input_digest},
    )
    from hiroba.consultations import tasks

    run_id = run.pk
    transaction.on_commit(lambda: tasks.analyze_case.enqueue(run_id))
    return run


def _opinions(items: Sequence[Item]) -> list[Opinion]:
    from hiroba.analysis.model import Opinion

    return [
        Opinion(
            id=str(item.number),
            text=item.text,
            received_at=item.submission.received_at.isoformat() if item.submission.received_at else None,
            name=item.submission.name or None,
            email=item.submission.email or None,
            address=item.submission.address or None,
        )
        for item in items
    ]


def _sections(case: Case) -> list[DraftSection]:
    from hiroba.analysis.model import Section as DraftSection

    return [
        DraftSection(id=str(s.pk), title=str(s), text=s.body, pages=(s.page, s.page) if s.page else None)
        for s in case.sections.order_by("position", "pk")
    ]


def past_items(case: Case) -> list[PastItem]:
    """Answered items of the ward's other published cases (id ``slug#No``), their opinions as
    published (masked), so no personal information travels between departments' cases."""
    from hiroba.analysis.model import PastItem

    items = (
        Item.objects.filter(case__state=Case.State.PUBLISHED, answer__isnull=False, excluded=False, withdrawn=False)
        .exclude(case=case)
        .select_related("case", "answer")
        .prefetch_related("masks")
        .order_by("case__slug", "number")
    )
    return [
        PastItem(id=f"{i.case.slug}#{i.number}", opinion=services.masked_text(i), answer=i.answer.text) for i in items
    ]


def _progress_saver(run_id: int) -> Callable[[str, int, int], None]:
    last = [float("-inf")]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_SECONDS and done < total:
            return
        last[0] = now
        AnalysisRun.objects.filter(pk=run_id).update(stage=stage, done=done, total=total)

    return progress


def analysis_execute(run: AnalysisRun) -> AnalysisRun:
    """Run the analysis of a queued run (the background task calls this). The run is claimed
    with a conditional UPDATE, so a retried or duplicated task does nothing; progress is saved
    as it goes; any exception marks the run failed with its message."""
    from hiroba.analysis.report import analyze

    claimed = AnalysisRun.objects.filter(pk=run.pk, state=AnalysisRun.State.QUEUED).update(
        state=AnalysisRun.State.RUNNING, started_at=timezone.now()
    )
    run.refresh_from_db()
    if not claimed:
        return run
    try:
        case = run.case
        items = analysis_items(case)
        past = past_items(case)
        report = analyze(_opinions(items), sections=_sections(case), past=past, progress=_progress_saver(run.pk))
        with transaction.atomic():
            _store(run, items, past, report)
    except Exception as exc:  # noqa: BLE001 - whatever failed, staff see the run failed and why
        logger.exception("analysis run %s failed", run.pk)
        message = f"{type(exc).__name__}: {exc}"[:2000]
        AnalysisRun.objects.filter(pk=run.pk).update(
            state=AnalysisRun.State.FAILED, error=message, finished_at=timezone.now()
        )
        audit.record(actor="system", action="consultations.analysis_fail", obj=run, changes={"error": message})
    run.refresh_from_db()
    return run


def _store(run: AnalysisRun, items: Sequence[Item], past: Sequence[PastItem], report: dict[str, Any]) -> None:
    campaign_of = {m: c["id"] for c in report["campaigns"] for m in c["member_ids"]}
    group_of = {m: g["id"] for g in report["groups"] for m in g["member_ids"]}
    past_opinion = {p.id: p.opinion for p in past}
    suggestions = report.get("suggestions", {})
    # Only the latest finished run's rows are read; older runs keep their report.
    AnalysisRunItem.objects.filter(run__case=run.case).delete()
    AnalysisRunItem.objects.bulk_create(
        [
            AnalysisRunItem(
                run=run,
                item=item,
                campaign=campaign_of.get(str(item.number), ""),
                group=group_of.get(str(item.number), ""),
                suggestions=[
                    {**s, "past_opinion": past_opinion.get(s["past_id"], "")}
                    for s in suggestions.get(str(item.number), [])
                ],
            )
            for item in items
        ],
        batch_size=500,
    )
    AnalysisRun.objects.filter(pk=run.pk).update(
        state=AnalysisRun.State.DONE,
        report=report,
        finished_at=timezone.now(),
        stage="",
        done=len(items),
        total=len(items),
        item_count=len(items),
        input_digest=input_digest(items),
    )
    run.refresh_from_db()
    created = masks_from_run(run)
    audit.record(
        actor="system",
        action="consultations.analysis_done",
        obj=run,
        changes={
            "items": len(items),
            "campaigns": len(report["campaigns"]),
            "groups": len(report["groups"]),
            "items_with_pii": len(report["pii"]),
            "masks_created": created,
            "input_digest": run.input_digest,
        },
    )


def latest_run(case: Case) -> AnalysisRun | None:
    """The newest run of the case, whatever its state (its report not loaded)."""
    return case.analysis_runs.defer("report").first()


def latest_finished_run(case: Case, *, with_report: bool = False) -> AnalysisRun | None:
    """The newest finished run: the one the screens show."""
    runs = case.analysis_runs.filter(state=AnalysisRun.State.DONE)
    return (runs if with_report else runs.defer("report")).first()


# --- reading a finished run -------------------------------------------------------------------


@dataclass
class Member:
    """An item of a campaign or group, with the evidence for it being there."""

    item: Item
    lead: bool = False  # the campaign's representative or the group's centre
    exact: bool = False  # identical to the representative after normalisation (campaigns)
    similarity: float | None = None  # estimated Jaccard (campaigns) or cosine to the centre (groups)
    containment: float | None = None
    shared_terms: list[str] = field(default_factory=list)


@dataclass
class Cluster:
    """A campaign (``kind="campaign"``) or a same-intent group (``"group"``) of a finished run."""

    kind: str
    key: str
    size: int
    lead: Item | None
    members: list[Member]
    evidence: dict[str, Any]
    terms: list[str] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        return [m.item for m in self.members]

    @property
    def answered(self) -> int:
        return sum(1 for m in self.members if m.item.answer_id)

    @property
    def published_as_one_row(self) -> bool:
        """Every other member is published in the lead's row."""
        lead = self.lead
        return (
            lead is not None
            and len(self.members) > 1
            and all(m.item.represented_by_id == lead.pk for m in self.members if m.item.pk != lead.pk)
        )


KINDS = {"campaign": "campaigns", "group": "groups"}


def _member(kind: str, entry: dict[str, Any], item: Item, unit_of: dict[str, dict[str, Any]]) -> Member:
    oid = str(item.number)
    if kind == "campaign":
        score = entry["evidence"].get("member_scores", {}).get(oid)
        lead = oid == entry["representative_id"]
        return Member(
            item=item,
            lead=lead,
            exact=score is None and not lead,
            similarity=score["jaccard"] if score else None,
            containment=score.get("containment") if score else None,
        )
    unit = unit_of.get(oid, {})
    return Member(
        item=item,
        lead=oid == entry["centre_id"],
        similarity=unit.get("similarity"),
        shared_terms=list(unit.get("shared_terms", [])),
    )


def _units_by_member(entry: dict[str, Any], campaigns: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A group's units ({id, campaign_id, similarity, shared_terms}) by member opinion id."""
    out: dict[str, dict[str, Any]] = {}
    for unit in entry.get("units", []):
        members = campaigns[unit["campaign_id"]]["member_ids"] if unit.get("campaign_id") in campaigns else [unit["id"]]
        for m in members:
            out[m] = unit
    return out


def _cluster(kind: str, entry: dict[str, Any], items: dict[str, Item], campaigns: dict[str, dict[str, Any]]) -> Cluster:
    unit_of = _units_by_member(entry, campaigns) if kind == "group" else {}
    members = [_member(kind, entry, items[m], unit_of) for m in entry["member_ids"] if m in items]
    lead_id = entry.get("representative_id") if kind == "campaign" else entry.get("centre_id")
    return Cluster(
        kind=kind,
        key=entry["id"],
        size=entry["size"],
        lead=items.get(lead_id or ""),
        members=members,
        evidence=entry.get("evidence", {}),
        terms=list(entry.get("terms", [])),
    )


def clusters(run: AnalysisRun, kind: str) -> list[Cluster]:
    """Every campaign or group of a finished run (its report loaded), with the case's items
    as they are now (one query for all of them)."""
    report = run.report or {}
    items = {
        str(i.number): i
        for i in run.case.items.only("id", "case_id", "number", "text", "answer_id", "represented_by_id").order_by(
            "number"
        )
    }
    campaigns = {c["id"]: c for c in report.get("campaigns", [])}
    return [_cluster(kind, entry, items, campaigns) for entry in report.get(KINDS[kind], [])]


def cluster(run: AnalysisRun, kind: str, key: str) -> Cluster | None:
    """One campaign or group, its members loaded with their answers (one query)."""
    if kind not in KINDS or run.report is None:
        return None
    entry = next((e for e in run.report.get(KINDS[kind], []) if e["id"] == key), None)
    if entry is None:
        return None
    rows = run.rows.filter(**{kind: key}).select_related("item__answer")
    items = {str(r.item.number): r.item for r in rows}
    campaigns = {c["id"]: c for c in run.report.get("campaigns", [])}
    return _cluster(kind, entry, items, campaigns)


def suggestions_for(run: AnalysisRun, item: Item) -> list[dict[str, Any]]:
    """The past answers the run suggests for one item, best first."""
    return run.rows.filter(item=item).values_list("suggestions", flat=True).first() or []


@dataclass
class ItemFindings:
    """What the latest finished run says about one item (the item page)."""

    run: AnalysisRun
    campaign: str
    campaign_size: int
    group: str
    group_size: int
    suggestions: list[dict[str, Any]]


def item_findings(case: Case, item: Item) -> ItemFindings | None:
    """The item's campaign, group and suggested answers in the latest finished run (None if
    no run has finished, or the item was not analysed in it)."""
    run = latest_finished_run(case)
    row = run.rows.filter(item=item).first() if run else None
    if run is None or row is None:
        return None
    return ItemFindings(
        run=run,
        campaign=row.campaign,
        group=row.group,
        suggestions=row.suggestions,
        campaign_size=run.rows.filter(campaign=row.campaign).count() if row.campaign else 0,
        group_size=run.rows.filter(group=row.group).count() if row.group else 0,
    )


def is_outdated(run: AnalysisRun) -> bool:
    """The items have changed (added, excluded, withdrawn) since the run analysed them."""
    return run.input_digest != input_digest(analysis_items(run.case))


# --- acting on it ---------------------------------------------------------------------------


def _check_answers_open(case: Case) -> None:
    case.refresh_from_db(fields=["state"])
    if case.answers_locked:
        raise services.AnswersLocked()


def _exclusive_answer(items: Sequence[Item]) -> Answer | None:
    """An answer some of ``items`` already have and no other item shares: reusing it keeps its
    version history instead of leaving an orphan behind. The lead's answer first."""
    answer_ids = {i.answer_id for i in items if i.answer_id}
    if not answer_ids:
        return None
    shared_elsewhere = set(
        Item.objects.filter(answer_id__in=answer_ids)
        .exclude(pk__in=[i.pk for i in items])
        .values_list("answer_id", flat=True)
    )
    exclusive = answer_ids - shared_elsewhere
    if not exclusive:
        return None
    chosen = items[0].answer_id if items[0].answer_id in exclusive else min(exclusive)
    return Answer.objects.get(pk=chosen)


@transaction.atomic
def answer_many(*, actor: Any, case: Case, items: Sequence[Item], text: str, one_row: bool = False) -> Answer:
    """One 区の考え方 for all ``items`` (同趣旨の意見はまとめて回答), through the answer services, so
    the approval lock applies. The first item (lowest number; the campaign's representative
    when the view puts it first) leads. With ``one_row`` the others are published in the lead's
    row (「同一の意見 n 件」); without it, any such folding among ``items`` is undone."""
    items = list({i.pk: i for i in items}.values())
    if not items:
        raise AnalysisError(_("回答する意見を選んでください。"))
    if any(i.case_id != case.pk for i in items):
        raise AnalysisError(_("この案件の意見ではないものが含まれています。"))
    _check_answers_open(case)
    if not text.strip():
        raise AnalysisError(_("区の考え方を入力してください。"))
    if one_row and len(items) < 2:
        raise AnalysisError(_("一つの行で公表するには、2件以上の意見を選んでください。"))
    answer = _exclusive_answer(items)
    if answer is None:
        answer = services.answer_write(actor=actor, items=items, text=text)
    else:
        answer = services.answer_update(actor=actor, answer=answer, text=text)
        for item in items:
            if item.answer_id != answer.pk:
                services.answer_assign(actor=actor, item=item, answer=answer)
    lead, others = items[0], items[1:]
    pks = [i.pk for i in items]
    before = {i.number: i.represented_by_id for i in items}
    if one_row:
        # Items that were folded into one of these rows get their own row back first.
        Item.objects.filter(represented_by__in=pks).exclude(pk__in=pks).update(represented_by=None)
        Item.objects.filter(pk=lead.pk).update(represented_by=None)
        Item.objects.filter(pk__in=[i.pk for i in others]).update(represented_by=lead)
    else:
        Item.objects.filter(pk__in=pks, represented_by__in=pks).update(represented_by=None)
    for item in items:
        item.refresh_from_db(fields=["answer", "represented_by"])
    audit.record(
        actor=actor,
        action="consultations.answer_many",
        obj=answer,
        changes={
            "case": case.slug,
            "items": [i.number for i in items],
            "one_row": one_row,
            "lead": lead.number,
            "represented_by": {
                str(n): [before[n], i.represented_by_id]
                for n, i in zip(before, items, strict=True)
                if before[n] != i.represented_by_id
            },
        },
    )
    return answer


@transaction.atomic
def one_row_undo(*, actor: Any, item: Item) -> int:
    """Publish the items this row stood for as rows of their own again; returns how many."""
    _check_answers_open(item.case)
    numbers = list(item.represents.order_by("number").values_list("number", flat=True))
    Item.objects.filter(represented_by=item).update(represented_by=None)
    audit.record(
        actor=actor, action="consultations.one_row_undo", obj=item, changes={"case": item.case.slug, "items": numbers}
    )
    return len(numbers)


def masks_from_run(run: AnalysisRun) -> int:
    """Mask proposals from the report's personal-information spans; returns how many are new.

    Spans are characters of the item text, as `Mask` offsets are. Kinds in
    `masking.AUTO_KINDS` become automatic masks (非公開), the others are flagged (要確認). A span
    that already has a mask (proposed, decided, or added by staff) is left alone, so staff
    decisions stand and running it twice adds nothing.
    """
    pii = (run.report or {}).get("pii", {})
    numbers = [int(k) for k in pii if k.isdigit()]
    if not numbers:
        return 0
    items = {
        str(i.number): i
        for i in run.case.items.filter(number__in=numbers).prefetch_related(
            Prefetch("masks", queryset=Mask.objects.filter(field="text"))
        )
    }
    new: list[Mask] = []
    for oid, spans in sorted(pii.items()):
        item = items.get(oid)
        if item is None:
            continue
        taken = {(m.start, m.end) for m in item.masks.all()}
        for span in spans:
            start, end, kind = int(span["start"]), int(span["end"]), str(span["kind"])
            if (start, end) in taken or not (0 <= start < end <= len(item.text)):
                continue
            auto = kind in masking.AUTO_KINDS
            new.append(
                Mask(
                    item=item,
                    field="text",
                    start=start,
                    end=end,
                    kind=kind[:30],
                    source=Mask.Source.AUTO if auto else Mask.Source.FLAG,
                    decision=Mask.Decision.MASK if auto else Mask.Decision.PENDING,
                    note=MASK_NOTE,
                )
            )
            taken.add((start, end))
    if new:
        Mask.objects.bulk_create(new)
        audit.record(
            actor="system",
            action="consultations.masks_from_analysis",
            obj=run,
            changes={"masks": [[m.item.number, m.start, m.end, m.kind, m.decision] for m in new]},
        )
    return len(new)
