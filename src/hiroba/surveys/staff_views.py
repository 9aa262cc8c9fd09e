"""Staff pages: the surveys of one's departments, results with charts, answering, downloads."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hiroba.accounts.models import Role
from hiroba.accounts.permissions import departments_visible_to
from hiroba.core.errors import ServiceError, flashed
from hiroba.core.paging import page_of
from hiroba.surveys import exports, queries, services
from hiroba.surveys.forms import AnswerForm, SurveyForm
from hiroba.surveys.models import Response, Survey


def _download(body: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=\"survey.{filename.rsplit('.', 1)[-1]}\"; " \
                                      f"filename*=UTF-8''{quote(filename)}"
    return response


def _survey(request: HttpRequest, pk: int, *, change: bool = False) -> Survey:
    survey = get_object_or_404(queries.surveys_for(request.user), pk=pk)
    if change and not request.user.has_perm("surveys.change_survey", survey):
        raise PermissionDenied(_("このアンケートを変更する権限がありません。"))
    return survey


@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    page = page_of(request, queries.surveys_for(request.user).order_by("-created_at", "-id"), 30)
    answered = set(Response.objects.filter(
        respondent_key__in=[services.respondent_key(s, request.user) for s in queries.open_surveys()]
    ).values_list("survey_id", flat=True))
    to_answer = [s for s in queries.open_surveys() if s.pk not in answered]
    return render(request, "surveys/staff/list.html", {"page": page, "to_answer": to_answer})


@require_http_methods(["GET", "POST"])
def survey_new(request: HttpRequest) -> HttpResponse:
    from hiroba.accounts import permissions

    ids = permissions.department_ids(request.user, Role.HANDLE)
    departments = departments_visible_to(request.user)
    if ids is not None:
        departments = departments.filter(id__in=ids)
    if not departments.exists():
        raise PermissionDenied(_("アンケートを作成できる所属がありません。"))
    form = SurveyForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.survey_create(
                actor=request.user, title=form.cleaned_data["title"], department=form.cleaned_data["department"],
                description=form.cleaned_data["description"], anonymous=form.cleaned_data["anonymous"],
                questions=form.questions(),
            )
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("アンケートを作成しました。"))
            return HttpResponseRedirect(reverse("surveys_staff:detail", args=[survey.pk]))
    return render(request, "surveys/staff/new.html", {"form": form})


@require_GET
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    res = queries.results(survey, texts_limit=200)
    return render(request, "surveys/staff/detail.html", {
        "survey": survey, "results": res, "chart": exports.likert_chart(res),
        "can_change": request.user.has_perm("surveys.change_survey", survey),
    })


@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, pk: int) -> HttpResponse:
    survey = get_object_or_404(queries.open_surveys(), pk=pk)
    form = AnswerForm(request.POST or None, survey=survey)
    if request.method == "POST" and form.is_valid():
        try:
            services.response_submit(actor=request.user, survey=survey, answers=form.answers())
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("回答を送信しました。ご協力ありがとうございました。"))
            return HttpResponseRedirect(reverse("surveys_staff:list"))
    return render(request, "surveys/staff/answer.html", {"survey": survey, "form": form})


@require_POST
def survey_open(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk, change=True)
    with flashed(request, _("回答の受付を始めました。")):
        services.survey_open(actor=request.user, survey=survey)
    return HttpResponseRedirect(reverse("surveys_staff:detail", args=[survey.pk]))


@require_POST
def survey_close(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk, change=True)
    with flashed(request, _("回答の受付を締め切りました。")):
        services.survey_close(actor=request.user, survey=survey)
    return HttpResponseRedirect(reverse("surveys_staff:detail", args=[survey.pk]))


@require_GET
def results_csv(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    return _download(exports.to_csv(survey), f"{survey.title}_集計.csv", "text/csv; charset=utf-8")


@require_GET
def answers_csv(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    return _download(exports.answers_csv(survey), f"{survey.title}_回答.csv", "text/csv; charset=utf-8")


@require_GET
def results_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    return _download(exports.to_xlsx(survey), f"{survey.title}.xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
