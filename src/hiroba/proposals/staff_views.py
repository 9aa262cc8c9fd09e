"""The back office (/staff/proposals/): calls, moderation, blind review, screening, voters, results."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from hiroba.accounts import permissions
from hiroba.accounts.models import Role, User
from hiroba.core.models import Department
from hiroba.core.paging import page_of
from hiroba.proposals import queries, services
from hiroba.proposals.forms import (
    AdoptForm,
    CallForm,
    ConflictForm,
    CriterionFormSet,
    DecisionForm,
    FollowUpForm,
    MilestoneForm,
    PaperBallotForm,
    PersonForm,
    ReasonForm,
    ReviewerAddForm,
    ReviewForm,
)
from hiroba.proposals.models import Attachment, Call, Proposal, ReviewAssignment


def _call(request: HttpRequest, slug: str, perm: str = "proposals.view_call") -> Call:
    call = get_object_or_404(Call.objects.select_related("department"), slug=slug)
    if not request.user.has_perm("proposals.view_call", call):
        raise Http404  # outside the user's departments: not disclosed
    if not request.user.has_perm(perm, call):
        raise PermissionDenied
    return call


def _done(request: HttpRequest, message: str) -> None:
    messages.success(request, message)


def call_list(request: HttpRequest) -> HttpResponse:
    calls = queries.staff_calls(request.user).annotate(
        n_proposals=Count("proposals", filter=Q(proposals__status=Proposal.Status.SUBMITTED)))
    return render(request, "proposals/staff/call_list.html", {
        "page": page_of(request, calls), "can_create": request.user.has_perm("proposals.create_call"),
    })


def _criteria_initial(call: Call | None) -> list[dict[str, Any]]:
    if call is None:
        return [{"name": n, "description": d, "weight": w, "scale_max": s} for n, d, w, s in services.DEFAULT_RUBRIC]
    return [{"name": c.name, "description": c.description, "weight": c.weight, "scale_max": c.scale_max}
            for c in call.criteria.all()]


def call_edit(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    call = _call(request, slug, "proposals.manage_call") if slug else None
    if call is None and not request.user.has_perm("proposals.create_call"):
        raise PermissionDenied
    ids = permissions.department_ids(request.user, Role.HANDLE)
    departments = Department.objects.all() if ids is None else Department.objects.filter(pk__in=ids)
    form = CallForm(request.POST or None, instance=call, departments=None if call else departments)
    formset = CriterionFormSet(request.POST or None, initial=_criteria_initial(call), prefix="criteria")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        criteria = [services.CriterionSpec(f["name"], f.get("description", ""), f["weight"], f["scale_max"])
                    for f in formset.cleaned_data if f and not f.get("DELETE")]
        fields = {k: data[k] for k in services.CALL_FIELDS if k in data}
        try:
            if call is None:
                call = services.call_create(actor=request.user, department=data["department"], slug=data["slug"],
                                            criteria=criteria, publish=bool(request.POST.get("publish")),
                                            **fields)
            else:
                if request.POST.get("publish") and not call.published_at:
                    fields["published_at"] = timezone.now()
                call = services.call_update(actor=request.user, call=call, criteria=criteria, **fields)
        except services.CallInvalid as exc:
            exc.add_to_form(form)
        else:
            _done(request, _("募集「%(title)s」を保存しました。") % {"title": call.title})
            return redirect("proposals_staff:call", slug=call.slug)
    return render(request, "proposals/staff/call_form.html", {"form": form, "formset": formset, "call": call},
                  status=400 if request.method == "POST" else 200)


def call_detail(request: HttpRequest, slug: str) -> HttpResponse:
    call = _call(request, slug)
    page = page_of(request, call.proposals.filter(status=Proposal.Status.SUBMITTED).order_by("receipt_number"))
    return render(request, "proposals/staff/call_detail.html", {
        "call": call, "phase": call.phase(), "page": page, "proposals": page.object_list,
        "submitted": page.paginator.count, "totals": queries.voter_totals(call),
        "drafts": call.proposals.filter(status=Proposal.Status.DRAFT).count(),
        "can_manage": request.user.has_perm("proposals.manage_call", call),
        "can_decide": request.user.has_perm("proposals.decide_call", call),
        "can_see_proposer": request.user.has_perm("proposals.view_proposer", call),
        "result": getattr(call, "result", None),
    })


def proposal_detail(request: HttpRequest, slug: str, receipt: str) -> HttpResponse:
    call = _call(request, slug)
    proposal = get_object_or_404(call.proposals.select_related("proposer", "entered_by"), receipt_number=receipt)
    followup = getattr(proposal, "followup", None)
    return render(request, "proposals/staff/proposal_detail.html", {
        "call": call, "proposal": proposal, "followup": followup,
        "can_see_proposer": request.user.has_perm("proposals.view_proposer", call),
        "can_manage": request.user.has_perm("proposals.manage_call", call),
        "can_decide": request.user.has_perm("proposals.decide_call", call),
        "adopt_form": AdoptForm(prefix="adopt"),
        "followup_form": FollowUpForm(instance=followup, prefix="followup") if followup else None,
        "milestone_form": MilestoneForm(prefix="milestone"), "versions": proposal.versions.all(),
        "has_result": hasattr(call, "result"),
    })


@require_POST
def proposal_moderate(request: HttpRequest, slug: str, receipt: str, action: str) -> HttpResponse:
    call = _call(request, slug, "proposals.manage_call")
    proposal = get_object_or_404(call.proposals, receipt_number=receipt)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("理由を入力してください。"))
    elif action == "hide":
        services.proposal_hide(actor=request.user, proposal=proposal, reason=form.cleaned_data["reason"])
        _done(request, _("%(receipt)s を非公開にしました。") % {"receipt": receipt})
    else:
        services.proposal_unhide(actor=request.user, proposal=proposal, reason=form.cleaned_data["reason"])
        _done(request, _("%(receipt)s を再公開しました。") % {"receipt": receipt})
    return redirect("proposals_staff:proposal", slug=slug, receipt=receipt)


def reviewers(request: HttpRequest, slug: str) -> HttpResponse:
    call = _call(request, slug, "proposals.manage_call")
    form = ReviewerAddForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("assign"):
            try:
                created = services.reviews_assign(actor=request.user, call=call)
            except services.ScreeningRefused as exc:
                messages.error(request, exc.message)
            else:
                _done(request, ngettext("%(n)s件の審査を割り当てました。", "%(n)s件の審査を割り当てました。", len(created)) % {"n": len(created)})
            return redirect("proposals_staff:reviewers", slug=slug)
        if form.is_valid():
            try:
                services.reviewer_add(actor=request.user, call=call, user=form.cleaned_data["email"])
            except services.ScreeningRefused as exc:
                exc.add_to_form(form)
            else:
                _done(request, _("審査員を追加しました。"))
                return redirect("proposals_staff:reviewers", slug=slug)
    panel = call.reviewers.select_related("user").annotate(
        active=Count("assignments", filter=~Q(assignments__status=ReviewAssignment.Status.CONFLICT)),
        done=Count("assignments", filter=Q(assignments__status=ReviewAssignment.Status.SUBMITTED)),
        conflicts=Count("assignments", filter=Q(assignments__status=ReviewAssignment.Status.CONFLICT)))
    return render(request, "proposals/staff/reviewers.html", {"call": call, "form": form, "panel": panel})


def screening(request: HttpRequest, slug: str) -> HttpResponse:
    call = _call(request, slug)
    if queries.blind_assignments(request.user).filter(reviewer__call=call).exists() and not \
            request.user.has_perm("proposals.decide_call", call):
        raise PermissionDenied  # reviewers score; the table of everyone's scores is for the deciders
    return render(request, "proposals/staff/screening.html", {
        "call": call, "rows": queries.screening_table(call), "decision_form": DecisionForm(),
        "can_decide": request.user.has_perm("proposals.decide_call", call), "screening_open": call.is_screening(),
    })


@require_POST
def decide(request: HttpRequest, slug: str, receipt: str) -> HttpResponse:
    call = _call(request, slug, "proposals.decide_call")
    proposal = get_object_or_404(call.proposals, receipt_number=receipt)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("%(receipt)s: 審査結果と理由を入力してください。") % {"receipt": receipt})
    else:
        try:
            services.proposal_decide(actor=request.user, proposal=proposal, decision=form.cleaned_data["decision"],
                                     reason=form.cleaned_data["reason"])
        except services.ScreeningRefused as exc:
            messages.error(request, f"{receipt}: {exc.message}")
        else:
            _done(request, _("%(receipt)s の審査結果を記録しました。") % {"receipt": receipt})
    return redirect("proposals_staff:screening", slug=slug)


# --- Reviewers' own pages: blind ----------------------------------------------------------------


def _staff(request: HttpRequest) -> User:
    """The signed-in staff member: StaffAreaMiddleware lets nobody else into the staff area."""
    user = request.user
    assert isinstance(user, User), "the staff area's middleware lets only signed-in staff through"
    return user


def my_reviews(request: HttpRequest) -> HttpResponse:
    return render(request, "proposals/staff/my_reviews.html",
                  {"assignments": queries.blind_assignments(request.user)})


def review(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(ReviewAssignment.objects.select_related("reviewer__call"), pk=pk)
    if not request.user.has_perm("proposals.review", assignment):
        raise Http404
    call = assignment.reviewer.call
    criteria = list(call.criteria.all())
    initial: dict[str, int | str] = {f"c{s.criterion_id}": s.value for s in assignment.scores.all()}
    initial["comment"] = assignment.comment
    form = ReviewForm(request.POST or None, criteria=criteria, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.review_submit(actor=_staff(request), assignment=assignment, scores=form.scores(),
                                       comment=form.cleaned_data["comment"])
            except services.ScreeningRefused as exc:
                exc.add_to_form(form)
            else:
                _done(request, _("採点を保存しました。"))
                return redirect("proposals_staff:my_reviews")
        status = 400
    return render(request, "proposals/staff/review.html", {
        "assignment": assignment, "call": call, "proposal": queries.blind_proposal(assignment.pk),
        "form": form, "conflict_form": ConflictForm(),
    }, status=status)


@require_POST
def review_conflict(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(ReviewAssignment.objects.select_related("reviewer"), pk=pk)
    if not request.user.has_perm("proposals.review", assignment):
        raise Http404
    form = ConflictForm(request.POST)
    if form.is_valid():
        try:
            services.review_declare_conflict(actor=_staff(request), assignment=assignment,
                                             reason=form.cleaned_data["reason"])
        except services.ScreeningRefused as exc:
            messages.error(request, exc.message)
        else:
            _done(request, _("利害関係を申告しました。この提案はほかの審査員に割り当て直されました。"))
            return redirect("proposals_staff:my_reviews")
    else:
        messages.error(request, _("利害関係の内容を入力してください。"))
    return redirect("proposals_staff:review", pk=pk)


def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """Staff of the department, or a reviewer of the proposal (who gets a neutral file name)."""
    item = get_object_or_404(Attachment.objects.select_related("proposal__call"), pk=pk)
    call = item.proposal.call
    reviewer = ReviewAssignment.objects.filter(proposal=item.proposal, reviewer__user=_staff(request)).exclude(
        status=ReviewAssignment.Status.CONFLICT).exists()
    if request.user.has_perm("proposals.view_proposer", call):
        name = item.original_name
    elif reviewer:
        index = list(item.proposal.attachments.order_by("pk").values_list("pk", flat=True)).index(item.pk) + 1
        name = f"添付{index}.{item.extension}"
    else:
        raise Http404
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=name, content_type=item.content_type)


# --- Voters ---------------------------------------------------------------------------------------


def voters(request: HttpRequest, slug: str) -> HttpResponse:
    call = _call(request, slug, "proposals.manage_call")
    shortlist = list(queries.shortlist(call))
    form = PaperBallotForm(request.POST or None, call=call, shortlist=shortlist)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            verification = form.verification()
            if verification is None:
                form.add_error(None, _("この方の本人確認の記録がありません。先に「本人確認」で記録してください。"))
            else:
                try:
                    services.paper_ballot_enter(actor=request.user, call=call, verification=verification,
                                                proposal_ids=form.cleaned_data["proposals"],
                                                received_on=form.cleaned_data["received_on"])
                except services.VoteRefused as exc:
                    exc.add_to_form(form)
                else:
                    _done(request, _("%(name)s さんの紙の投票を入力しました。") % {"name": verification.display_name})
                    return redirect("proposals_staff:voters", slug=slug)
        status = 400
    return render(request, "proposals/staff/voters.html", {
        "call": call, "voters": queries.voters(call), "totals": queries.voter_totals(call), "form": form,
    }, status=status)


def verify(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("proposals.verify_voters"):
        raise PermissionDenied
    form = PersonForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                v = services.voter_verify(actor=request.user, user=d["email"], display_name=d["display_name"],
                                          name_kana=d["name_kana"], birth_date=d["birth_date"], address=d["address"],
                                          residency=d["residency"])
            except services.VerificationRefused as exc:
                exc.add_to_form(form)
            else:
                _done(request, _("%(name)s さんの本人確認を記録しました（%(residency)s）。")
                      % {"name": v.display_name, "residency": v.get_residency_display()})
                return redirect("proposals_staff:verify")
        status = 400
    return render(request, "proposals/staff/verify.html", {"form": form}, status=status)


# --- Results and follow-up -------------------------------------------------------------------------


@require_POST
def publish_results(request: HttpRequest, slug: str) -> HttpResponse:
    call = _call(request, slug, "proposals.decide_call")
    try:
        result = services.results_publish(actor=request.user, call=call)
    except services.ProposalsError as exc:
        messages.error(request, exc.message)
    else:
        _done(request, _("結果を公表しました（応募 %(applications)s件、投票 %(voters)s人・%(votes)s票）。")
              % {"applications": result.applications, "voters": result.voters, "votes": result.votes})
    return redirect("proposals_staff:call", slug=slug)


@require_POST
def adopt(request: HttpRequest, slug: str, receipt: str) -> HttpResponse:
    call = _call(request, slug, "proposals.decide_call")
    proposal = get_object_or_404(call.proposals, receipt_number=receipt)
    form = AdoptForm(request.POST, prefix="adopt")
    if form.is_valid():
        try:
            services.proposal_adopt(actor=request.user, proposal=proposal, **form.cleaned_data)
        except services.ProposalsError as exc:
            messages.error(request, exc.message)
        else:
            _done(request, _("%(receipt)s を採用し、事業化の記録を作成しました。") % {"receipt": receipt})
    else:
        messages.error(request, _("採用の理由を入力してください。"))
    return redirect("proposals_staff:proposal", slug=slug, receipt=receipt)


@require_POST
def followup_edit(request: HttpRequest, slug: str, receipt: str) -> HttpResponse:
    call = _call(request, slug, "proposals.manage_call")
    proposal = get_object_or_404(call.proposals.select_related("followup"), receipt_number=receipt)
    followup = getattr(proposal, "followup", None)
    if followup is None:
        raise Http404
    if request.POST.get("milestone"):
        form = MilestoneForm(request.POST, prefix="milestone")
        if form.is_valid():
            services.milestone_add(actor=request.user, followup=followup, **form.cleaned_data)
            _done(request, _("節目を追加しました。"))
        else:
            messages.error(request, _("節目の内容と予定日を入力してください。"))
    else:
        fform = FollowUpForm(request.POST, instance=FollowUpForm.Meta.model.objects.get(pk=followup.pk), prefix="followup")
        if fform.is_valid():
            services.followup_update(actor=request.user, followup=followup, **fform.cleaned_data)
            _done(request, _("事業化の状況を更新しました。"))
        else:
            messages.error(request, _("状況を選んでください。"))
    return redirect("proposals_staff:proposal", slug=slug, receipt=receipt)
