"""The staff back office for consultations (/staff/consultations/): every URL passes the staff
gate (signed-in staff with MFA); cases outside the user's departments answer 404."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from hiroba.consultations import analysis, exports, forms, masking, queries, services
from hiroba.consultations.models import (
    Answer,
    ApprovalRound,
    Case,
    ImpersonationReport,
    Item,
    Mask,
    Routing,
)
from hiroba.core import confirm, links
from hiroba.core.errors import flashed
from hiroba.core.paging import page_of
from hiroba.core.templatetags import hiroba as hiroba_tags


def _case(request: HttpRequest, slug: str, perm: str = "consultations.view_case") -> Case:
    case = get_object_or_404(queries.cases_for(request.user), slug=slug)
    if not request.user.has_perm(perm, case):
        raise PermissionDenied(gettext("この操作の権限がありません。"))
    return case


def _fail(request: HttpRequest, exc: services.ConsultationError) -> None:
    messages.error(request, str(exc))


def case_list(request: HttpRequest) -> HttpResponse:
    return render(request, "consultations/staff/case_list.html", {
        "page": page_of(request, queries.case_list(request.user)),
        "open_routings": queries.routing_queue(request.user).count(),
        "can_add": request.user.has_perm("consultations.add_case"),
    })


def case_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("consultations.add_case"):
        raise PermissionDenied(gettext("案件を作成する権限がありません。"))
    departments = queries.departments_for_handling(request.user)
    form = forms.CaseForm(request.POST or None, request.FILES or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_create(
                actor=request.user, slug=data["slug"], title=data["title"], department=data["department"],
                period_start=data["period_start"], period_end=data["period_end"], channels=data["channels"],
                short_period_reason=data["short_period_reason"], announced_in=data["announced_in"],
                eligibility=data["eligibility"], identity_level=data["identity_level"],
                legal_basis=data["legal_basis"], summary=data["summary"], receipt_code=data["receipt_code"],
                draft_pdf=data.get("draft_pdf") or None,
                **{name: data[name] for name in services.DETAIL_FIELDS if data.get(name) not in (None, "")},
            )
        except services.ConsultationError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, gettext("案件を作成しました。見出し（該当箇所）を登録してください。"))
            return redirect("consultations_staff:detail", slug=case.slug)
    return render(request, "consultations/staff/form.html", {
        "title": gettext("案件の作成"), "form": form, "submit": gettext("作成する"), "multipart": True,
    }, status=400 if form.errors else 200)


def case_detail(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug)
    submissions = case.submissions.annotate(item_count=Count("items")).order_by("receipt_seq")
    items = case.items.select_related("submission", "answer").prefetch_related("sections", "routings").order_by("number")
    return render(request, "consultations/staff/case_detail.html", {
        "case": case, "sections": case.sections.all(), "submissions": submissions, "items": items,
        "rounds": case.approval_rounds.select_related("requested_by", "decided_by"),
        "can_change": request.user.has_perm("consultations.change_case", case),
        "can_approve": request.user.has_perm("consultations.approve_case", case),
        "pending_masks": Mask.objects.filter(item__case=case, decision=Mask.Decision.PENDING).count(),
        "new_reports": case.impersonation_reports.filter(state=ImpersonationReport.State.NEW).count(),
        "close_form": forms.CloseForm(initial={"results_due_on": case.results_due_on}),
        "missing_contacts": services.missing_contacts(case),
        "next_states": {Case.State.PREPARING: [("open", gettext_noop("募集を開始する"))],
                        Case.State.OPEN: [("tallying", gettext_noop("募集を締め切る"))],
                        Case.State.TALLYING: [("answering", gettext_noop("回答作成を始める"))]}.get(Case.State(case.state), []),
    })


@require_POST
def case_state(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug, "consultations.change_case")
    to = request.POST.get("to", "")
    early = to == Case.State.TALLYING and timezone.localdate() < case.period_end
    if to == Case.State.TALLYING:
        if not confirm.confirmed(request):  # the first click: say what closing does, ask the reason
            form = forms.CloseForm(early=early, initial={"reason": request.POST.get("reason", ""),
                                                         "results_due_on": request.POST.get("results_due_on")})
            return _close_confirmation(request, case, form, early)
        form = forms.CloseForm(request.POST, early=early)
        if not form.is_valid():
            return _close_confirmation(request, case, form, early, status=400)
    else:
        form = forms.CloseForm(request.POST)
        form.is_valid()
    data = getattr(form, "cleaned_data", {})
    try:
        services.case_transition(actor=request.user, case=case, to=to,
                                 reason=data.get("reason", ""), results_due_on=data.get("results_due_on"))
        messages.success(request, gettext("状態を変更しました。"))
    except (services.ConsultationError, ValueError) as exc:
        messages.error(request, str(exc) if isinstance(exc, services.ConsultationError)
                       else gettext("状態が正しくありません。"))
    return redirect("consultations_staff:detail", slug=case.slug)


@require_POST
def case_proof_of_work(request: HttpRequest, slug: str) -> HttpResponse:
    """大量送信対策: the proof of work before a web submission, on or off (pressing twice changes nothing)."""
    case = _case(request, slug, "consultations.change_case")
    on = request.POST.get("on") == "1"
    with flashed(request, gettext("大量送信対策を有効にしました。") if on else gettext("大量送信対策を解除しました。")):
        services.case_set_proof_of_work(actor=request.user, case=case, on=on)
    return redirect("consultations_staff:detail", slug=case.slug)


def _close_confirmation(request: HttpRequest, case: Case, form: forms.CloseForm, early: bool,
                        status: int = 200) -> HttpResponse:
    consequences = [
        gettext("受付を終了し、状態を「集計中」にします。この後は意見を受け付けません。元には戻せません。"),
        gettext("受付済みの意見：%(n)s 件") % {"n": case.submissions.count()},
    ]
    warning = ""
    if early:
        warning = gettext("募集期間の最終日（%(day)s）より前に締め切ります。理由を入力してください。"
                          "理由と実際の受付終了日は、結果とともに公表されます。") % {"day": hiroba_tags.wareki(case.period_end)}
    return confirm.page(request, title=gettext("募集を締め切る"), subject=case.title, consequences=consequences,
                        confirm_label=gettext("募集を締め切る"), form=form, warning=warning, status=status,
                        cancel_url=reverse("consultations_staff:detail", args=[case.slug]))


def case_details(request: HttpRequest, slug: str) -> HttpResponse:
    """提出先（持参・郵送・ファクス・電子メール）と結果の公表予定日."""
    case = _case(request, slug, "consultations.change_case")
    form = forms.CaseDetailsForm(request.POST or None, instance=Case.objects.get(pk=case.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.case_update_details(actor=request.user, case=case,
                                         **{name: form.cleaned_data[name] for name in services.DETAIL_FIELDS})
        except services.ConsultationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("提出先と公表予定日を保存しました。"))
            return redirect("consultations_staff:detail", slug=case.slug)
    return render(request, "consultations/staff/form.html", {
        "title": gettext("提出先と結果の公表予定日 — %(title)s") % {"title": case.title}, "form": form,
        "submit": gettext("保存する"), "case": case,
    }, status=400 if form.errors else 200)


def section_add(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug, "consultations.change_case")
    form = forms.SectionForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            services.section_add(actor=request.user, case=case, **form.cleaned_data)
        except services.ConsultationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("見出しを登録しました。"))
            return redirect("consultations_staff:detail", slug=case.slug)
    return render(request, "consultations/staff/form.html", {
        "title": gettext("見出し（該当箇所）の登録 — %(title)s") % {"title": case.title}, "form": form,
        "submit": gettext("登録する"), "case": case,
    }, status=400 if form.errors else 200)


def intake(request: HttpRequest, slug: str) -> HttpResponse:
    """持参・郵送・ファクス・電子メールの意見を入力する (same checks and numbers as the web)."""
    case = _case(request, slug, "consultations.change_case")
    form = forms.StaffIntakeForm(request.POST or None, request.FILES or None, case=case)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                submission, created = services.submission_receive(
                    actor=request.user, case=case, idempotency_key=data["idempotency_key"], channel=data["channel"],
                    text=data["text"], name=data["name"], address=data["address"], category=data["category"],
                    email=data.get("email", ""), phone=data.get("phone", ""), section=data.get("section"),
                    original=form.original(), received_at=forms.aware(data["received_at"]),
                    postmark_date=data.get("postmark_date"), entered_by=request.user,
                    site_url=links.base_url(request),
                )
            except services.ConsultationError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, gettext("受付番号 %(number)s で受け付けました。") % {"number": submission.receipt_number})
                return redirect("consultations_staff:submission", slug=case.slug, number=submission.receipt_number)
        status = 413 if form.too_large else 400
    return render(request, "consultations/staff/form.html", {
        "title": gettext("紙・メールで届いた意見の入力 — %(title)s") % {"title": case.title}, "form": form,
        "submit": gettext("受け付ける"),
        "multipart": True, "case": case,
    }, status=status)


def submission_detail(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    case = _case(request, slug)
    submission = get_object_or_404(case.submissions.select_related("section", "entered_by"), receipt_number=number)
    form = forms.ItemForm(request.POST or None, case=case, submission_length=len(submission.text))
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("consultations.change_case", case):
            raise PermissionDenied(gettext("意見を分ける権限がありません。"))
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.item_create(actor=request.user, submission=submission, span=data["span"],
                                            text=data.get("text", ""), sections=data["sections"],
                                            summary=data.get("summary", ""))
            except services.ConsultationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, gettext("意見 No.%(number)s を作成しました。") % {"number": item.number})
                return redirect("consultations_staff:submission", slug=case.slug, number=number)
        status = 400
    return render(request, "consultations/staff/submission.html", {
        "case": case, "submission": submission, "form": form,
        "items": submission.items.prefetch_related("sections").order_by("number"),
        "can_change": request.user.has_perm("consultations.change_case", case),
    }, status=status)


def submission_original(request: HttpRequest, slug: str, number: str) -> FileResponse:
    case = _case(request, slug)
    submission = get_object_or_404(case.submissions, receipt_number=number)
    if not submission.original_file:
        raise Http404(gettext("原本ファイルはありません。"))
    return FileResponse(submission.original_file.open("rb"), as_attachment=True,
                        filename=submission.original_name or "original", content_type=submission.original_type)


@dataclass
class _ItemPage:
    """What the item page shows; an action handler replaces the form it worked on (with its errors)."""

    case: Case
    item: Item
    edit_form: forms.ItemEditForm
    answer_form: forms.AnswerForm
    routing_form: forms.RoutingForm
    reason_form: forms.ReasonForm
    findings: Any
    answer_scope: dict[str, Any] | None = None
    status: int = 200


def _item_page(case: Case, item: Item) -> _ItemPage:
    return _ItemPage(
        case=case, item=item,
        edit_form=forms.ItemEditForm(initial={"sections": item.sections.all(), "summary": item.summary,
                                              "reflection": item.reflection}, case=case),
        answer_form=forms.AnswerForm(initial={"text": item.answer.text if item.answer else ""}, item=item),
        routing_form=forms.RoutingForm(), reason_form=forms.ReasonForm(),
        findings=analysis.item_findings(case, item),
    )


def _back_to_item(page: _ItemPage) -> HttpResponse:
    return redirect("consultations_staff:item", slug=page.case.slug, number=page.item.number)


def _item_use_suggestion(request: HttpRequest, page: _ItemPage) -> HttpResponse | None:
    """Put a suggested past answer into the answer field (nothing is saved yet)."""
    suggestions = page.findings.suggestions if page.findings else []
    index = request.POST.get("suggestion", "")
    if not index.isdigit() or int(index) >= len(suggestions):
        raise Http404(gettext("この回答の候補は見つかりません。"))
    page.answer_form = forms.AnswerForm(initial={"text": suggestions[int(index)]["answer"]}, item=page.item)
    return None


def _item_update(request: HttpRequest, page: _ItemPage) -> HttpResponse | None:
    page.edit_form = forms.ItemEditForm(request.POST, case=page.case)
    if not page.edit_form.is_valid():
        page.status = 400
        return None
    d = page.edit_form.cleaned_data
    services.item_update(actor=request.user, item=page.item, sections=d["sections"], summary=d["summary"],
                         reflection=d["reflection"])
    messages.success(request, gettext("意見を更新しました。"))
    return _back_to_item(page)


def _item_insert_standard(request: HttpRequest, page: _ItemPage) -> HttpResponse | None:
    """Append the chosen standard answer to the answer being written (nothing is saved yet)."""
    page.answer_form = forms.AnswerForm(request.POST, item=page.item)
    if not page.answer_form.is_valid():
        page.status = 400
        return None
    d = page.answer_form.cleaned_data
    if d["standard"] is None:
        page.answer_form.add_error("standard", gettext("定型回答を選んでください。"))
        page.status = 400
        return None
    text = (d["text"].rstrip() + "\n" if d["text"].strip() else "") + d["standard"].text
    page.answer_form = forms.AnswerForm(initial={"text": text, "also_items": d["also_items"]}, item=page.item)
    return None


def _item_save_answer(request: HttpRequest, page: _ItemPage) -> HttpResponse | None:
    """Save 区の考え方. A grouped answer (同趣旨の意見) that changes is never rewritten for the
    others without asking which is meant: the page asks, then the choice comes back as ``scope``."""
    item = page.item
    page.answer_form = forms.AnswerForm(request.POST, item=item)
    if not page.answer_form.is_valid():
        page.status = 400
        return None
    if page.case.answers_locked:
        raise services.AnswersLocked(page.case)
    d = page.answer_form.cleaned_data
    shared = _sharing(item)
    changed = item.answer is not None and d["text"].strip() != item.answer.text
    scope = request.POST.get("scope", "")
    if changed and shared and (scope not in ("all", "own") or request.POST.get("group") != _group_key(shared)):
        page.answer_scope = {"shared": shared, "group": _group_key(shared), "text": d["text"],
                             "also": [i.pk for i in d["also_items"]], "problem": bool(scope)}
        return None
    separate = bool(changed and shared and scope == "own")
    services.answer_save(actor=request.user, item=item, text=d["text"], also_items=d["also_items"], separate=separate)
    if separate:
        messages.success(request, gettext("No.%(number)s に別の回答を作成しました。同じ回答だった %(others)s の回答は変わりません。")
                         % {"number": item.number, "others": _numbers(shared)})
    elif changed and shared:
        messages.success(request, gettext("区の考え方を保存しました（同じ回答の %(others)s も変更しました）。")
                         % {"others": _numbers(shared)})
    else:
        messages.success(request, gettext("区の考え方を保存しました。"))
    return _back_to_item(page)


def _item_share_answer(request: HttpRequest, page: _ItemPage) -> HttpResponse | None:
    answer = get_object_or_404(Answer, pk=request.POST.get("answer"), case=page.case)
    services.answer_assign(actor=request.user, item=page.item, answer=answer)
    messages.success(request, gettext("同趣旨の意見として、同じ回答にまとめました。"))
    return _back_to_item(page)


def _item_route(request: HttpRequest, page: _ItemPage) -> HttpResponse | None:
    page.routing_form = forms.RoutingForm(request.POST)
    if not page.routing_form.is_valid():
        page.status = 400
        return None
    services.routing_create(actor=request.user, item=page.item, **page.routing_form.cleaned_data)
    messages.success(request, gettext("担当部署に共有しました。"))
    return _back_to_item(page)


def _item_exclude(request: HttpRequest, page: _ItemPage) -> HttpResponse | None:
    page.reason_form = forms.ReasonForm(request.POST)
    if page.reason_form.is_valid() and not page.reason_form.cleaned_data["category"]:
        page.reason_form.add_error("category", gettext("対象外にする場合は、公表しない理由の区分を選んでください。"))
    if not page.reason_form.is_valid():
        page.status = 400
        return None
    services.item_exclude(actor=request.user, item=page.item, reason=page.reason_form.cleaned_data["reason"],
                          category=page.reason_form.cleaned_data["category"])
    messages.success(request, gettext("対象外にしました。"))
    return _back_to_item(page)


def _item_withdraw(request: HttpRequest, page: _ItemPage) -> HttpResponse | None:
    page.reason_form = forms.ReasonForm(request.POST)
    if not page.reason_form.is_valid():
        page.status = 400
        return None
    services.item_withdraw(actor=request.user, item=page.item, reason=page.reason_form.cleaned_data["reason"])
    messages.success(request, gettext("取り下げました。"))
    return _back_to_item(page)


def _item_include(request: HttpRequest, page: _ItemPage) -> HttpResponse | None:
    services.item_include(actor=request.user, item=page.item)
    return _back_to_item(page)


# The item page's buttons (their `action`), one handler each: a response ends the request (a
# redirect after a write), None shows the page again with what the handler left in it.
ITEM_ACTIONS: dict[str, Callable[[HttpRequest, _ItemPage], HttpResponse | None]] = {
    "use_suggestion": _item_use_suggestion, "update": _item_update, "insert_standard": _item_insert_standard,
    "save_answer": _item_save_answer, "share_answer": _item_share_answer, "route": _item_route,
    "exclude": _item_exclude, "withdraw": _item_withdraw, "include": _item_include,
}


def item_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    case = _case(request, slug)
    item = get_object_or_404(case.items.select_related("submission", "answer"), number=number)
    can_change = request.user.has_perm("consultations.change_case", case)
    page = _item_page(case, item)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(gettext("意見を編集する権限がありません。"))
        handler = ITEM_ACTIONS.get(request.POST.get("action", ""))
        if handler is None:
            page.status = 400
        else:
            try:
                response = handler(request, page)
            except services.ConsultationError as exc:
                _fail(request, exc)
                page.status = 409
            else:
                if response is not None:
                    return response
    other_answers = case.answers.exclude(pk=item.answer_id or 0).annotate(n=Count("items")).order_by("id")
    return render(request, "consultations/staff/item.html", {
        "case": case, "item": item, "edit_form": page.edit_form, "answer_form": page.answer_form,
        "routing_form": page.routing_form, "reason_form": page.reason_form, "can_change": can_change,
        "other_answers": other_answers, "routings": item.routings.select_related("department"),
        "versions": item.answer.versions.all() if item.answer else [],
        "grouped": item.answer.items.exclude(pk=item.pk) if item.answer else [],
        "masked": services.masked_text(item), "findings": page.findings, "answer_scope": page.answer_scope,
    }, status=page.status)


def _sharing(item: Item) -> list[int]:
    """The other items that carry this item's answer (同趣旨の意見), by number."""
    if item.answer_id is None:
        return []
    return list(Item.objects.filter(answer_id=item.answer_id).exclude(pk=item.pk).order_by("number")
                .values_list("number", flat=True))


