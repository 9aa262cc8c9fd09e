"""Items (意見の項目) cut from submissions: create, edit, 対象外, 取下げ."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from hiroba.consultations import audit_actions, masking
from hiroba.consultations.models import Case, ExcludeCategory, Item, Section, Submission
from hiroba.consultations.services._common import check_table_open
from hiroba.consultations.services.errors import ConsultationError
from hiroba.consultations.services.masks import masks_detect
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike

# --- items ----------------------------------------------------------------------------------

@transaction.atomic
def item_create(
    *,
    actor: ActorLike,
    submission: Submission,
    sections: Iterable[Section] = (),
    span: tuple[int, int] | None = None,
    text: str = "",
    section_label: str = "",
    summary: str = "",
    number: int | None = None,
    detector: masking.Detector | None = None,
) -> Item:
    """Cut an item from a submission: a span of the original (text copied) or a re-typed excerpt."""
    case = Case.objects.select_for_update().get(pk=submission.case_id)
    check_table_open(case, _("意見（項目）"))
    if span is not None:
        start, end = span
        if not (0 <= start < end <= len(submission.text)):
            raise ConsultationError(_("原文の範囲が正しくありません。"), code="span_invalid")
        text = submission.text[start:end]
    if not text.strip():
        raise ConsultationError(_("意見内容を入力してください。"), code="summary_required")
    sections = list(sections)
    if any(s.case_id != case.pk for s in sections):
        raise ConsultationError(_("該当箇所がこの案件のものではありません。"), code="section_other_case")
    if number is None:
        number = (case.items.aggregate(m=Max("number"))["m"] or 0) + 1
    item = Item.objects.create(
        case=case, submission=submission, number=number, text=text,
        span_start=span[0] if span else None, span_end=span[1] if span else None,
        section_label=section_label, summary=summary, created_by=Actor.of(actor).account(),
    )
    item.sections.set(sections)
    masks_detect(item=item, detector=detector)
    audit.record(actor=actor, action=audit_actions.ITEM_CREATE, obj=item,
                 changes={"submission": submission.receipt_number, "number": number,
                          "sections": [s.heading for s in sections], "span": list(span) if span else None})
    return item


ITEM_FIELDS = ["summary", "reflection", "section_label", "excluded", "exclude_reason", "exclude_category", "withdrawn",
               "withdraw_reason"]


@transaction.atomic
def item_update(
    *, actor: ActorLike, item: Item, sections: Iterable[Section] | None = None, summary: str | None = None,
    reflection: str | None = None, section_label: str | None = None, detector: masking.Detector | None = None,
) -> Item:
    """Change an item's sections, summary (意見の要旨) or reflection class (反映区分)."""
    check_table_open(item.case, _("意見の該当箇所・要旨・反映区分"))
    before = audit.snapshot(item, ITEM_FIELDS)
    before_sections = sorted(item.sections.values_list("heading", flat=True))
    if summary is not None and summary != item.summary:
        item.summary = summary
        item.masks.filter(field="summary").delete()
    if reflection is not None:
        item.reflection = reflection
    if section_label is not None:
        item.section_label = section_label
    item.save()
    if summary is not None:
        masks_detect(item=item, detector=detector)
    changes = audit.diff(before, audit.snapshot(item, ITEM_FIELDS))
    if sections is not None:
        sections = list(sections)
        if any(s.case_id != item.case_id for s in sections):
            raise ConsultationError(_("該当箇所がこの案件のものではありません。"), code="section_other_case")
        item.sections.set(sections)
        after_sections = sorted(s.heading for s in sections)
        if after_sections != before_sections:
            changes["sections"] = [before_sections, after_sections]
    audit.record(actor=actor, action=audit_actions.ITEM_UPDATE, obj=item, changes=changes)
    return item


@transaction.atomic
def item_exclude(*, actor: ActorLike, item: Item, reason: str, category: str = ExcludeCategory.OTHER) -> Item:
    """Mark an item 対象外: kept and counted (「うち公表しない意見」, by `category`), never
    published."""
    check_table_open(item.case, _("公表しない意見（対象外）"))
    if not reason.strip():
        raise ConsultationError(_("対象外とする理由を入力してください。"), code="exclude_reason_required")
    if category not in ExcludeCategory.values:
        raise ConsultationError(_("公表しない理由の区分を選んでください。"), code="exclude_category_required")
    before = audit.snapshot(item, ITEM_FIELDS)
    item.excluded, item.exclude_reason, item.exclude_category = True, reason.strip(), category
    item.save(update_fields=["excluded", "exclude_reason", "exclude_category"])
    audit.record(actor=actor, action=audit_actions.ITEM_EXCLUDE, obj=item,
                 changes=audit.diff(before, audit.snapshot(item, ITEM_FIELDS)))
    return item


@transaction.atomic
def item_include(*, actor: ActorLike, item: Item) -> Item:
    check_table_open(item.case, _("公表しない意見（対象外）"))
    before = audit.snapshot(item, ITEM_FIELDS)
    item.excluded, item.exclude_reason, item.exclude_category = False, "", ""
    item.save(update_fields=["excluded", "exclude_reason", "exclude_category"])
    audit.record(actor=actor, action=audit_actions.ITEM_INCLUDE, obj=item,
                 changes=audit.diff(before, audit.snapshot(item, ITEM_FIELDS)))
    return item


@transaction.atomic
def item_withdraw(*, actor: ActorLike, item: Item, reason: str) -> Item:
    """Withdraw an item (e.g. an upheld なりすまし申告), with the reason recorded."""
    check_table_open(item.case, _("意見の取下げ"))
    if not reason.strip():
        raise ConsultationError(_("取下げの理由を入力してください。"), code="withdraw_reason_required")
    before = audit.snapshot(item, ITEM_FIELDS)
    item.withdrawn, item.withdraw_reason = True, reason.strip()
    item.save(update_fields=["withdrawn", "withdraw_reason"])
    audit.record(actor=actor, action=audit_actions.ITEM_WITHDRAW, obj=item,
                 changes=audit.diff(before, audit.snapshot(item, ITEM_FIELDS)))
    return item
