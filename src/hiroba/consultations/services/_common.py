"""What several service modules share: the frozen-table check, the actor helpers and the reads
of the latest approved round and published version."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hiroba.consultations.models import TABLE_LOCKED_STATES, ApprovalRound, Case, Mask, PublishedResult
from hiroba.consultations.services.errors import AnswersLocked, ConsultationError, TableLocked

# --- the published table is frozen in approval and after publication -------------------------

def check_table_open(case: Case, what: Any = None, error: type[TableLocked] = TableLocked) -> None:
    """The one check every write that would change a published row calls first (items, their
    sections and 要旨, 対象外・取下げ, masks, answers, the draft's headings): refused in 決裁中
    and 公表済 until a 差戻し, a withdrawn request or a 訂正 brings the case back to 回答作成中.
    The case row is locked, so a write and a request for approval never interleave."""
    state = Case.objects.select_for_update().filter(pk=case.pk).values_list("state", flat=True).first()
    if state is None:
        raise ConsultationError(_("この案件は見つかりません。"), code="case_not_found")
    case.state = state
    if state in TABLE_LOCKED_STATES:
        raise error(case) if error is AnswersLocked else error(case, what)


def latest_published(case: Case) -> PublishedResult | None:
    return case.published_results.order_by("-version").first()


def _pending_masks(case: Case) -> int:
    return Mask.objects.filter(item__case=case, decision=Mask.Decision.PENDING,
                               item__excluded=False, item__withdrawn=False).count()


def latest_approved_round(case: Case) -> ApprovalRound | None:
    return case.approval_rounds.filter(state=ApprovalRound.State.APPROVED).order_by("-number").first()