def _group_key(numbers: list[int]) -> str:
    return ",".join(map(str, numbers))


def _numbers(numbers: list[int]) -> str:
    return "、".join(f"No.{n}" for n in numbers)


def approval(request: HttpRequest, slug: str) -> HttpResponse:
    """決裁: the request (with the 訂正 note after publication), each step's decision along the
    route, 差戻し from any step, the drafter's withdrawal and the start of a 訂正."""
    case = _case(request, slug)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "request":
                _case(request, slug, "consultations.change_case")
                if not confirm.confirmed(request):
                    return _request_confirmation(request, case)
                services.approval_request(actor=request.user, case=case, comment=request.POST.get("comment", ""),
                                          correction_note=request.POST.get("correction_note", ""))
                messages.success(request, gettext("決裁に回しました。"))
            elif action == "decide":
                round_ = get_object_or_404(case.approval_rounds, state=ApprovalRound.State.PENDING)
                if not services.may_decide(request.user, round_.current_step or services.approval_route(case)[0]):
                    raise PermissionDenied(gettext("この段階を決裁する権限がありません。"))
                form = forms.ApprovalDecisionForm(request.POST)
                if not form.is_valid():
                    raise services.ConsultationError(gettext("承認か差戻しを選んでください。"))
                services.approval_decide(actor=request.user, round_=round_,
                                         approve=form.cleaned_data["decision"] == "approve",
                                         comment=form.cleaned_data["comment"])
                messages.success(request, gettext("決裁しました。"))
            elif action == "reopen":
                _case(request, slug, "consultations.change_case")
                services.approval_reopen(actor=request.user, case=case, reason=request.POST.get("reason", ""))
                messages.success(request, gettext("回答作成中に戻しました。修正後、改めて決裁に回してください。"))
            else:
                raise services.ConsultationError(gettext("操作が正しくありません。"))
            return redirect("consultations_staff:approval", slug=slug)
        except services.ConsultationError as exc:
            _fail(request, exc)
            status = 409
        case.refresh_from_db()
    pending = case.approval_rounds.filter(state=ApprovalRound.State.PENDING).first()
    step = pending.current_step if pending else None
    can_decide = bool(
        pending and step and services.may_decide(request.user, step)
        and pending.requested_by_id != request.user.pk
        and not pending.decisions.filter(decided_by_id=request.user.pk).exists()
    )
    published = services.latest_published(case)
    changes = None
    if pending and published:
        changes = exports.row_changes(exports.approved_part(exports.from_dict(published.data)), pending.table)
    return render(request, "consultations/staff/approval.html", {
        "case": case,
        "rounds": case.approval_rounds.select_related("requested_by", "decided_by")
                      .prefetch_related("decisions__decided_by").order_by("-number"),
        "pending": pending, "step": step, "can_decide": can_decide, "step_rows": _step_rows(pending),
        "approved": services.latest_approved_round(case),
        "route": services.approval_route(case), "has_own_route": case.approval_steps.exists(),
        "published": published, "changes": changes,
        "decision_form": forms.ApprovalDecisionForm(),
        "can_change": request.user.has_perm("consultations.change_case", case),
        "items": case.items.filter(excluded=False, withdrawn=False).select_related("answer").order_by("number"),
    }, status=status)


