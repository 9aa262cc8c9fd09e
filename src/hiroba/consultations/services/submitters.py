"""The department's own follow-up: the submitters' list, for staff only."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.consultations import audit_actions
from hiroba.consultations.models import Case
from hiroba.consultations.services.errors import ConsultationError
from hiroba.core import audit
from hiroba.core.actors import ActorLike

# --- the department's own follow-up -----------------------------------------------------------

SUBMITTER_HEADERS = ["受付番号", "受付日時", "提出方法", "消印日", "氏名", "住所", "区分", "メールアドレス", "電話番号",
                     "本人確認", "該当箇所（提出時）", "意見の番号", "公表", "意見（原文）"]


@transaction.atomic
def submitters_export(*, actor: ActorLike, case: Case, purpose: str) -> bytes:
    """Every submission with the submitter's details, for the department's own follow-up: a
    CSV for staff only, never published. Each export is audited with its stated purpose."""
    from hiroba.consultations import exports

    purpose = purpose.strip()
    if not purpose:
        raise ConsultationError(_("利用目的を入力してください。"), code="purpose_required", field="purpose")
    rows = []
    submissions = case.submissions.select_related("section").prefetch_related("items").order_by("receipt_seq")
    for s in submissions:
        items = sorted(s.items.all(), key=lambda i: i.number)
        status = "、".join(
            f"No.{i.number} " + ("取下げ" if i.withdrawn else "公表しない" if i.excluded else "公表") for i in items)
        rows.append([
            s.receipt_number, timezone.localtime(s.received_at).strftime("%Y-%m-%d %H:%M"),
            s.channel_label, s.postmark_date.isoformat() if s.postmark_date else "", s.name, s.address,
            exports.japanese(s.get_category_display()), s.email, s.phone, s.get_identity_status_display(),
            s.section.heading if s.section else "", "、".join(str(i.number) for i in items), status, s.text,
        ])
    audit.record(actor=actor, action=audit_actions.SUBMITTERS_EXPORT, obj=case,
                 changes={"purpose": purpose, "rows": len(rows), "format": "csv"})
    return exports.csv_bytes(SUBMITTER_HEADERS, rows)
