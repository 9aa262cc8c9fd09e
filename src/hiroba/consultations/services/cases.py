"""Cases: create, move through 準備中 → 募集中 → 集計中 → 回答作成中, and their contact details."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import IdentityLevel
from hiroba.consultations import audit_actions, conf
from hiroba.consultations.models import Case, Category, Channel, period_warning
from hiroba.consultations.services.errors import ConsultationError
from hiroba.core import audit, dates, pagecache
from hiroba.core.actors import ActorLike
from hiroba.core.models import Department

CASE_FIELDS = [
    "title", "department_id", "legal_basis", "period_start", "period_end", "short_period_reason",
    "channels", "announced_in", "eligibility", "identity_level", "state",
]
DETAIL_FIELDS = ["submit_address", "hand_in_place", "hand_in_hours", "fax_number", "email_address", "results_due_on"]


# --- cases ----------------------------------------------------------------------------------

@transaction.atomic
def case_create(
    *,
    actor: ActorLike,
    slug: str,
    title: str,
    department: Department,
    period_start: date,
    period_end: date,
    channels: Sequence[str],
    short_period_reason: str = "",
    channel_names: dict[str, str] | None = None,
    announced_in: Sequence[str] = (),
    eligibility: Sequence[str] = (),
    identity_level: str = IdentityLevel.NONE,
    legal_basis: str = "",
    summary: str = "",
    municipality: str = "",
    receipt_code: str = "PC",
    draft_pdf: File | None = None,
    declared_submitters: int | None = None,
    reported_on: date | None = None,
    submit_address: str = "",
    hand_in_place: str = "",
    hand_in_hours: str = "",
    fax_number: str = "",
    email_address: str = "",
    results_due_on: date | None = None,
) -> Case:
    """Create a case in 準備中. A period shorter than the ward's minimum needs a stated reason.
    Where paper, fax and e-mail go may be filled in later; the call cannot open without it."""
    if period_end < period_start:
        raise ConsultationError(_("募集終了日は開始日以降にしてください。"), code="period_order")
    warning = period_warning(period_start, period_end, conf.get("CONSULTATIONS_MIN_PERIOD_DAYS"))
    if warning and not short_period_reason.strip():
        raise ConsultationError(warning, code="short_period", field="short_period_reason")
    unknown = [c for c in channels if c not in Channel.values]
    if unknown or not channels:
        raise ConsultationError(_("提出方法を1つ以上、正しく選んでください。"), code="channels_invalid")
    if any(c not in Category.values for c in eligibility):
        raise ConsultationError(_("提出できる方は、在住・在勤・在学・事業者・利害関係者から選んでください。"), code="eligibility_invalid")
    case = Case(
        slug=slug, title=title, department=department, period_start=period_start, period_end=period_end,
        short_period_reason=short_period_reason.strip(), channels=list(channels),
        channel_names=dict(channel_names or {}), announced_in=list(announced_in), eligibility=list(eligibility),
        identity_level=identity_level, legal_basis=legal_basis, summary=summary, municipality=municipality,
        receipt_code=receipt_code, declared_submitters=declared_submitters, reported_on=reported_on,
        submit_address=submit_address.strip(), hand_in_place=hand_in_place.strip(),
        hand_in_hours=hand_in_hours.strip(), fax_number=fax_number.strip(), email_address=email_address.strip(),
        results_due_on=results_due_on,
    )
    if draft_pdf is not None:
        case.draft_pdf.save(getattr(draft_pdf, "name", "draft.pdf"), draft_pdf, save=False)
    case.save()
    pagecache.invalidate("consultations")
    audit.record(actor=actor, action=audit_actions.CASE_CREATE, obj=case,
                 changes={**audit.diff({}, audit.snapshot(case, CASE_FIELDS)), "draft_pdf": case.draft_pdf.name or ""})
    return case


_TRANSITIONS = {
    Case.State.PREPARING: {Case.State.OPEN},
    Case.State.OPEN: {Case.State.TALLYING},
    Case.State.TALLYING: {Case.State.ANSWERING},
}


def missing_contacts(case: Case) -> list[str]:
    """What the draft page must state for each paper channel the case takes, and does not."""
    missing = []
    if Channel.HAND in case.channels and not (case.hand_in_place or case.submit_address):
        missing.append("持参の窓口")
    if Channel.POST in case.channels and not case.submit_address:
        missing.append("郵送先（住所と宛先）")
    if Channel.FAX in case.channels and not case.fax_number:
        missing.append("ファクス番号")
    if Channel.EMAIL in case.channels and not case.email_address:
        missing.append("送付先のメールアドレス")
    return missing


@transaction.atomic
def case_transition(
    *, actor: ActorLike, case: Case, to: str, reason: str = "", results_due_on: date | None = None,
) -> Case:
    """準備中 → 募集中 → 集計中 → 回答作成中. Approval and publication have their own services.

    Opening needs the draft's headings and, for every paper channel, where to send or bring an
    opinion. Closing (募集中 → 集計中) before the planned last day is an early close: it needs a
    reason, and the day and the reason are recorded and published with the results.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    if to not in _TRANSITIONS.get(Case.State(case.state), set()):
        raise ConsultationError(
            format_lazy(_("「{current}」から「{to}」には変更できません。"),
                        current=case.get_state_display(), to=Case.State(to).label),
            code="invalid_transition",
        )
    if to == Case.State.OPEN and not case.sections.exists():
        raise ConsultationError(_("案の該当箇所（見出し）を1つ以上登録してから募集を開始してください。"), code="no_sections")
    if to == Case.State.OPEN and missing_contacts(case):
        raise ConsultationError(
            format_lazy(_("提出先が記載されていません（{missing}）。提出先を登録してから募集を開始してください。"),
                        missing="、".join(missing_contacts(case))),
            code="contacts_missing")
    fields = ["state"]
    extra: dict[str, Any] = {"reason": reason.strip()} if reason.strip() else {}
    if to == Case.State.TALLYING:
        today = timezone.localdate()
        if today < case.period_end:
            if not reason.strip():
                raise ConsultationError(
                    format_lazy(_("募集期間の最終日（{last_day}）より前に受付を終了するには、"
                                  "理由を入力してください。理由は結果とともに公表されます。"),
                                last_day=dates.wareki_with_seireki(case.period_end)),
                    code="early_close_reason_required", field="reason")
            case.closed_on, case.close_reason = today, reason.strip()
            fields += ["closed_on", "close_reason"]
            extra["closed_on"] = today.isoformat()
    if results_due_on is not None:
        case.results_due_on = results_due_on
        fields.append("results_due_on")
        extra["results_due_on"] = results_due_on.isoformat()
    before = audit.snapshot(case, ["state"])
    case.state = to
    case.save(update_fields=[*fields, "updated_at"])
    pagecache.invalidate("consultations")
    audit.record(actor=actor, action=audit_actions.CASE_TRANSITION, obj=case,
                 changes={**audit.diff(before, audit.snapshot(case, ["state"])), **extra})
    return case