def _request_confirmation(request: HttpRequest, case: Case) -> HttpResponse:
    route = services.approval_route(case)
    items = case.items.filter(excluded=False, withdrawn=False)
    consequences = [
        gettext("公表する内容（意見の要旨・回答・非公開にする箇所）を確定し、決裁が終わるまで変更できなくします。"
                "変更が必要になったときは、差戻しで回答作成中に戻します。"),
        gettext("決裁の経路の最初の段階「%(step)s」の決裁者に、メールで知らせます。") % {"step": route[0]["label"]},
        gettext("決裁の対象：公表する意見 %(items)s 件、回答 %(answers)s 件") % {
            "items": items.count(), "answers": items.exclude(answer=None).values("answer").distinct().count()},
    ]
    return confirm.page(request, title=gettext("決裁に回す"), subject=case.title, consequences=consequences,
                        confirm_label=gettext("決裁に回す"),
                        cancel_url=reverse("consultations_staff:approval", args=[case.slug]))


def _step_rows(round_: ApprovalRound | None) -> list[dict[str, object]]:
    """Each step of a round with its decision, if taken."""
    if round_ is None:
        return []
    decided = {d.step: d for d in round_.decisions.select_related("decided_by")}
    return [{"label": s["label"], "decision": decided.get(i),
             "waiting": i not in decided and i == round_.step and round_.state == ApprovalRound.State.PENDING}
            for i, s in enumerate(round_.route)]


