"""Tables of the intake (through core.tabular, with its formula guard)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from hiroba.consultations.intake.models import Entry, State
from hiroba.consultations.models import Case
from hiroba.core import tabular


def submission_state(submission: object) -> str:
    """自動取込 / 確定 for what came through the intake queue; 確定 for what staff typed or the web form took."""
    entry = getattr(submission, "intake_entry", None)
    return entry.get_state_display() if entry is not None else State.CONFIRMED.label


def submissions_table(case: Case) -> tabular.Table:
    """Every submission of the case, in 受付番号 order."""
    submissions = case.submissions.select_related("intake_entry").order_by("receipt_seq")
    return tabular.Table(
        columns=[tabular.Column(_("受付番号"), "receipt_number"), tabular.Column(_("提出方法"), "channel"),
                 tabular.Column(_("提出方法（表記）"), "channel_label"), tabular.Column(_("受付日時"), "received_at"),
                 tabular.Column(_("状態"), "state"), tabular.Column(_("本人確認"), "identity_status"),
                 tabular.Column(_("意見"), "text")],
        rows=([s.receipt_number, s.channel, case.channel_label(s.channel), timezone.localtime(s.received_at),
               submission_state(s), s.get_identity_status_display(), s.text] for s in submissions),
        sheet=_("提出"),
    )


def held_count(case: Case) -> int:
    return Entry.objects.filter(case=case, state=State.REVIEW).count()
