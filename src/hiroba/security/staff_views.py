"""Staff pages under /staff/security/: the CISO office's dashboard, each department's queue,
systems and diagnoses, findings with their workflow, risk acceptance, audits, incidents and
drills, training and policy. Records outside the user's departments are 404 (scoped querysets)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hiroba.accounts.models import Role
from hiroba.core import charts
from hiroba.core.errors import ServiceError, flashed
from hiroba.core.forms import cleaned_or_refuse
from hiroba.core.models import AuditEntry, Department
from hiroba.core.paging import page_of
from hiroba.security import (
    access,
    audits,
    conf,
    exports,
    forms,
    importing,
    incidents,
    policy,
    queries,
    services,
    training,
)
from hiroba.security.models import (
    ACTIVE_STATUSES,
    ChecklistItem,
    Course,
    Finding,
    FindingStatus,
    ImprovementAction,
    Incident,
    Playbook,
    PolicyDocument,
    PolicyVersion,
    RiskAcceptance,
    Severity,
)


def _download(body: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    ascii_name = "security." + filename.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response


def _departments(request: HttpRequest, minimum: Role = Role.HANDLE) -> Any:
    ids = access.OFFICE.department_ids(request.user, minimum)
    qs = Department.objects.filter(is_active=True).select_related("parent")
    return qs if ids is None else qs.filter(pk__in=ids)


# --- home, dashboards -------------------------------------------------------------------------

@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("security.view_dashboard"):
        return HttpResponseRedirect(reverse("security_staff:queue"))
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else None
    dash = queries.ciso_dashboard(request.user, fiscal_year=year)
    grades = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]
    severity_chart = charts.bar_chart(_("危険度別の未対応の検出事項（詳細は下の表）"),
                                      [(str(g.label), dash.findings.totals.get(g, 0)) for g in grades],
                                      chart_id="chart-severity", unit=_("件"), label_width=80)
    year_chart = charts.bar_chart(_("年度別の診断したサイト数（詳細は下の表）"),
                                  [(str(y), n) for y, n in reversed(dash.diagnosed_by_year)],
                                  chart_id="chart-years", unit=_("件"), label_width=80)
    return render(request, "security/staff/dashboard.html", {
        "dash": dash, "severity_chart": severity_chart, "year_chart": year_chart, "grades": grades,
        "years": sorted({c.fiscal_year for c in Course.objects.only("fiscal_year")} | {dash.fiscal_year},
                        reverse=True),
    })


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """A department's queue: what it still has to fix, most urgent first."""
    departments = _departments(request, Role.READ)
    chosen = None
    raw = request.GET.get("department", "")
    if raw.isdigit():
        chosen = get_object_or_404(departments, pk=int(raw))
    qs = queries.department_queue(request.user, chosen)
    grade = request.GET.get("severity", "")
    if grade.isdigit():
        qs = qs.filter(severity=int(grade))
    return render(request, "security/staff/queue.html", {
        "page": page_of(request, qs), "departments": departments, "chosen": chosen, "grade": grade,
        "grades": [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW], "today": timezone.localdate(),
        "pending": queries.pending_acceptances_for_approver(request.user)[:20],
    })


@require_GET
def overdue(request: HttpRequest) -> HttpResponse:
    dash = queries.overdue_dashboard(request.user)
    return render(request, "security/staff/overdue.html", {"dash": dash, "grades": [
        Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]})


@require_POST
def posture_run(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("security.manage_register"):
        raise PermissionDenied(_("点検の実行は情報システム課が行います。"))
    from hiroba.security import posture

    check = posture.posture_check(actor=request.user)
    messages.success(request, _("点検しました（監査ログ %(n)s 件）。") % {"n": check.chain_entries})
    return HttpResponseRedirect(reverse("security_staff:home"))


# --- systems and diagnoses --------------------------------------------------------------------

@require_GET
def system_list(request: HttpRequest) -> HttpResponse:
    qs = queries.systems_for(request.user).annotate(
        open_count=Count("findings", filter=Q(findings__status__in=ACTIVE_STATUSES,
                                              findings__severity__gte=Severity.LOW)),
        round_count=Count("rounds", distinct=True),
    ).order_by("department__sort_order", "name")
    return render(request, "security/staff/system_list.html", {
        "page": page_of(request, qs), "by_year": queries.diagnosed_by_year(request.user),
        "can_add": _departments(request).exists(),
    })


@require_http_methods(["GET", "POST"])
def system_new(request: HttpRequest) -> HttpResponse:
    departments = _departments(request)
    if not departments.exists():
        raise PermissionDenied(_("システムを登録できる所属がありません。"))
    form = forms.SystemForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            system = services.system_create(actor=request.user, url=d["url"], name=d["name"],
                                            department=d["department"], hosting=d["hosting"],
                                            holds_personal_data=d["holds_personal_data"],
                                            personal_data_note=d["personal_data_note"])
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("システムを登録しました。"))
            return HttpResponseRedirect(reverse("security_staff:system", args=[system.pk]))
    return render(request, "security/staff/form.html", {"form": form, "title": _("システムを登録")})