def approval_route(request: HttpRequest, slug: str) -> HttpResponse:
    """The case's 決裁 route: its steps (係長 → 課長 → 部長) and who decides at each."""
    case = _case(request, slug, "consultations.change_case")
    steps = list(case.approval_steps.select_related("department").prefetch_related("users"))
    initial = [{"label": st.label, "department": st.department, "role": st.role,
                "users": "\n".join(u.email for u in st.users.all())} for st in steps]
    rows = max(3, len(initial) + 1)
    formset = forms.RouteFormSet(request.POST or None, initial=initial + [{}] * (rows - len(initial)),
                                 prefix="step")
    if request.method == "POST" and formset.is_valid():
        try:
            services.approval_route_set(actor=request.user, case=case,
                                        steps=[st for st in (f.step() for f in formset.forms) if st is not None])
        except services.ConsultationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, gettext("決裁の経路を保存しました。"))
            return redirect("consultations_staff:approval", slug=slug)
    return render(request, "consultations/staff/approval_route.html", {
        "case": case, "formset": formset, "route": services.approval_route(case),
    }, status=400 if request.method == "POST" else 200)


def masks(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug)
    add_form = forms.MaskAddForm(case=case)
    status = 200
    if request.method == "POST":
        _case(request, slug, "consultations.change_case")
        if request.POST.get("action") == "add":
            add_form = forms.MaskAddForm(request.POST, case=case)
            if add_form.is_valid():
                try:
                    for start, end in add_form.cleaned_data["spans"]:
                        services.mask_add(actor=request.user, item=add_form.cleaned_data["item"], field="text",
                                          start=start, end=end, note="職員が追加")
                except services.ConsultationError as exc:
                    _fail(request, exc)
                    status = 409
                else:
                    messages.success(request, gettext("非公開にしました。"))
                    return redirect("consultations_staff:masks", slug=slug)
            else:
                status = 400
        else:
            mask = get_object_or_404(Mask, pk=request.POST.get("mask"), item__case=case)
            try:
                services.mask_decide(actor=request.user, mask=mask, decision=request.POST.get("decision", ""),
                                     note=request.POST.get("note", ""))
                messages.success(request, gettext("判断を記録しました。"))
                return redirect("consultations_staff:masks", slug=slug)
            except services.ConsultationError as exc:
                _fail(request, exc)
                status = 409
    rows = []
    for mask in Mask.objects.filter(item__case=case).select_related("item").order_by("item__number", "start"):
        value = getattr(mask.item, mask.field)
        rows.append({"mask": mask, "before": value[max(0, mask.start - 20):mask.start],
                     "span": value[mask.start:mask.end], "after": value[mask.end:mask.end + 20],
                     "kind": masking.KIND_LABELS.get(mask.kind, mask.kind)})
    can_change = request.user.has_perm("consultations.change_case", case) and not case.answers_locked
    return render(request, "consultations/staff/masks.html", {"case": case, "rows": rows, "add_form": add_form,
                                                              "can_change": can_change}, status=status)


