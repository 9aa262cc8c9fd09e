"""Staff screens for the opinion analysis of a case (/staff/consultations/<slug>/analysis/):
start a run and follow its progress, see campaigns and same-intent groups with their evidence,
answer a whole campaign or group at once. Business rules live in `opinion_analysis`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from hiroba.consultations import opinion_analysis as analysis
from hiroba.consultations import services
from hiroba.consultations.staff_views import _case, _fail
from hiroba.core.forms import set_choices


class ClusterAnswerForm(forms.Form):
    """One answer for the ticked members of a campaign or group."""

    members = forms.TypedMultipleChoiceField(
        label=gettext_lazy("回答する意見"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("回答する意見を選んでください。")},
    )
    text = forms.CharField(
        label=gettext_lazy("区の考え方"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": gettext_lazy("区の考え方を入力してください。")},
    )
    one_row = forms.BooleanField(label=gettext_lazy("一つの行で公表する"), required=False)

    def __init__(self, *args: Any, cluster: analysis.Cluster, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "members", [(m.item.number, f"No.{m.item.number}") for m in cluster.members])
        if cluster.kind != "campaign":
            del self.fields["one_row"]


def overview(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug)
    run = analysis.latest_run(case)
    finished = analysis.latest_finished_run(case, with_report=True)
    return render(
        request,
        "consultations/staff/analysis.html",
        {
            "case": case,
            "run": run,
            "finished": finished,
            "stage_label": analysis.STAGE_LABELS.get(run.stage, run.stage) if run else "",
            "campaigns": analysis.clusters(finished, "campaign") if finished else [],
            "groups": analysis.clusters(finished, "group") if finished else [],
            "signals": analysis.signals(finished) if finished else None,
            "outdated": bool(finished and analysis.is_outdated(finished)),
            "can_change": request.user.has_perm("consultations.change_case", case),
        },
    )


@require_POST
def start(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug, "consultations.change_case")
    try:
        analysis.analysis_request(actor=request.user, case=case)
    except services.ConsultationError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("分析を開始しました。進み具合はこの画面に表示されます。"))
    return redirect("consultations_staff:analysis", slug=slug)


@require_GET
def progress(request: HttpRequest, slug: str) -> JsonResponse:
    case = _case(request, slug)
    run = analysis.latest_run(case)
    if run is None:
        return JsonResponse({"state": "none"})
    stage = str(analysis.STAGE_LABELS.get(run.stage, run.stage))
    return JsonResponse(
        {
            "state": run.state,
            "state_label": run.get_state_display(),
            "stage": stage,
            "done": run.done,
            "total": run.total,
            "percent": run.percent,
            "text": _("%(state)s：%(stage)s（%(percent)s%%）")
            % {"state": run.get_state_display(), "stage": stage, "percent": run.percent},
        }
    )


def cluster_detail(request: HttpRequest, slug: str, kind: str, key: str) -> HttpResponse:
    case = _case(request, slug)
    run = analysis.latest_finished_run(case, with_report=True)
    found = analysis.cluster(run, kind, key) if run else None
    if run is None or found is None:
        raise Http404(_("この分析結果は見つかりません。分析をやり直した場合は、一覧から選び直してください。"))
    can_change = request.user.has_perm("consultations.change_case", case)
    stored = analysis.suggestions_of(run, found.lead) if found.lead else None
    suggestion = next(iter(stored.suggested), None) if stored else None
    form = ClusterAnswerForm(
        cluster=found,
        initial={
            "members": [m.item.number for m in found.members],
            "one_row": found.published_as_one_row,
            "text": _current_answer(found) or (suggestion or {}).get("answer", ""),
        },
    )
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(_("回答を作成する権限がありません。"))
        if request.POST.get("action") == "one_row_undo" and found.lead is not None:
            return _one_row_undo(request, slug, found)
        form = ClusterAnswerForm(request.POST, cluster=found)
        if form.is_valid():
            chosen = set(form.cleaned_data["members"])
            # the representative (or centre) leads: its row stands for the others
            items = sorted(
                (m.item for m in found.members if m.item.number in chosen), key=lambda i: (i != found.lead, i.number)
            )
            try:
                analysis.answer_many(
                    actor=request.user,
                    case=case,
                    items=items,
                    text=form.cleaned_data["text"],
                    one_row=form.cleaned_data.get("one_row", False),
                )
            except services.ConsultationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(n)s件の意見に同じ区の考え方を保存しました。",
                        "%(n)s件の意見に同じ区の考え方を保存しました。",
                        len(items),
                    )
                    % {"n": len(items)},
                )
                return redirect("consultations_staff:analysis_cluster", slug=slug, kind=kind, key=key)
        status = 400
    return render(
        request,
        "consultations/staff/analysis_cluster.html",
        {
            "case": case,
            "run": run,
            "cluster": found,
            "form": form,
            "suggestion": suggestion,
            "no_suggestion": stored if stored and not suggestion else None,
            "can_answer": can_change and not case.answers_locked,
            "chosen": {int(n) for n in form["members"].value() or [] if str(n).isdigit()},
        },
        status=status,
    )


def _one_row_undo(request: HttpRequest, slug: str, found: analysis.Cluster) -> HttpResponse:
    assert found.lead is not None
    try:
        analysis.one_row_undo(actor=request.user, item=found.lead)
    except services.ConsultationError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("同一の意見を、それぞれの行で公表するように戻しました。"))
    return redirect("consultations_staff:analysis_cluster", slug=slug, kind=found.kind, key=found.key)


def _current_answer(found: analysis.Cluster) -> str:
    """The answer already shared by every member, if there is one."""
    answers = {m.item.answer_id for m in found.members}
    if len(answers) == 1 and found.members and found.members[0].item.answer is not None:
        return found.members[0].item.answer.text
    return ""
