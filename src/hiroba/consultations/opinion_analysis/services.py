"""Writes of the opinion analysis: request and execute a run (a background task), answer a
whole campaign or group at once, publish a campaign as one row, and turn the report's
personal-information spans into mask proposals. Every write is audited; answers and masks go
through the consultation services, so the approval lock and the mask rules are the same ones."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hiroba.consultations import audit_actions, services
from hiroba.consultations.models import AnalysisRun, AnalysisRunItem, Answer, Case, Item
from hiroba.consultations.opinion_analysis import adapter
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike

if TYPE_CHECKING:
    from hiroba.analysis.model import PastItem

logger = logging.getLogger(__name__)

#: Progress is written to the database at most this often (the last call of a stage always).
PROGRESS_EVERY_SECONDS = 0.5
#: A run queued or running for longer than this is taken as lost (worker stopped) when staff
#: ask for a new one, and marked failed so the case is not blocked for ever.
ABANDONED_AFTER = timedelta(hours=2)
MASK_NOTE = "意見の分析で検出"


class AnalysisError(services.ConsultationError):
    """Refused: a clear Japanese message for staff."""


# --- running ------------------------------------------------------------------------------------


@transaction.atomic
def analysis_request(*, actor: ActorLike, case: Case) -> AnalysisRun:
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
    items = adapter.analysis_items(case)
    if not items:
        raise AnalysisError(_("分析する意見がありません。先に提出された意見を項目に分けてください。"))
    try:
        with transaction.atomic():
            run = AnalysisRun.objects.create(
                case=case,
                requested_by=Actor.of(actor).account(),
                item_count=len(items),
                total=len(items),
                input_digest=adapter.input_digest(items),
            )
    except IntegrityError as exc:  # a concurrent request won the race
        raise AnalysisError(_("分析を実行中です。終わるまでお待ちください。")) from exc
    audit.record(
        actor=actor,
        action=audit_actions.ANALYSIS_REQUEST,
        obj=run,
        changes={"case": case.slug, "items": len(items), "input_digest": run.input_digest},
    )
    from hiroba.consultations import tasks

    run_id = run.pk
    transaction.on_commit(lambda: tasks.analyze_case.enqueue(run_id))
    return run


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
        items = adapter.analysis_items(case)
        past = adapter.past_items(case)
        report = analyze(adapter.opinions(items), sections=adapter.sections(case), past=past,
                         progress=_progress_saver(run.pk))
        with transaction.atomic():
            _store(run, items, past, report)
    except Exception as exc:  # noqa: BLE001 - whatever failed, staff see the run failed and why
        logger.exception("analysis run %s failed", run.pk)
        message = f"{type(exc).__name__}: {exc}"[:2000]
        AnalysisRun.objects.filter(pk=run.pk).update(
            state=AnalysisRun.State.FAILED, error=message, finished_at=timezone.now()
        )
        audit.record(actor="system", action=audit_actions.ANALYSIS_FAIL, obj=run, changes={"error": message})
    run.refresh_from_db()
    return run


def _row_suggestions(oid: str, report: dict[str, Any], past_opinion: dict[str, str], n_past: int) -> dict[str, Any]:
    """`AnalysisRunItem.suggestions` of one item (read by `queries.Suggestions`)."""
    suggested = [{**s, "past_opinion": past_opinion.get(s["past_id"], "")}
                 for s in report.get("suggestions", {}).get(oid, [])]
    held = report.get("suggestions_withheld", {}).get(oid)
    if held is not None:
        held = {**held, "past_opinion": past_opinion.get(held["past_id"] or "", "")}
    return {"suggested": suggested, "past": n_past, "withheld": None if suggested else held}


def _store(run: AnalysisRun, items: Sequence[Item], past: Sequence[PastItem], report: dict[str, Any]) -> None:
    campaign_of = {m: c["id"] for c in report["campaigns"] for m in c["member_ids"]}
    group_of = {m: g["id"] for g in report["groups"] for m in g["member_ids"]}
    past_opinion = {p.id: p.opinion for p in past}
    # Only the latest finished run's rows are read; older runs keep their report.
    AnalysisRunItem.objects.filter(run__case=run.case).delete()
    AnalysisRunItem.objects.bulk_create(
        [
            AnalysisRunItem(
                run=run,
                item=item,
                campaign=campaign_of.get(str(item.number), ""),
                group=group_of.get(str(item.number), ""),
                suggestions=_row_suggestions(str(item.number), report, past_opinion, len(past)),
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
        input_digest=adapter.input_digest(items),
    )
    run.refresh_from_db()
    created = masks_from_run(run)
    audit.record(
        actor="system",
        action=audit_actions.ANALYSIS_DONE,
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


# --- acting on it ---------------------------------------------------------------------------


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
def answer_many(*, actor: ActorLike, case: Case, items: Sequence[Item], text: str, one_row: bool = False) -> Answer:
    """One 区の考え方 for all ``items`` (同趣旨の意見はまとめて回答), through the answer services, so
    the approval lock applies. The first item (lowest number; the campaign's representative
    when the view puts it first) leads. With ``one_row`` the others are published in the lead's
    row (「同一の意見 n 件」); without it, any such folding among ``items`` is undone."""
    items = list({i.pk: i for i in items}.values())
    if not items:
        raise AnalysisError(_("回答する意見を選んでください。"))
    if any(i.case_id != case.pk for i in items):
        raise AnalysisError(_("この案件の意見ではないものが含まれています。"))
    services.answers_require_open(case)
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
        action=audit_actions.ANSWER_MANY,
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
def one_row_undo(*, actor: ActorLike, item: Item) -> int:
    """Publish the items this row stood for as rows of their own again; returns how many."""
    services.answers_require_open(item.case)
    numbers = list(item.represents.order_by("number").values_list("number", flat=True))
    Item.objects.filter(represented_by=item).update(represented_by=None)
    audit.record(
        actor=actor, action=audit_actions.ONE_ROW_UNDO, obj=item, changes={"case": item.case.slug, "items": numbers}
    )
    return len(numbers)


def masks_from_run(run: AnalysisRun) -> int:
    """Mask proposals from the report's personal-information spans; returns how many are new.

    Spans are characters of the item text, as `Mask` offsets are; each becomes a mask through
    `services.masks_propose`, the one place that decides automatic masks (非公開) and flags
    (要確認). A span that already has a mask (proposed, decided, or added by staff) is left
    alone, so staff decisions stand and running it twice adds nothing.
    """
    pii = (run.report or {}).get("pii", {})
    numbers = [int(k) for k in pii if k.isdigit()]
    if not numbers:
        return 0
    items = {str(i.number): i for i in run.case.items.filter(number__in=numbers)}
    new = []
    for oid, spans in sorted(pii.items()):
        item = items.get(oid)
        if item is None:
            continue
        valid = [s for s in spans if 0 <= int(s["start"]) < int(s["end"]) <= len(item.text)]
        new.extend(services.masks_propose(item=item, field="text", spans=valid, note=MASK_NOTE))
    if new:
        audit.record(
            actor="system",
            action=audit_actions.MASKS_FROM_ANALYSIS,
            obj=run,
            changes={"masks": [[m.item.number, m.start, m.end, m.kind, m.decision] for m in new]},
        )
    return len(new)