def reports(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug)
    return render(request, "consultations/staff/reports.html", {
        "case": case, "reports": case.impersonation_reports.select_related("submission"),
        "form": forms.ImpersonationReviewForm(),
    })


@require_POST
def report_review(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    case = _case(request, slug, "consultations.change_case")
    report = get_object_or_404(case.impersonation_reports, pk=pk)
    form = forms.ImpersonationReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("判断と確認結果を入力してください。"))
        return redirect("consultations_staff:reports", slug=slug)
    number = form.cleaned_data["receipt_number"].strip()
    submission = case.submissions.filter(receipt_number=number).first() if number else None
    if number and submission is None:
        messages.error(request, gettext("受付番号 %(number)s の提出はこの案件にありません。") % {"number": number})
        return redirect("consultations_staff:reports", slug=slug)
    try:
        services.impersonation_review(actor=request.user, report=report, uphold=form.cleaned_data["decision"] == "uphold",
                                      note=form.cleaned_data["note"], submission=submission)
        messages.success(request, gettext("申告の確認結果を記録しました。"))
    except services.ConsultationError as exc:
        _fail(request, exc)
    return redirect("consultations_staff:reports", slug=slug)


def publish(request: HttpRequest, slug: str) -> HttpResponse:
    """公表: publish the approved table as the next version; the versions published so far;
    a preview of the table as it stands now."""
    case = _case(request, slug)
    status = 200
    if request.method == "POST":
        _case(request, slug, "consultations.change_case")
        if not confirm.confirmed(request):
            return _publish_confirmation(request, case)
        try:
            services.case_publish(actor=request.user, case=case)
            messages.success(request, gettext("結果を公表しました。"))
            return redirect("consultations_staff:publish", slug=slug)
        except services.ConsultationError as exc:
            _fail(request, exc)
            status = 409
        case.refresh_from_db()
    pub = exports.build(case)
    return render(request, "consultations/staff/publish.html", {
        "case": case, **exports.context(pub), "formats": exports.FORMATS,
        "can_change": request.user.has_perm("consultations.change_case", case),
        "pending_masks": Mask.objects.filter(item__case=case, decision=Mask.Decision.PENDING).count(),
        "versions": queries.published_versions(case), "approved": services.latest_approved_round(case),
    }, status=status)


