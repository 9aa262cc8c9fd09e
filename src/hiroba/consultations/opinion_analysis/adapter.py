"""The adapter between the consultation's records and `hiroba.analysis` (pure Python).

A case's publishable items become the analysis's opinions (id = item number, ``submission`` =
the receipt number, so items cut from one letter count as one submission in the signals), its
sections the draft's sections, and the answered items of the ward's other published cases the
past answers. `hiroba.analysis` loads numpy, scipy and Sudachi: it is imported only inside the
functions that need it, so the web process does not load it until a run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from hiroba.consultations import services
from hiroba.consultations.models import Case, Item, Submission

if TYPE_CHECKING:
    from hiroba.analysis.model import Opinion, PastItem
    from hiroba.analysis.model import Section as DraftSection


def analysis_items(case: Case) -> list[Item]:
    """The items analysed: those that may be published (neither 対象外 nor 取下げ)."""
    return list(
        case.items.filter(excluded=False, withdrawn=False).select_related("submission", "case").order_by("number")
    )


def input_digest(items: Iterable[Item]) -> str:
    """SHA-256 over the items' numbers and texts, in number order: equal for unchanged input."""
    h = hashlib.sha256()
    for item in sorted(items, key=lambda i: i.number):
        h.update(f"{item.number}\x00{item.text}\x1e".encode())
    return h.hexdigest()


def usable_received_at(submission: Submission, case: Case) -> datetime | None:
    """The submission's time, or ``None`` when it is not known.

    The importer of past consultations (`importer.import_parsed`) gives a submission whose file
    has no time the case's closing instant (``case.closes_at``, 23:59:59.999999 on the last
    day) as a placeholder, because `Submission.received_at` is required. Such a time says
    nothing about when the resident wrote: twelve placeholders are not "twelve submissions in
    one second". An imported submission (``external_key`` set) at exactly that instant is
    therefore taken as having no time; a time the import file gave is kept.
    """
    if submission.external_key and submission.received_at == case.closes_at:
        return None
    return submission.received_at


def opinions(items: Sequence[Item]) -> list[Opinion]:
    from hiroba.analysis.model import Opinion

    out = []
    for item in items:
        sub = item.submission
        received = usable_received_at(sub, item.case)
        out.append(Opinion(
            id=str(item.number),
            text=item.text,
            received_at=received.isoformat() if received else None,
            name=sub.name or None,
            email=sub.email or None,
            address=sub.address or None,
            submission=sub.receipt_number,
        ))
    return out


def sections(case: Case) -> list[DraftSection]:
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
        PastItem(id=f"{i.case.slug}#{i.number}", opinion=services.masked_text(i), answer=i.answer.text)
        for i in items if i.answer is not None  # all of them (answer__isnull=False)
    ]
