"""The paper fallback and the print runs.

`fallback` moves to paper every notice that is due (bounced, failed for good, or not opened by
its fallback day) and puts every paper notice not yet in a run into a new print run. Both steps
are idempotent and safe beside a second run: the move is conditional (`lifecycle.move`), and
the notices of a run are locked before `PrintItem` rows (unique per notice) are written, so a
concurrent run waits and then finds them taken.

A run is printed as one PDF with its 送付一覧 CSV for the vendor. Its letters are laid out in a few
WeasyPrint documents of up to ``NOTICES_PRINT_CHUNK`` letters each, far faster than a document per
letter (WeasyPrint's start and the embedded fonts are paid once a chunk, not once a letter), in
``NOTICES_PRINT_WORKERS`` forked processes at once, and the chunks' PDFs are joined in order
(`core.pdf.join`). A chunk also bounds the memory: a document holds the layout of all its pages
until it is written."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit, pdf, tabular
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import ServiceError
from hiroba.core.models import Notification
from hiroba.notices import audit_actions, conf, delivery, lifecycle
from hiroba.notices.models import (
    PENDING_DIGITAL,
    Notice,
    PaperReason,
    PrintItem,
    PrintRun,
    Route,
    Status,
)


@dataclass
class FallbackResult:
    to_paper: dict[str, int] = field(default_factory=dict)
    run: PrintRun | None = None
    letters: int = 0
    dry_run: bool = False


def _due(now: datetime) -> dict[str, Any]:
    """{reason: queryset of notices due to paper for that reason}."""
    failed_mail = Notification.objects.filter(state=Notification.State.FAILED).values("pk")
    return {
        PaperReason.BOUNCED: Notice.objects.filter(status=Status.BOUNCED),
        PaperReason.FAILED: Notice.objects.filter(status=Status.PERMANENT_FAILURE)
        | Notice.objects.filter(status__in=[Status.QUEUED, Status.TEMPORARY_FAILURE], notification__in=failed_mail),
        PaperReason.NOT_OPENED: Notice.objects.filter(status__in=PENDING_DIGITAL, opened_at__isnull=True,
                                                      fallback_due_at__lte=now),
    }


def _unprinted() -> Any:
    return Notice.objects.filter(status=Status.PAPER).exclude(
        Exists(PrintItem.objects.filter(notice_id=OuterRef("pk"))))


def fallback(*, actor: ActorLike = None, now: datetime | None = None, dry_run: bool = False) -> FallbackResult:
    actor = actor or Actor.system("fallback")
    now = now or timezone.now()
    result = FallbackResult(dry_run=dry_run)
    if dry_run:
        seen: set[int] = set()
        for reason, qs in _due(now).items():
            ids = set(qs.values_list("pk", flat=True)) - seen
            seen |= ids
            if ids:
                result.to_paper[reason] = len(ids)
        result.letters = _unprinted().count() + len(seen)
        return result
    delivery.sync_mail_states(actor=actor)
    for reason, qs in _due(now).items():
        moved = lifecycle.move(qs, "to_paper", actor=actor, now=now, note=reason, route=Route.PAPER,
                               paper_reason=reason, paper_at=now)
        if moved:
            result.to_paper[reason] = len(moved)
    with transaction.atomic():
        # lock the paper notices first: a concurrent run waits here, then sees our items
        locked = list(_unprinted().order_by("pk").select_for_update().values_list("pk", flat=True))
        taken = set(PrintItem.objects.filter(notice_id__in=locked).values_list("notice_id", flat=True))
        todo = [pk for pk in locked if pk not in taken]
        if todo:
            order = list(Notice.objects.filter(pk__in=todo).order_by(
                "batch__notice_type__slug", "recipient__postal_code", "recipient__atena_number", "pk"
            ).values_list("pk", flat=True))
            run = PrintRun.objects.create(letter_count=len(order))
            PrintItem.objects.bulk_create([PrintItem(run=run, notice_id=pk, sequence=n)
                                           for n, pk in enumerate(order, start=1)], batch_size=1000)
            result.run, result.letters = run, len(order)
        if result.to_paper or todo:
            audit.record(actor=Actor.of(actor), action=audit_actions.FALLBACK_RUN, obj=result.run,
                         object_type="" if result.run else "notices.printrun",
                         changes={"to_paper": result.to_paper, "letters": result.letters})
    return result


def letter_code(notice: Notice) -> str:
    """The code printed on each letter (and read back when it is returned)."""
    return f"HN{notice.pk:010d}"


def run_items(run: PrintRun) -> list[PrintItem]:
    return list(run.items.select_related("notice__recipient", "notice__batch__notice_type", "notice__template")
                .order_by("sequence"))


def run_html(run: PrintRun, items: list[PrintItem] | None = None) -> str:
    items = run_items(run) if items is None else items
    return render_to_string("notices/print/run.html", {
        "run": run, "letters": [{"item": i, "notice": i.notice, "code": letter_code(i.notice)} for i in items]})


def letter_html(item: PrintItem) -> str:
    """One letter as a document of its own (the benchmark's baseline)."""
    return render_to_string("notices/print/run.html", {
        "run": item.run, "letters": [{"item": item, "notice": item.notice, "code": letter_code(item.notice)}]})


#: A run this short is one document laid out in the calling process (forking would cost more).
MIN_PARALLEL_LETTERS = 40


def _letter_pages(document: Any) -> dict[int, int]:
    """{sequence: pages of that letter} of a laid-out document, from the letters' anchors."""
    starts: dict[int, int] = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("letter-"):
                starts.setdefault(int(anchor.removeprefix("letter-")), number)
    ordered = sorted(starts.items(), key=lambda kv: kv[1])
    pages = {}
    for index, (sequence, start) in enumerate(ordered):
        end = ordered[index + 1][1] if index + 1 < len(ordered) else len(document.pages)
        pages[sequence] = end - start
    return pages


def _render_chunk(_state: None, html: str) -> tuple[bytes, dict[int, int]]:
    document = pdf.document(html)
    return document.write_pdf(), _letter_pages(document)


def chunks(count: int, *, workers: int) -> list[tuple[int, int]]:
    """How a run of ``count`` letters is cut: ``(start, end)`` ranges of about equal length, at
    most ``NOTICES_PRINT_CHUNK`` letters each and at least one per worker (a short run is one)."""
    if count < MIN_PARALLEL_LETTERS or not pdf.can_join():
        return [(0, count)]
    size = max(1, int(conf.get("NOTICES_PRINT_CHUNK")))
    parts = max(-(-count // size), min(workers, count))
    return [(count * k // parts, count * (k + 1) // parts) for k in range(parts)]


def print_workers() -> int:
    from hiroba.analysis import parallel  # not at import: the web process keeps the analysis package out

    return int(conf.get("NOTICES_PRINT_WORKERS")) or parallel.default_workers()


def run_pdf(run: PrintRun) -> tuple[bytes, dict[int, int]]:
    """(the PDF of the whole run, {sequence: pages of that letter})."""
    items = run_items(run)
    workers = print_workers()
    htmls = [run_html(run, items[start:end]) for start, end in chunks(len(items), workers=workers)]
    pdf.load()  # imported before the workers fork, so they share it
    from hiroba.analysis import parallel

    done = parallel.run(_render_chunk, None, htmls, workers=workers, items=len(items), min_items=0)
    pages: dict[int, int] = {}
    for _body, chunk_pages in done:
        pages.update(chunk_pages)
    return pdf.join([body for body, _pages in done]), pages


def run_table(run: PrintRun, pages: dict[int, int] | None = None) -> tabular.Table:
    """送付一覧 for the print vendor: one row per letter, counts by type above the header."""
    items = run_items(run)
    by_type = Counter(i.notice.batch.notice_type.name for i in items)
    preamble = [["印刷", f"#{run.pk}", "通数", len(items)], *[["種類", name, "通数", n] for name, n in
                                                            sorted(by_type.items())]]
    if pages:
        preamble.append(["ページ数", sum(pages.values())])
    rows = [[i.sequence, letter_code(i.notice), i.notice.batch.notice_type.name, i.notice.recipient.atena_number,
             i.notice.recipient.name, i.notice.recipient.postal_code, i.notice.recipient.address,
             (pages or {}).get(i.sequence, "")] for i in items]
    return tabular.Table(columns=[tabular.Column("通番", "sequence"), tabular.Column("書面番号", "code"),
                                  tabular.Column("種類", "type"), tabular.Column("宛名番号", "atena_number"),
                                  tabular.Column("氏名", "name"), tabular.Column("郵便番号", "postal_code"),
                                  tabular.Column("住所", "address"), tabular.Column("ページ数", "pages")],
                         rows=rows, sheet="送付一覧", preamble=preamble)


def run_transition(*, actor: ActorLike, run: PrintRun, name: str) -> PrintRun:
    """印刷済み / 郵送済み for a whole run; its notices follow (printed / posted)."""
    a = Actor.of(actor)
    with transaction.atomic():
        locked = PrintRun.objects.select_for_update().get(pk=run.pk)
        before, after = PrintRun.workflow.apply(locked, name, actor=a)
        now = timezone.now()
        if name == "print":
            locked.printed_at = now
        else:
            locked.posted_at = now
        locked.save(update_fields=["state", "printed_at", "posted_at"])
        moved = lifecycle.move(Notice.objects.filter(print_item__run=locked), name, actor=a, now=now)
        audit.record(actor=a, action=audit_actions.PRINT_RUN_TRANSITION, obj=locked,
                     changes={"state": [before, after], "notices": len(moved)})
    return locked


def returned_mail(*, actor: ActorLike, code: str) -> Notice:
    """Record a returned letter, by the code printed on it or by 宛名番号 (its latest letter)."""
    code = code.strip()
    notice = None
    if code.upper().startswith("HN") and code[2:].isdigit():
        notice = Notice.objects.filter(pk=int(code[2:]), print_item__isnull=False).first()
    if notice is None:
        notice = (Notice.objects.filter(recipient__atena_number=code, status__in=[Status.PRINTED, Status.POSTED])
                  .order_by("-paper_at", "-pk").first())
    if notice is None:
        raise ServiceError(_("その番号の郵送済みの書面はありません。"), code="not_found", field="code")
    with transaction.atomic():
        moved = lifecycle.move_one(notice, "return", actor=actor)
        audit.record(actor=Actor.of(actor), action=audit_actions.RETURNED_MAIL, obj=moved)
    return moved

