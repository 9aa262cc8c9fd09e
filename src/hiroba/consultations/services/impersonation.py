"""なりすまし申告: reports from anyone, reviewed by staff."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.consultations import audit_actions
from hiroba.consultations.models import Case, ImpersonationReport, Submission
from hiroba.consultations.services.errors import ConsultationError
from hiroba.consultations.services.items import item_withdraw
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike

# --- impersonation --------------------------------------------------------------------------

@transaction.atomic
def impersonation_report_create(
    *, case: Case, receipt_number: str, reporter_name: str, reporter_contact: str, statement: str,
) -> ImpersonationReport:
    """Anyone may say an opinion was submitted in their name; staff review it."""
    submission = Submission.objects.filter(case=case, receipt_number=receipt_number.strip()).first()
    report = ImpersonationReport.objects.create(
        case=case, receipt_number=receipt_number.strip(), submission=submission,
        reporter_name=reporter_name, reporter_contact=reporter_contact, statement=statement,
    )
    audit.record(actor="public", action=audit_actions.IMPERSONATION_REPORT, obj=report,
                 changes={"case": case.slug, "receipt_number": report.receipt_number})
    return report


@transaction.atomic
def impersonation_review(
    *, actor: ActorLike, report: ImpersonationReport, uphold: bool, note: str, submission: Submission | None = None,
) -> ImpersonationReport:
    """Staff decide; when upheld, every item of the submission is withdrawn with the reason."""
    if report.state != ImpersonationReport.State.NEW:
        raise ConsultationError(_("この申告は既に確認済みです。"), code="report_reviewed")
    if not note.strip():
        raise ConsultationError(_("確認結果を入力してください。"), code="review_note_required")
    submission = submission or report.submission
    if uphold and submission is None:
        raise ConsultationError(_("対象の提出（受付番号）を特定してください。"), code="submission_required")
    report.state = ImpersonationReport.State.UPHELD if uphold else ImpersonationReport.State.REJECTED
    report.submission = submission
    report.reviewed_by, report.reviewed_at, report.review_note = Actor.of(actor).account(), timezone.now(), note.strip()
    report.save()
    if uphold and submission is not None:
        for item in submission.items.filter(withdrawn=False):
            item_withdraw(actor=actor, item=item, reason=f"なりすまし申告により取下げ（{note.strip()}）")
    audit.record(actor=actor, action=audit_actions.IMPERSONATION_REVIEW, obj=report,
                 changes={"state": ["new", report.state]})
    return report
