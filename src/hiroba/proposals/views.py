"""Public pages: calls, the proposal form with its confirmation step, voting, results, follow-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from hiroba.accounts.models import User
from hiroba.core import pagecache, throttle
from hiroba.proposals import ballots as ballot_math
from hiroba.proposals import exports, queries, services
from hiroba.proposals.forms import ProposalForm, VoteForm
from hiroba.proposals.models import Call, Phase, Proposal


def _call(slug: str) -> Call:
    return get_object_or_404(queries.public_calls().select_related("department"), slug=slug)


def _account(request: HttpRequest) -> User:
    """The signed-in account, for views behind `login_required` (never the anonymous user there)."""
    user = request.user
    assert isinstance(user, User), "login_required lets only signed-in accounts through"
    return user


def _resident_only(request: HttpRequest, what: str) -> HttpResponse | None:
    if not _account(request).is_resident:
        return render(request, "403.html", {"reason": _("%(what)sは区民等のアカウントで行ってください。") % {"what": what}}, status=403)
    return None


def call_list(request: HttpRequest) -> HttpResponse:
    return render(request, "proposals/call_list.html", {"calls": queries.public_calls().select_related("department")})


def call_detail(request: HttpRequest, slug: str) -> HttpResponse:
    call = _call(slug)
    return render(request, "proposals/call_detail.html", {
        "call": call, "phase": call.phase(), "Phase": Phase,
        "criteria": call.criteria.all(), "proposals": queries.public_proposals(call),
    })


def proposal_public(request: HttpRequest, slug: str, receipt: str) -> HttpResponse:
    call = _call(slug)
    proposal = get_object_or_404(queries.public_proposals(call).select_related("followup"), receipt_number=receipt)
    return render(request, "proposals/proposal_public.html", {"call": call, "proposal": proposal})


@login_required
@throttle.throttle("proposals.submit", key=throttle.account)
def propose(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """The proposal form: a new draft, a draft being corrected, or a received proposal being edited."""
    call = _call(slug)
    if (refusal := _resident_only(request, pgettext("resident-only action", "提案"))) is not None:
        return refusal
    proposal = None
    if pk is not None:
        proposal = get_object_or_404(Proposal, pk=pk, call=call, proposer=request.user)
    if not call.is_submission_open():
        return render(request, "proposals/closed.html", {
            "call": call, "message": f"募集期間（{call.submission_start:%Y年%m月%d日}〜{call.submission_end:%Y年%m月%d日}）外のため、"
                                     "提案の受付・修正はできません。"}, status=403)
    initial: dict[str, Any] = {}
    if proposal is not None:
        initial = {f: getattr(proposal, f) for f in services.TEXT_FIELDS}
    form = ProposalForm(request.POST or None, request.FILES or None, initial=initial, proposal=proposal)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                proposal = services.proposal_save(
                    proposer=_account(request), call=call, proposal=proposal,
                    proposer_category=data["proposer_category"], proposer_label=data["proposer_label"],
                    title=data["title"], problem=data["problem"], idea=data["idea"],
                    beneficiaries=data["beneficiaries"], new_files=data["attachments"],
                    remove_attachment_ids=[int(x) for x in data.get("remove_attachments") or []],
                )
            except services.SubmissionRefused as exc:
                exc.add_to_form(form)
            else:
                if proposal.status == Proposal.Status.DRAFT:
                    return redirect("proposals:confirm", slug=call.slug, pk=proposal.pk)
                messages.success(request, _("受付番号 %(receipt)s の提案を更新しました。") % {"receipt": proposal.receipt_number})
                return redirect("proposals:mine")
        status = 400
    return render(request, "proposals/propose.html", {"call": call, "form": form, "proposal": proposal},
                  status=status)


@login_required
@throttle.throttle("proposals.submit", key=throttle.account)
def confirm(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The confirmation step: nothing is received until the resident presses 送信する."""
    call = _call(slug)
    proposal = get_object_or_404(Proposal, pk=pk, call=call, proposer=request.user)
    if proposal.status == Proposal.Status.SUBMITTED:
        return redirect("proposals:done", slug=call.slug, pk=proposal.pk)
    if request.method == "POST":
        try:
            services.proposal_submit(proposer=_account(request), proposal=proposal)
        except services.SubmissionRefused as exc:
            messages.error(request, exc.message)
            return redirect("proposals:call", slug=call.slug)
        return redirect("proposals:done", slug=call.slug, pk=proposal.pk)
    return render(request, "proposals/confirm.html", {"call": call, "proposal": proposal})