@transaction.atomic
def case_update_details(*, actor: ActorLike, case: Case, **values: Any) -> Case:
    """Where to bring, send, fax or e-mail an opinion, and when the results are expected
    (none of it is part of the published table, so it may change in any state)."""
    unknown = set(values) - set(DETAIL_FIELDS)
    if unknown:
        raise ConsultationError(format_lazy(_("変更できない項目です: {names}"), names="、".join(sorted(unknown))),
                                code="unknown_fields")
    case = Case.objects.select_for_update().get(pk=case.pk)
    before = audit.snapshot(case, DETAIL_FIELDS)
    for name, value in values.items():
        setattr(case, name, value.strip() if isinstance(value, str) else value)
    if case.state == Case.State.OPEN and missing_contacts(case):
        raise ConsultationError(format_lazy(_("募集中の案件では、提出先を空にできません（{missing}）。"),
                                            missing="、".join(missing_contacts(case))), code="contacts_missing")
    case.save(update_fields=[*values, "updated_at"])
    changes = audit.diff(before, audit.snapshot(case, DETAIL_FIELDS))
    pagecache.invalidate("consultations")
    audit.record(actor=actor, action=audit_actions.CASE_UPDATE_DETAILS, obj=case, changes=changes)
    return case


@transaction.atomic
def case_set_proof_of_work(*, actor: ActorLike, case: Case, on: bool) -> Case:
    """Switch the proof of work before a web submission on or off (a flood, then its end).
    Pressing twice changes nothing and records nothing."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.proof_of_work == on:
        return case
    case.proof_of_work = on
    case.save(update_fields=["proof_of_work", "updated_at"])
    audit.record(actor=actor, action=audit_actions.CASE_PROOF_OF_WORK, obj=case,
                 changes={"proof_of_work": [not on, on]})
    return case