def _system(request: HttpRequest, pk: int) -> Any:
    return get_object_or_404(queries.systems_for(request.user), pk=pk)


@require_GET
def system_detail(request: HttpRequest, pk: int) -> HttpResponse:
    system = _system(request, pk)
    findings = exports.findings_of(system)
    status = request.GET.get("status", "active")
    if status == "active":
        findings = findings.filter(status__in=ACTIVE_STATUSES)
    elif status in FindingStatus.values:
        findings = findings.filter(status=status)
    return render(request, "security/staff/system_detail.html", {
        "system": system, "rounds": page_of(request, system.rounds.select_related("imported_by"), per_page=20, param="rounds"),
        "page": page_of(request, findings), "status": status, "statuses": FindingStatus.choices,
        "can_import": request.user.has_perm("security.import_round", system),
        "report": exports.build_report(system),
    })


@require_http_methods(["GET", "POST"])
def system_edit(request: HttpRequest, pk: int) -> HttpResponse:
    system = _system(request, pk)
    if not request.user.has_perm("security.import_round", system):
        raise PermissionDenied(_("このシステムを変更する権限がありません。"))
    form = forms.SystemForm(request.POST or None, departments=_departments(request), initial={
        "url": system.url, "name": system.name, "department": system.department, "hosting": system.hosting,
        "holds_personal_data": system.holds_personal_data, "personal_data_note": system.personal_data_note})
    if request.method == "POST" and form.is_valid():
        try:
            services.system_update(actor=request.user, system=system, **form.cleaned_data)
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("システムの登録内容を変更しました。"))
            return HttpResponseRedirect(reverse("security_staff:system", args=[system.pk]))
    return render(request, "security/staff/form.html", {
        "form": form, "title": _("システムの登録内容を変更"), "back": reverse("security_staff:system", args=[system.pk])})