@login_required
def done(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    call = _call(slug)
    proposal = get_object_or_404(Proposal, pk=pk, call=call, proposer=request.user,
                                 status=Proposal.Status.SUBMITTED)
    return render(request, "proposals/done.html", {"call": call, "proposal": proposal})


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    return render(request, "proposals/mine.html", {"proposals": queries.my_proposals(request.user)})


@login_required
@throttle.throttle("proposals.vote", key=throttle.account)
def vote(request: HttpRequest, slug: str) -> HttpResponse:
    call = _call(slug)
    if (refusal := _resident_only(request, pgettext("resident-only action", "投票"))) is not None:
        return refusal
    shortlist = list(queries.shortlist(call))
    eligibility = services.voter_eligibility(user=request.user, call=call)
    chosen = services.my_choices(voter=request.user, call=call)
    form = VoteForm(request.POST or None, call=call, shortlist=shortlist,
                    initial={"proposals": [str(p) for p in chosen]})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.ballot_replace(voter=request.user, call=call, proposal_ids=form.cleaned_data["proposals"],
                                        idempotency_key=form.cleaned_data["idempotency_key"])
            except services.AlreadyProcessed as exc:
                messages.info(request, exc.message)
                return redirect("proposals:vote", slug=call.slug)
            except services.VoteRefused as exc:
                exc.add_to_form(form)
                status = 409 if exc.code in ("closed", "replayed") else 400
            else:
                n = len(form.cleaned_data["proposals"])
                messages.success(request, ngettext("投票を受け付けました（%(n)s票）。締切までは何度でも変更できます。",
                                           "投票を受け付けました（%(n)s票）。締切までは何度でも変更できます。", n) % {"n": n}
                                 if n else _("投票をすべて取り消しました。"))
                return redirect("proposals:vote", slug=call.slug)
        else:
            status = 400
    return render(request, "proposals/vote.html", {
        "call": call, "form": form, "eligibility": eligibility, "chosen": chosen, "shortlist": shortlist,
        "open": call.is_voting_open(),
    }, status=status)


@pagecache.public_page("proposals")
def results(request: HttpRequest, slug: str) -> HttpResponse:
    call = _call(slug)
    if not hasattr(call, "result"):
        return render(request, "proposals/closed.html", {"call": call, "message": _("結果はまだ公表されていません。")},
                      status=404)
    recount = services.tally(call)
    receipts = dict(call.proposals.exclude(receipt_number=None).values_list("pk", "receipt_number"))
    recount_ok = {receipts[k]: v for k, v in recount.items()} == call.result.tally
    return render(request, "proposals/results.html", {
        "call": call, "result": call.result, "rows": queries.result_rows(call), "recount_ok": recount_ok,
    })


EXPORTS = {
    "csv": (exports.results_csv, "text/csv; charset=utf-8", "results.csv"),
    "xlsx": (exports.results_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "results.xlsx"),
    "json": (exports.results_json, "application/json; charset=utf-8", "results.json"),
    "ballots": (exports.ballots_json, "application/json; charset=utf-8", "ballots.json"),
    "ballots.txt": (exports.ballots_text, "text/plain; charset=utf-8", "ballots.txt"),
    "ballots.csv": (exports.ballots_csv, "text/csv; charset=utf-8", "ballots.csv"),
}


def results_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    call = _call(slug)
    if fmt not in EXPORTS or not hasattr(call, "result"):
        raise Http404
    build, content_type, name = EXPORTS[fmt]
    response = HttpResponse(build(call), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{call.slug}-{name}"'
    return response


def verifier(request: HttpRequest) -> HttpResponse:
    """The stand-alone verifier, the very module this server counts with (standard library only)."""
    response = HttpResponse(Path(ballot_math.__file__).read_bytes(), content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ballots.py"'
    return response


def followups(request: HttpRequest) -> HttpResponse:
    return render(request, "proposals/followups.html", {"followups": queries.public_followups(),
                                                       "today": timezone.localdate()})

