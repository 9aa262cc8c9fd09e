"""Staff screens for the opinion analysis of a case (/staff/consultations/<slug>/analysis/)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hiroba.consultations import analysis, services
from hiroba.consultations.staff_views import _case, _fail


def overview(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug)
    run = analysis.latest_run(case)
    finished = analysis.latest_finished_run(case)
    current = analysis.analysis_items(case)
    return render(request, "consultations/staff/analysis.html", {
        "case": case, "run": run, "finished": finished,
        "stage_label": analysis.STAGE_LABELS.get(run.stage, run.stage) if run else "",
        "campaigns": analysis.clusters(finished, "campaign") if finished else [],
        "groups": analysis.clusters(finished, "group") if finished else [],
        "signals": (finished.report or {}).get("signals", {}) if finished else {},
        "stale": bool(finished and finished.input_digest != analysis.input_digest(current)),
        "can_change": request.user.has_perm("consultations.change_case", case),
    })


@require_POST
def start(request: HttpRequest, slug: str) -> HttpResponse:
    case = _case(request, slug, "consultations.change_case")
    try:
        analysis.analysis_request(actor=request.user, case=case)
        messages.success(request, "分析を開始しました。進み具合はこの画面に表示されます。")
    except services.ConsultationError as exc:
        _fail(request, exc)
    return redirect("consultations_staff:analysis", slug=slug)


def progress(request: HttpRequest, slug: str) -> JsonResponse:
    case = _case(request, slug)
    run = analysis.latest_run(case)
    if run is None:
        return JsonResponse({"state": "none"})
    return JsonResponse({"state": run.state, "state_label": run.get_state_display(),
                         "stage": analysis.STAGE_LABELS.get(run.stage, run.stage), "done": run.done,
                         "total": run.total, "percent": run.percent})


def cluster_detail(request: HttpRequest, slug: str, kind: str, key: str) -> HttpResponse:
    case = _case(request, slug)
    run = analysis.latest_finished_run(case)
    found = analysis.cluster(run, kind, key) if run and kind in ("campaign", "group") else None
    if found is None:
        raise Http404("この分析結果は見つかりません。分析をやり直した場合は一覧から選び直してください。")
    can_change = request.user.has_perm("consultations.change_case", case)
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("回答を作成する権限がありません。")
        chosen = {int(n) for n in request.POST.getlist("items") if n.isdigit()}
        items = [i for i in found.items if i.number in chosen]
        try:
            analysis.answer_many(actor=request.user, case=case, items=items, text=request.POST.get("text", ""),
                                 one_row=kind == "campaign" and request.POST.get("one_row") == "1")
            messages.success(request, f"{len(items)}件の意見に同じ区の考え方を保存しました。")
            return redirect("consultations_staff:analysis_cluster", slug=slug, kind=kind, key=key)
        except services.ConsultationError as exc:
            _fail(request, exc)
            status = 400
    suggestion = None
    if found.representative is not None:
        info = analysis.item_analysis(run, found.representative)
        suggestion = info.suggestions[0] if info and info.suggestions else None
    return render(request, "consultations/staff/analysis_cluster.html", {
        "case": case, "run": run, "cluster": found, "can_change": can_change and not case.answers_locked,
        "suggestion": suggestion, "text": request.POST.get("text", "") if request.method == "POST" else "",
    }, status=status)