@require_http_methods(["GET", "POST"])
def system_import(request: HttpRequest, pk: int) -> HttpResponse:
    system = _system(request, pk)
    if not request.user.has_perm("security.import_round", system):
        raise PermissionDenied(_("このシステムの診断結果を取り込む権限がありません。"))
    limit = conf.get("SECURITY_MAX_REPORT_BYTES")
    if request.method == "POST" and int(request.META.get("CONTENT_LENGTH") or 0) > limit + 64 * 1024:
        # Refused from the request's length alone: the upload is never read, let alone parsed.
        form = forms.ImportForm()
        form.add_error(None, _("ファイルが大きすぎます。取り込めるのは %(mb)s MB までです。") % {"mb": limit // 1024 // 1024})
        return render(request, "security/staff/import.html", {"system": system, "form": form}, status=413)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["report"]
        try:
            result = importing.round_import(actor=request.user, system=system, stream=upload.file,
                                            filename=upload.name, fmt=form.cleaned_data["format"] or None,
                                            performed_on=form.cleaned_data["performed_on"])
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("取り込みました: 新規 %(new)s 件、継続 %(unchanged)s 件、解消 %(closed)s 件、"
                                        "再発 %(reopened)s 件。") % {"new": result.new, "unchanged": result.unchanged,
                                                                   "closed": result.closed,
                                                                   "reopened": result.reopened})
            return HttpResponseRedirect(reverse("security_staff:system", args=[system.pk]))
    status = 400 if request.method == "POST" else 200
    return render(request, "security/staff/import.html", {"system": system, "form": form}, status=status)


@require_GET
def system_report(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    system = _system(request, pk)
    name = f"{system.name}_結果報告書"
    if fmt == "pdf":
        return _download(exports.report_pdf(system), f"{name}.pdf", "application/pdf")
    if fmt == "xlsx":
        return _download(exports.report_xlsx(system), f"{name}.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if fmt == "csv":
        return _download(exports.findings_csv(system), f"{system.name}_検出事項.csv", "text/csv; charset=utf-8")
    return _download(exports.findings_json(system), f"{system.name}_検出事項.json", "application/json")


@require_GET
def template_download(request: HttpRequest, fmt: str) -> HttpResponse:
    from hiroba.core import tabular
    from hiroba.security.parsers import TEMPLATE_COLUMNS, iter_template_rows

    table = tabular.Table(columns=[tabular.Column(h, attr, width=16) for h, attr, _r in TEMPLATE_COLUMNS],
                          rows=list(iter_template_rows()), sheet="検出事項")
    if fmt == "xlsx":
        return _download(tabular.to_xlsx(table), "診断結果テンプレート.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return _download(tabular.to_csv(table), "診断結果テンプレート.csv", "text/csv; charset=utf-8")


# --- findings -----------------------------------------------------------------------------------

def _finding(request: HttpRequest, pk: int) -> Finding:
    return get_object_or_404(queries.findings_for(request.user), pk=pk)


@require_GET
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding(request, pk)
    history = AuditEntry.objects.filter(object_type="security.finding", object_id=str(finding.pk)).order_by("seq")
    return render(request, "security/staff/finding_detail.html", {
        "finding": finding, "buttons": [t for t in Finding.workflow.available(finding, request.user)
                                        if t.name != "accept_risk"],
        "acceptances": finding.acceptances.select_related("requested_by", "approver"),
        "can_request_risk": (finding.status in ACTIVE_STATUSES
                             and request.user.has_perm("security.request_risk", finding)),
        "risk_form": forms.RiskRequestForm(), "reason_form": forms.ReasonForm(), "history": history,
        "rounds": {r.pk: r for r in finding.system.rounds.filter(
            pk__in=[finding.first_round_id, finding.last_round_id, finding.closed_round_id or 0])},
    })


@require_POST
def finding_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    finding = _finding(request, pk)
    form = forms.ReasonForm(request.POST)
    form.is_valid()
    with flashed(request, _("対応状況を更新しました。")):
        services.finding_transition(actor=request.user, finding=finding, name=name,
                                    reason=form.cleaned_data.get("reason", ""))
    return HttpResponseRedirect(reverse("security_staff:finding", args=[finding.pk]))


@require_POST
def risk_request(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding(request, pk)
    form = forms.RiskRequestForm(request.POST)
    if form.is_valid():
        with flashed(request, _("リスク受容を申請しました。所属の承認者が判断します。")):
            services.risk_request(actor=request.user, finding=finding, reason=form.cleaned_data["reason"],
                                  expires_on=form.cleaned_data["expires_on"])
    else:
        messages.error(request, _("受容の理由と期限を入力してください。"))
    return HttpResponseRedirect(reverse("security_staff:finding", args=[finding.pk]))


@require_http_methods(["GET", "POST"])
def risk_decide(request: HttpRequest, pk: int) -> HttpResponse:
    acceptance = get_object_or_404(queries.acceptances_for(request.user), pk=pk)
    form = forms.RiskDecideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.risk_decide(actor=request.user, acceptance=acceptance,
                                 approve=form.cleaned_data["decision"] == "approve", note=form.cleaned_data["note"])
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("リスク受容を判断しました。"))
            return HttpResponseRedirect(reverse("security_staff:finding", args=[acceptance.finding_id]))
    return render(request, "security/staff/risk_decide.html", {"acceptance": acceptance, "form": form})


# --- audits ---------------------------------------------------------------------------------------

@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    qs = queries.audits_for(request.user).annotate(
        issue_count=Count("evaluations", filter=Q(evaluations__kind="issue"), distinct=True),
        open_actions=Count("evaluations__actions", filter=~Q(evaluations__actions__state="closed"), distinct=True),
    ).order_by("-starts_on", "id")
    actions = queries.actions_for(request.user).order_by("state", "due_on")
    follow_up = (actions.values("evaluation__audit__fiscal_year", "state").annotate(n=Count("id"))
                 .order_by("-evaluation__audit__fiscal_year", "state"))
    return render(request, "security/staff/audit_list.html", {"page": page_of(request, qs), "follow_up": follow_up})


@require_GET
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(queries.audits_for(request.user), pk=pk)
    evaluations = record.evaluations.prefetch_related("actions__department")
    return render(request, "security/staff/audit_detail.html", {
        "audit": record, "goods": [e for e in evaluations if e.kind == "good"],
        "issues": [e for e in evaluations if e.kind == "issue"], "submit_form": forms.ActionSubmitForm(),
        "reason_form": forms.ReasonForm(),
    })


@require_POST
def action_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    action = get_object_or_404(queries.actions_for(request.user).select_related("evaluation__audit"), pk=pk)
    with flashed(request, _("是正措置を更新しました。")):
        if name == "submit":
            data = cleaned_or_refuse(forms.ActionSubmitForm(request.POST, request.FILES),
                                     _("完了報告（実施した内容）を入力してください。"), code="note_required")
            audits.action_submit(actor=request.user, action=action, note=data["note"], evidence=data["evidence"])
        else:
            reason = forms.ReasonForm(request.POST)
            reason.is_valid()
            audits.action_decide(actor=request.user, action=action, close=name == "close",
                                 reason=reason.cleaned_data.get("reason", ""))
    return HttpResponseRedirect(reverse("security_staff:audit", args=[action.evaluation.audit_id]))


# --- incidents and drills ---------------------------------------------------------------------------

@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    qs = queries.incidents_for(request.user).order_by("-detected_at", "-id")
    kind = request.GET.get("kind", "")
    if kind == "drill":
        qs = qs.filter(is_drill=True)
    elif kind == "incident":
        qs = qs.filter(is_drill=False)
    return render(request, "security/staff/incident_list.html", {
        "page": page_of(request, qs), "kind": kind,
        "can_add": _departments(request).exists(),
    })


@require_http_methods(["GET", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    departments = _departments(request)
    if not departments.exists():
        raise PermissionDenied(_("インシデントを登録できる所属がありません。"))
    form = forms.IncidentForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            incident = incidents.incident_create(actor=request.user, title=d["title"], description=d["description"],
                                                 channel=d["channel"], department=d["department"], level=d["level"],
                                                 personal_data=d["personal_data"])
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            return HttpResponseRedirect(reverse("security_staff:incident", args=[incident.pk]))
    return render(request, "security/staff/form.html", {"form": form, "title": _("インシデントを登録")})


def _incident(request: HttpRequest, pk: int) -> Incident:
    return get_object_or_404(queries.incidents_for(request.user), pk=pk)


@require_http_methods(["GET", "POST"])
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    can_change = request.user.has_perm("security.change_incident", incident)
    facts = forms.IncidentFactsForm(request.POST if request.method == "POST" else None, initial={
        name: getattr(incident, name) for name in forms.IncidentFactsForm.base_fields})
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(_("このインシデントを更新する権限がありません。"))
        if facts.is_valid():
            try:
                incidents.incident_update(actor=request.user, incident=incident, **facts.cleaned_data)
            except ServiceError as exc:
                exc.add_to_form(facts)
            else:
                messages.success(request, _("記録を更新しました。"))
                return HttpResponseRedirect(reverse("security_staff:incident", args=[incident.pk]))
    return render(request, "security/staff/incident_detail.html", {
        "incident": incident, "facts": facts, "can_change": can_change,
        "timeline": incident.timeline.select_related("recorded_by"),
        "checklist": incident.checklist.select_related("playbook", "done_by"),
        "improvements": incident.improvements.select_related("department"),
        "playbooks": Playbook.objects.exclude(pk__in=incident.checklist.values("playbook_id")),
        "buttons": Incident.workflow.available(incident, request.user), "timeline_form": forms.TimelineForm(),
        "improvement_form": forms.ImprovementForm(departments=_departments(request), initial={
            "department": incident.department_id}),
    })


def _incident_timeline(request: HttpRequest, incident: Incident) -> None:
    data = cleaned_or_refuse(forms.TimelineForm(request.POST), _("経過の内容を入力してください。"), code="text_required")
    when = data["occurred_at"]
    if isinstance(when, datetime) and timezone.is_naive(when):
        when = timezone.make_aware(when)
    incidents.timeline_append(actor=request.user, incident=incident, text=data["text"], kind=data["kind"],
                              occurred_at=when)


def _incident_checklist(request: HttpRequest, incident: Incident) -> None:
    playbook = get_object_or_404(Playbook, pk=request.POST.get("playbook") or 0)
    incidents.checklist_attach(actor=request.user, incident=incident, playbook=playbook)


def _incident_tick(request: HttpRequest, incident: Incident) -> None:
    item = get_object_or_404(ChecklistItem, pk=request.POST.get("item") or 0, incident=incident)
    incidents.checklist_tick(actor=request.user, item=item)


def _incident_improvement_add(request: HttpRequest, incident: Incident) -> None:
    incidents.improvement_create(actor=request.user, incident=incident, **cleaned_or_refuse(
        forms.ImprovementForm(request.POST, departments=_departments(request)),
        _("意見・気づきと担当所属を入力してください。"), code="improvement_invalid"))


def _incident_improvement_close(request: HttpRequest, incident: Incident) -> None:
    point = get_object_or_404(ImprovementAction, pk=request.POST.get("item") or 0, incident=incident)
    incidents.improvement_close(actor=request.user, item=point, note=request.POST.get("note", ""))


# The incident page's buttons besides the state transitions, one handler each (the URL's `what`).
INCIDENT_ACTIONS: dict[str, Callable[[HttpRequest, Incident], None]] = {
    "timeline": _incident_timeline, "checklist": _incident_checklist, "tick": _incident_tick,
    "improvement_add": _incident_improvement_add, "improvement": _incident_improvement_close,
}


@require_POST
def incident_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """A button of the incident page: a record (timeline, checklist, improvement) or, for any other
    `what`, the state transition of that name (the workflow refuses one it does not know)."""
    incident = _incident(request, pk)
    with flashed(request, _("記録しました。")):
        handler = INCIDENT_ACTIONS.get(what)
        if handler is not None:
            handler(request, incident)
        else:
            incidents.incident_transition(actor=request.user, incident=incident, name=what,
                                          note=request.POST.get("reason", ""))
    return HttpResponseRedirect(reverse("security_staff:incident", args=[incident.pk]))


# --- training, policy ---------------------------------------------------------------------------

@require_GET
def course_list(request: HttpRequest) -> HttpResponse:
    courses = Course.objects.select_related("survey").prefetch_related("sessions").order_by("-fiscal_year", "id")
    return render(request, "security/staff/course_list.html", {"page": page_of(request, courses)})


@require_http_methods(["GET", "POST"])
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course.objects.select_related("survey"), pk=pk)
    form = forms.AttendanceForm(request.POST or None, request.FILES or None, course=course)
    if request.method == "POST":
        if not request.user.has_perm("security.manage_register"):
            raise PermissionDenied(_("受講記録の取込は情報システム課が行います。"))
        if form.is_valid():
            try:
                result = training.attendance_import(actor=request.user, course=course,
                                                    content=form.cleaned_data["file"].read(),
                                                    session=form.cleaned_data["session"])
            except ServiceError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, _("受講記録を取り込みました: 追加 %(added)s 名、取込済み %(already)s 名"
                                            "（うちアカウントのない職員番号 %(none)s 名）。") % {
                    "added": result.added, "already": result.already, "none": result.without_account})
                return HttpResponseRedirect(reverse("security_staff:course", args=[course.pk]))
    from hiroba.surveys import queries as survey_queries

    share = survey_queries.favourable_share(course.survey) if course.survey is not None else None
    return render(request, "security/staff/course_detail.html", {
        "course": course, "form": form, "sessions": training.attendance_by_session(course), "share": share,
        "missing": queries.training_missing(request.user, course) if course.required else [],
        "can_import": request.user.has_perm("security.manage_register"),
    })


@require_http_methods(["GET", "POST"])
def policy_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        version = get_object_or_404(PolicyVersion, pk=request.POST.get("version") or 0)
        with flashed(request, _("誓約を記録しました。")):
            policy.policy_acknowledge(actor=request.user, version=version)
        return HttpResponseRedirect(reverse("security_staff:policy"))
    documents = []
    for document in PolicyDocument.objects.prefetch_related("versions"):
        current = queries.current_version(document)
        missing = (queries.policy_missing(request.user, current)
                   if current and request.user.has_perm("security.view_dashboard") else [])
        documents.append({"document": document, "current": current, "missing": missing,
                          "versions": list(document.versions.all())})
    return render(request, "security/staff/policy.html", {
        "documents": documents, "to_acknowledge": queries.versions_to_acknowledge(request.user)})


@require_GET
def acceptance_list(request: HttpRequest) -> HttpResponse:
    qs = queries.acceptances_for(request.user).order_by("-requested_at", "-id")
    return render(request, "security/staff/acceptance_list.html", {"page": page_of(request, qs),
                                                                    "states": RiskAcceptance.State})




# --- registering audits, actions, courses, policy versions, playbooks (the CISO office) ---------

def _office_only(request: HttpRequest) -> Department:
    """The CISO office, when the user may register for it (403 otherwise)."""
    office = access.OFFICE.department()
    if office is None or not request.user.has_perm("security.manage_register"):
        raise PermissionDenied(_("登録は情報システム課（CISO事務局）が行います。"))
    return office


def _register(request: HttpRequest, form: Any, title: str, save: Any, done: Any) -> HttpResponse:
    """The one shape of the office's registration pages: validate, call the service, redirect."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form.cleaned_data)
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("登録しました。"))
            return HttpResponseRedirect(done(obj))
    return render(request, "security/staff/form.html", {"form": form, "title": title},
                  status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def audit_new(request: HttpRequest) -> HttpResponse:
    office = _office_only(request)
    form = forms.AuditForm(request.POST or None, departments=_departments(request, Role.READ))

    def save(d: dict[str, Any]) -> Any:
        return audits.audit_create(
            actor=request.user, kind=d["kind"], theme=d["theme"], method=d["method"], starts_on=d["starts_on"],
            ends_on=d["ends_on"], department=office, auditor=d["auditor"], lead=request.user,
            scope_note=d["scope_note"], departments=list(d["departments"]),
            good_points=forms._lines(d["good_points"]), issues=forms._lines(d["issues"]))

    return _register(request, form, _("監査を登録"), save, lambda a: reverse("security_staff:audit", args=[a.pk]))


@require_http_methods(["GET", "POST"])
def action_new(request: HttpRequest, pk: int) -> HttpResponse:
    _office_only(request)
    from hiroba.security.models import AuditEvaluation

    issue = get_object_or_404(AuditEvaluation.objects.select_related("audit"), pk=pk, kind="issue")
    form = forms.ActionForm(request.POST or None, departments=_departments(request, Role.READ))

    def save(d: dict[str, Any]) -> Any:
        return audits.action_create(actor=request.user, evaluation=issue, description=d["description"],
                                    department=d["department"], due_on=d["due_on"])

    return _register(request, form, _("是正措置を登録"), save,
                     lambda a: reverse("security_staff:audit", args=[issue.audit_id]))


@require_http_methods(["GET", "POST"])
def course_new(request: HttpRequest) -> HttpResponse:
    office = _office_only(request)
    form = forms.CourseForm(request.POST or None)

    def save(d: dict[str, Any]) -> Any:
        return training.course_create(
            actor=request.user, fiscal_year=d["fiscal_year"], title=d["title"], department=office,
            audience=d["audience"], required=d["required"], description=d["description"],
            sessions=[(d["title"], d["session_kind"], d["starts_on"], d["ends_on"])])

    return _register(request, form, _("研修を登録"), save, lambda c: reverse("security_staff:course", args=[c.pk]))


@require_http_methods(["GET", "POST"])
def policy_new(request: HttpRequest) -> HttpResponse:
    _office_only(request)
    form = forms.PolicyForm(request.POST or None, request.FILES or None)

    def save(d: dict[str, Any]) -> Any:
        return policy.policy_publish(actor=request.user, title=d["title"], kind=d["kind"], version=d["version"],
                                     effective_on=d["effective_on"], summary=d["summary"], file=d["file"])

    return _register(request, form, _("ポリシーの版を登録"), save, lambda v: reverse("security_staff:policy"))


@require_http_methods(["GET", "POST"])
def playbook_new(request: HttpRequest) -> HttpResponse:
    _office_only(request)
    form = forms.PlaybookForm(request.POST or None)

    def save(d: dict[str, Any]) -> Any:
        return incidents.playbook_save(actor=request.user, title=d["title"], description=d["description"],
                                       steps=forms._lines(d["steps"]))

    return _register(request, form, _("手順書を登録"), save, lambda p: reverse("security_staff:incidents"))