def _publish_confirmation(request: HttpRequest, case: Case) -> HttpResponse:
    versions = queries.published_versions(case)
    consequences = [
        gettext("承認された内容を、結果のページとダウンロード（CSV・XLSX・PDF など）で区民に公開します。"),
        gettext("公表した内容は変更できません。誤りがあったときは、訂正として新しい版を決裁し、公表します。"),
    ]
    if versions:
        consequences.append(gettext("公表済みの第%(version)s版は、訂正前の版として残ります。")
                            % {"version": versions[-1].version})
    return confirm.page(request, title=gettext("訂正を公表する") if versions else gettext("結果を公表する"),
                        subject=case.title, consequences=consequences,
                        confirm_label=gettext("訂正を公表する") if versions else gettext("結果を公表する"),
                        cancel_url=reverse("consultations_staff:publish", args=[case.slug]))


def export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """A preview download of the table as it would be published now (not the published record:
    that is served from the public results page)."""
    case = _case(request, slug)
    if fmt not in exports.FORMATS:
        raise Http404(gettext("その形式には対応していません。"))
    response = HttpResponse(exports.render(case, fmt), content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{case.slug}-preview-{exports.FILE_SUFFIXES[fmt]}"'
    return response


def submitters(request: HttpRequest, slug: str) -> HttpResponse:
    """提出者の一覧（所属内の事後対応用）: every submission with the submitter's details, as CSV,
    each export audited with its purpose. Never published."""
    case = _case(request, slug, "consultations.change_case")
    form = forms.SubmittersExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            content = services.submitters_export(actor=request.user, case=case, purpose=form.cleaned_data["purpose"])
        except services.ConsultationError as exc:
            exc.add_to_form(form)
        else:
            response = HttpResponse(content, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{case.slug}-submitters.csv"'
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "consultations/staff/submitters.html", {
        "case": case, "form": form, "count": case.submissions.count(), "headers": services.SUBMITTER_HEADERS,
    }, status=400 if form.errors else 200)


#: The answered shares listed under the open ones (the newest; the heading says how many at most).
DONE_SHOWN = 50


def routing_queue(request: HttpRequest) -> HttpResponse:
    """Items other departments shared with mine (担当部署に共有), by due date."""
    return render(request, "consultations/staff/routing_queue.html", {
        "page": page_of(request, queries.routing_queue(request.user)),
        "done": queries.routing_queue(request.user, include_done=True).filter(state=Routing.State.DONE)
        .order_by("-done_at", "-id")[:DONE_SHOWN], "done_shown": DONE_SHOWN,
        "today": timezone.localdate(), "form": forms.RoutingResponseForm(),
    })


@require_POST
def routing_respond(request: HttpRequest, pk: int) -> HttpResponse:
    routing = get_object_or_404(queries.routing_queue(request.user, include_done=True), pk=pk)
    if not request.user.has_perm("consultations.respond_routing", routing):
        raise PermissionDenied(gettext("この共有に回答する権限がありません。"))
    form = forms.RoutingResponseForm(request.POST)
    if form.is_valid():
        try:
            services.routing_complete(actor=request.user, routing=routing, response=form.cleaned_data["response"])
            messages.success(request, gettext("回答を送りました。"))
        except services.ConsultationError as exc:
            _fail(request, exc)
    else:
        messages.error(request, gettext("回答を入力してください。"))
    return redirect("consultations_staff:routing_queue")
