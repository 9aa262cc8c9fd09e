"""Answers (区の考え方), their versions, and standard answers."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from hiroba.consultations import audit_actions
from hiroba.consultations.models import Answer, AnswerVersion, Case, Item, StandardAnswer
from hiroba.consultations.services._common import check_table_open
from hiroba.consultations.services.errors import AnswersLocked, ConsultationError
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.models import Department

# --- answers --------------------------------------------------------------------------------

def _check_answers_open(case: Case) -> None:
    check_table_open(case, _("回答"), error=AnswersLocked)


def answers_require_open(case: Case) -> None:
    """Raise `AnswersLocked` when the case's answers can no longer change (決裁中・公表済み),
    reading its state afresh: the check every answer write makes, for callers outside this module."""
    _check_answers_open(case)


@transaction.atomic
def answer_write(*, actor: ActorLike, items: Sequence[Item], text: str) -> Answer:
    """One answer (区の考え方) for one item or for a group of same-intent items."""
    if not items:
        raise ConsultationError(_("回答する意見を選んでください。"), code="no_items")
    case = items[0].case
    if any(i.case_id != case.pk for i in items):
        raise ConsultationError(_("同じ案件の意見だけをまとめて回答できます。"), code="items_other_case")
    _check_answers_open(case)
    if not text.strip():
        raise ConsultationError(_("区の考え方を入力してください。"), code="answer_required")
    replaced = {str(n): a for n, a in Item.objects.filter(pk__in=[i.pk for i in items], answer__isnull=False)
                .values_list("number", "answer_id")}
    answer = Answer.objects.create(case=case, text=text.strip(), updated_by=Actor.of(actor).account())
    AnswerVersion.objects.create(answer=answer, version=1, text=answer.text, created_by=Actor.of(actor).account())
    Item.objects.filter(pk__in=[i.pk for i in items]).update(answer=answer)
    for item in items:
        item.answer = answer
    audit.record(actor=actor, action=audit_actions.ANSWER_WRITE, obj=answer,
                 changes={"items": [i.number for i in items], "version": 1, **({"replaced": replaced} if replaced else {})})
    return answer


@transaction.atomic
def answer_update(*, actor: ActorLike, answer: Answer, text: str) -> Answer:
    """Edit an answer: a new version; refused while the answer set is in approval or published."""
    _check_answers_open(answer.case)
    text = text.strip()
    if not text:
        raise ConsultationError(_("区の考え方を入力してください。"), code="answer_required")
    if text == answer.text:
        return answer
    before = audit.snapshot(answer, ["text", "version"])
    answer.text, answer.version, answer.updated_by = text, answer.version + 1, Actor.of(actor).account()
    answer.save()
    AnswerVersion.objects.create(answer=answer, version=answer.version, text=text, created_by=Actor.of(actor).account())
    audit.record(actor=actor, action=audit_actions.ANSWER_UPDATE, obj=answer,
                 changes=audit.diff(before, audit.snapshot(answer, ["text", "version"])))
    return answer


@transaction.atomic
def answer_assign(*, actor: ActorLike, item: Item, answer: Answer | None) -> Item:
    """Answer this item together with others (同趣旨の意見はまとめて回答), or detach it."""
    _check_answers_open(item.case)
    if answer is not None and answer.case_id != item.case_id:
        raise ConsultationError(_("同じ案件の回答を選んでください。"), code="answers_other_case")
    before = audit.snapshot(item, ["answer_id"])
    item.answer = answer
    item.save(update_fields=["answer"])
    audit.record(actor=actor, action=audit_actions.ANSWER_ASSIGN, obj=item,
                 changes=audit.diff(before, audit.snapshot(item, ["answer_id"])))
    return item


@transaction.atomic
def answer_save(*, actor: ActorLike, item: Item, text: str, also_items: Sequence[Item] = (), separate: bool = False) -> Answer:
    """The item page's 保存: the item's answer edited (a new version) and `also_items` put under
    it, or — for an item without an answer, or with ``separate`` (a grouped item that gets an
    answer of its own) — a new answer for the item and `also_items`. One transaction: all or nothing."""
    if item.answer is None or separate:
        return answer_write(actor=actor, items=[item, *also_items], text=text)
    answer = answer_update(actor=actor, answer=item.answer, text=text)
    for other in also_items:
        answer_assign(actor=actor, item=other, answer=answer)
    return answer


@transaction.atomic
def standard_answer_create(*, actor: ActorLike, title: str, text: str, department: Department | None = None) -> StandardAnswer:
    standard = StandardAnswer.objects.create(title=title, text=text, department=department)
    audit.record(actor=actor, action=audit_actions.STANDARD_ANSWER_CREATE, obj=standard, changes={"title": title})
    return standard
