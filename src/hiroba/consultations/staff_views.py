"""The staff back office for consultations (/staff/consultations/): every URL passes the staff
gate (signed-in staff with MFA); cases outside the user's departments answer 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from hiroba.consultations import analysis, exports, forms, masking, queries, services
from hiroba.consultations.models import (
    Answer,
    ApprovalRound,
    Case,
    ImpersonationReport,
    Mask,
    Routing,
)


def _case(request: HttpRequest, slug: str, perm: str = "consultations.view_case") -> Case:
    case = get_object_or_404(queries.cases_for(request.user), slug=slug)
    if not request.user.has_perm(perm, case):
        raise PermissionDenied("この操作の権限がありません。")
    return case


def _fail(request: HttpRequest, exc: services.ConsultationError) -> None:
    messages.error(request, str(exc))


def case_list(request: HttpRequest) -> HttpResponse:
    return render(request, "consultations/staff/case_list.html", {
        "cases": queries.case_list(request.user),
        "open_routings": queries.routing_queue(request.user).count(),
        "can_add": request.user.has_perm("consultations.add_case"),
    })


def case_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("consultations.add_case"):
        raise PermissionDenied("案件を作成する権限がありません。")
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
            )
        except services.ConsultationError as exc:
            form.add_error("short_period_reason" if "募集期間" in str(exc) else None, str(exc))
        else:
            messages.success(request, "案件を作成しました。見出し（該当箇所）を登録してください。")
            return redirect("consultations_staff:detail", slug=case.slug)
    return render(request, "consultations/staff/form.html", {
        "title": "案件の作成", "form": form, "submit": "作成する", "multipart": True,
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
        "next_states": {Case.State.PREPARING: [("open", "募集を開始する")], Case.State.OPEN: [("tallying", "募集を締め切る")],
                        Case.State.TALLYING: [("answering", "回答作成を始める")]}.get(Case.State(case.state), []),
    })


@require_POST
def case_state(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug, "consultations.change_case")
    try:
        services.case_transition(actor=request.user, case=case, to=request.POST.get("to", ""))
        messages.success(request, "状態を変更しました。")
    except (services.ConsultationError, ValueError) as exc:
        messages.error(request, str(exc) if isinstance(exc, services.ConsultationError) else "状態が正しくありません。")
    return redirect("consultations_staff:detail", slug=case.slug)


def section_add(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug, "consultations.change_case")
    form = forms.SectionForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            services.section_add(actor=request.user, case=case, **form.cleaned_data)
        except services.ConsultationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "見出しを登録しました。")
            return redirect("consultations_staff:detail", slug=case.slug)
    return render(request, "consultations/staff/form.html", {
        "title": f"見出し（該当箇所）の登録 — {case.title}", "form": form, "submit": "登録する", "case": case,
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
                    site_url=request.build_absolute_uri("/"),
                )
            except services.ConsultationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"受付番号 {submission.receipt_number} で受け付けました。")
                return redirect("consultations_staff:submission", slug=case.slug, number=submission.receipt_number)
        status = 413 if form.too_large else 400
    return render(request, "consultations/staff/form.html", {
        "title": f"紙・メールで届いた意見の入力 — {case.title}", "form": form, "submit": "受け付ける",
        "multipart": True, "case": case,
    }, status=status)


def submission_detail(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    case = _case(request, slug)
    submission = get_object_or_404(case.submissions.select_related("section", "entered_by"), receipt_number=number)
    form = forms.ItemForm(request.POST or None, case=case, submission_length=len(submission.text))
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("consultations.change_case", case):
            raise PermissionDenied("意見を分ける権限がありません。")
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.item_create(actor=request.user, submission=submission, span=data["span"],
                                            text=data.get("text", ""), sections=data["sections"],
                                            summary=data.get("summary", ""))
            except services.ConsultationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"意見 No.{item.number} を作成しました。")
                return redirect("consultations_staff:submission", slug=case.slug, number=number)
        status = 400
    return render(request, "consultations/staff/submission.html", {
        "case": case, "submission": submission, "form": form,
        "items": submission.items.prefetch_related("sections").order_by("number"),
        "can_change": request.user.has_perm("consultations.change_case", case),
    }, status=status)


def submission_original(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    case = _case(request, slug)
    submission = get_object_or_404(case.submissions, receipt_number=number)
    if not submission.original_file:
        raise Http404("原本ファイルはありません。")
    return FileResponse(submission.original_file.open("rb"), as_attachment=True,
                        filename=submission.original_name or "original", content_type=submission.original_type)


def item_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    case = _case(request, slug)
    item = get_object_or_404(case.items.select_related("submission", "answer"), number=number)
    can_change = request.user.has_perm("consultations.change_case", case)
    edit_form = forms.ItemEditForm(initial={"sections": item.sections.all(), "summary": item.summary,
                                            "reflection": item.reflection}, case=case)
    answer_form = forms.AnswerForm(initial={"text": item.answer.text if item.answer else ""}, item=item)
    routing_form = forms.RoutingForm()
    reason_form = forms.ReasonForm()
    findings = analysis.item_findings(case, item)
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("意見を編集する権限がありません。")
        action = request.POST.get("action")
        try:
            if action == "use_suggestion":  # put a suggested past answer into the answer field
                suggestions = findings.suggestions if findings else []
                index = request.POST.get("suggestion", "")
                if not index.isdigit() or int(index) >= len(suggestions):
                    raise Http404("この回答の候補は見つかりません。")
                answer_form = forms.AnswerForm(initial={"text": suggestions[int(index)]["answer"]}, item=item)
            elif action == "update":
                edit_form = forms.ItemEditForm(request.POST, case=case)
                if edit_form.is_valid():
                    d = edit_form.cleaned_data
                    services.item_update(actor=request.user, item=item, sections=d["sections"], summary=d["summary"],
                                         reflection=d["reflection"])
                    messages.success(request, "意見を更新しました。")
                    return redirect("consultations_staff:item", slug=slug, number=number)
                status = 400
            elif action in ("insert_standard", "save_answer"):
                answer_form = forms.AnswerForm(request.POST, item=item)
                if answer_form.is_valid():
                    d = answer_form.cleaned_data
                    if action == "insert_standard":
                        if d["standard"] is None:
                            answer_form.add_error("standard", "定型回答を選んでください。")
                            status = 400
                        else:
                            text = (d["text"].rstrip() + "\n" if d["text"].strip() else "") + d["standard"].text
                            answer_form = forms.AnswerForm(initial={"text": text, "also_items": d["also_items"]},
                                                           item=item)
                    else:
                        if item.answer is not None:
                            services.answer_update(actor=request.user, answer=item.answer, text=d["text"])
                            for other in d["also_items"]:
                                services.answer_assign(actor=request.user, item=other, answer=item.answer)
                        else:
                            services.answer_write(actor=request.user, items=[item, *d["also_items"]], text=d["text"])
                        messages.success(request, "区の考え方を保存しました。")
                        return redirect("consultations_staff:item", slug=slug, number=number)
                else:
                    status = 400
            elif action == "share_answer":
                answer = get_object_or_404(Answer, pk=request.POST.get("answer"), case=case)
                services.answer_assign(actor=request.user, item=item, answer=answer)
                messages.success(request, "同趣旨の意見として、同じ回答にまとめました。")
                return redirect("consultations_staff:item", slug=slug, number=number)
            elif action == "route":
                routing_form = forms.RoutingForm(request.POST)
                if routing_form.is_valid():
                    services.routing_create(actor=request.user, item=item, **routing_form.cleaned_data)
                    messages.success(request, "担当部署に共有しました。")
                    return redirect("consultations_staff:item", slug=slug, number=number)
                status = 400
            elif action in ("exclude", "withdraw"):
                reason_form = forms.ReasonForm(request.POST)
                if reason_form.is_valid():
                    fn = services.item_exclude if action == "exclude" else services.item_withdraw
                    fn(actor=request.user, item=item, reason=reason_form.cleaned_data["reason"])
                    messages.success(request, "対象外にしました。" if action == "exclude" else "取り下げました。")
                    return redirect("consultations_staff:item", slug=slug, number=number)
                status = 400
            elif action == "include":
                services.item_include(actor=request.user, item=item)
                return redirect("consultations_staff:item", slug=slug, number=number)
            else:
                status = 400
        except services.ConsultationError as exc:
            _fail(request, exc)
            status = 409
    other_answers = case.answers.exclude(pk=item.answer_id or 0).annotate(n=Count("items")).order_by("id")
    return render(request, "consultations/staff/item.html", {
        "case": case, "item": item, "edit_form": edit_form, "answer_form": answer_form,
        "routing_form": routing_form, "reason_form": reason_form, "can_change": can_change,
        "other_answers": other_answers, "routings": item.routings.select_related("department"),
        "versions": item.answer.versions.all() if item.answer else [],
        "grouped": item.answer.items.exclude(pk=item.pk) if item.answer else [],
        "masked": services.masked_text(item), "findings": findings,
    }, status=status)


def approval(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "request":
                _case(request, slug, "consultations.change_case")
                services.approval_request(actor=request.user, case=case, comment=request.POST.get("comment", ""))
                messages.success(request, "決裁に回しました。")
            elif action == "decide":
                _case(request, slug, "consultations.approve_case")
                round_ = get_object_or_404(case.approval_rounds, state=ApprovalRound.State.PENDING)
                form = forms.ApprovalDecisionForm(request.POST)
                if not form.is_valid():
                    raise services.ConsultationError("承認か差戻しを選んでください。")
                services.approval_decide(actor=request.user, round_=round_,
                                         approve=form.cleaned_data["decision"] == "approve",
                                         comment=form.cleaned_data["comment"])
                messages.success(request, "決裁しました。")
            elif action == "reopen":
                _case(request, slug, "consultations.change_case")
                services.approval_reopen(actor=request.user, case=case, reason=request.POST.get("reason", ""))
                messages.success(request, "回答作成中に戻しました。修正後、改めて決裁に回してください。")
            else:
                raise services.ConsultationError("操作が正しくありません。")
            return redirect("consultations_staff:approval", slug=slug)
        except services.ConsultationError as exc:
            _fail(request, exc)
            status = 409
        case.refresh_from_db()
    return render(request, "consultations/staff/approval.html", {
        "case": case, "rounds": case.approval_rounds.select_related("requested_by", "decided_by").order_by("-number"),
        "pending": case.approval_rounds.filter(state=ApprovalRound.State.PENDING).first(),
        "approved": services.latest_approved_round(case),
        "decision_form": forms.ApprovalDecisionForm(),
        "can_change": request.user.has_perm("consultations.change_case", case),
        "can_approve": request.user.has_perm("consultations.approve_case", case),
        "items": case.items.filter(excluded=False, withdrawn=False).select_related("answer").order_by("number"),
    }, status=status)


def masks(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug)
    add_form = forms.MaskAddForm(case=case)
    status = 200
    if request.method == "POST":
        _case(request, slug, "consultations.change_case")
        if request.POST.get("action") == "add":
            add_form = forms.MaskAddForm(request.POST, case=case)
            if add_form.is_valid():
                for start, end in add_form.cleaned_data["spans"]:
                    services.mask_add(actor=request.user, item=add_form.cleaned_data["item"], field="text",
                                      start=start, end=end, note="職員が追加")
                messages.success(request, "非公開にしました。")
                return redirect("consultations_staff:masks", slug=slug)
            status = 400
        else:
            mask = get_object_or_404(Mask, pk=request.POST.get("mask"), item__case=case)
            try:
                services.mask_decide(actor=request.user, mask=mask, decision=request.POST.get("decision", ""),
                                     note=request.POST.get("note", ""))
                messages.success(request, "判断を記録しました。")
                return redirect("consultations_staff:masks", slug=slug)
            except services.ConsultationError as exc:
                _fail(request, exc)
                status = 400
    rows = []
    for mask in Mask.objects.filter(item__case=case).select_related("item").order_by("item__number", "start"):
        value = getattr(mask.item, mask.field)
        rows.append({"mask": mask, "before": value[max(0, mask.start - 20):mask.start],
                     "span": value[mask.start:mask.end], "after": value[mask.end:mask.end + 20],
                     "kind": masking.KIND_LABELS.get(mask.kind, mask.kind)})
    return render(request, "consultations/staff/masks.html", {"case": case, "rows": rows, "add_form": add_form,
                                                              "can_change": request.user.has_perm("consultations.change_case", case)},
                  status=status)


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
        messages.error(request, "判断と確認結果を入力してください。")
        return redirect("consultations_staff:reports", slug=slug)
    number = form.cleaned_data["receipt_number"].strip()
    submission = case.submissions.filter(receipt_number=number).first() if number else None
    if number and submission is None:
        messages.error(request, f"受付番号 {number} の提出はこの案件にありません。")
        return redirect("consultations_staff:reports", slug=slug)
    try:
        services.impersonation_review(actor=request.user, report=report, uphold=form.cleaned_data["decision"] == "uphold",
                                      note=form.cleaned_data["note"], submission=submission)
        messages.success(request, "申告の確認結果を記録しました。")
    except services.ConsultationError as exc:
        _fail(request, exc)
    return redirect("consultations_staff:reports", slug=slug)


def publish(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug)
    status = 200
    if request.method == "POST":
        _case(request, slug, "consultations.change_case")
        try:
            services.case_publish(actor=request.user, case=case)
            messages.success(request, "結果を公表しました。")
            return redirect("consultations_staff:publish", slug=slug)
        except services.ConsultationError as exc:
            _fail(request, exc)
            status = 409
    pub = exports.build(case)
    return render(request, "consultations/staff/publish.html", {
        "case": case, **exports.context(pub), "formats": exports.FORMATS,
        "can_change": request.user.has_perm("consultations.change_case", case),
        "pending_masks": Mask.objects.filter(item__case=case, decision=Mask.Decision.PENDING).count(),
    }, status=status)


def export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    case = _case(request, slug)
    if fmt not in exports.FORMATS:
        raise Http404("その形式には対応していません。")
    response = HttpResponse(exports.render(case, fmt), content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{case.slug}-results.{fmt}"'
    return response


def routing_queue(request: HttpRequest) -> HttpResponse:
    """Items other departments shared with mine (担当部署に共有), by due date."""
    return render(request, "consultations/staff/routing_queue.html", {
        "routings": queries.routing_queue(request.user),
        "done": queries.routing_queue(request.user, include_done=True).filter(state=Routing.State.DONE)[:50],
        "today": timezone.localdate(), "form": forms.RoutingResponseForm(),
    })


@require_POST
def routing_respond(request: HttpRequest, pk: int) -> HttpResponse:
    routing = get_object_or_404(queries.routing_queue(request.user, include_done=True), pk=pk)
    if not request.user.has_perm("consultations.respond_routing", routing):
        raise PermissionDenied("この共有に回答する権限がありません。")
    form = forms.RoutingResponseForm(request.POST)
    if form.is_valid():
        try:
            services.routing_complete(actor=request.user, routing=routing, response=form.cleaned_data["response"])
            messages.success(request, "回答を送りました。")
        except services.ConsultationError as exc:
            _fail(request, exc)
    else:
        messages.error(request, "回答を入力してください。")
    return redirect("consultations_staff:routing_queue")
