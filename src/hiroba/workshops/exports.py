"""CSV of a programme's applicants. Contact data only when asked for with a reason (audited)."""

from __future__ import annotations

from typing import IO, Any

from django.db import transaction
from django.db.models import Count, Q

from hiroba.core import audit, tabular
from hiroba.core.actors import ActorLike
from hiroba.core.dates import wareki
from hiroba.workshops import audit_actions as actions
from hiroba.workshops.models import Programme

BASE_COLUMNS = [
    ("受付番号", "receipt_number"), ("状態", "status_label"), ("氏名", "student_name"),
    ("ふりがな", "student_kana"), ("学校", "school_name"), ("学年", "grade_label"),
    ("抽選順位", "lottery_rank"), ("補欠順位", "waitlist_rank"), ("出席回数", "present_count"),
    ("配慮が必要なこと", "accessibility_needs"), ("保護者の同意日", "consented_on"),
]
CONTACT_COLUMNS = [
    ("住所", "address"), ("本人のメールアドレス", "student_email"), ("本人の電話番号", "student_phone"),
    ("保護者の氏名", "guardian_name"), ("続柄", "guardian_relationship"),
    ("保護者のメールアドレス", "guardian_email"), ("保護者の電話番号", "guardian_phone"),
]


def applications_csv(*, actor: ActorLike, programme: Programme, out: IO[str], include_contacts: bool,
                     reason: str = "") -> int:
    """Write the applicants as CSV (UTF-8 with BOM, for Excel); return the row count.

    Contact columns need `include_contacts` and a reason; either way the export is audited.
    """
    if include_contacts and not reason.strip():
        raise ValueError("a reason is required to export contact data")
    columns = BASE_COLUMNS + (CONTACT_COLUMNS if include_contacts else [])
    rows = programme.applications.annotate(
        present_count=Count("attendances", filter=Q(attendances__present=True))).order_by("receipt_number")
    with transaction.atomic():
        audit.record(actor=actor, action=actions.EXPORT, obj=programme, changes={
            "include_contacts": include_contacts, "reason": reason.strip(), "rows": rows.count()})

    def values(app: Any) -> list[Any]:
        derived = {
            "status_label": app.get_status_display(), "grade_label": app.grade_label,
            "consented_on": wareki(app.consented_at) if app.consented_at else "",
        }
        return [derived[attr] if attr in derived else getattr(app, attr) for _, attr in columns]

    # Through the shared table writer: names, schools, guardians are residents' own text, and a
    # value starting with = + - @ must not become a formula when the clerk opens the file.
    return tabular.write_csv(out, tabular.Table(columns=[tabular.Column(label, attr) for label, attr in columns],
                                                rows=(values(app) for app in rows)))
