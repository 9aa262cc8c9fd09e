"""Staff pages under /staff/records/: the guideline in force, the register (search, import,
export, a new file), a file with its holds and decisions, the expiry list, the records manager's
approvals, and the share scans' reports. Rows outside the user's departments are 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hiroba.accounts.models import Role
from hiroba.core import charts
from hiroba.core.errors import ServiceError, flashed
from hiroba.core.forms import cleaned_or_refuse
from hiroba.core.models import Department
from hiroba.core.paging import page_of
from hiroba.records import access, documents, forms, guidelines, lifecycle, queries, register
from hiroba.records.models import (
    Classification,
    Disposition,
    DocumentText,
    Guideline,
    LegalHold,
    RecordFile,
    Retention,
    Scan,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _departments(request: HttpRequest, minimum: Role = Role.READ) -> Any:
    return access.OFFICE.scope(Department.objects.filter(is_active=True).select_related("parent"), request.user, minimum,
                        field="pk")


def _files(request: HttpRequest) -> Any:
    return access.OFFICE.scope(RecordFile.objects.select_related("department"), request.user)


def _need(request: HttpRequest, permission: str, obj: Any = None) -> None:
    if not request.user.has_perm(permission, obj):
        raise PermissionDenied


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    _need(request, "records.view_record")
    files = _files(request)
    year = queries.this_fiscal_year()
    return render(request, "records/staff/home.html", {
        "guideline": guidelines.current(), "file_count": files.count(), "year_label": queries.fiscal_label(year),
        "expiring": lifecycle.expiring(year, files).count(),
        "pending": queries.pending(access.OFFICE.scope(Disposition.objects.all(), request.user, field="file__department_id"))
        .count(),
        "scans": access.OFFICE.scope(Scan.objects.select_related("department"), request.user)[:5],
        "is_office": access.OFFICE.is_office(request.user),
    })


@require_http_methods(["GET", "POST"])
def guideline(request: HttpRequest) -> HttpResponse:
    """The guideline in force on one page (and drafts, for the records manager)."""
    _need(request, "records.view_record")
    if request.method == "POST":
        draft = get_object_or_404(Guideline, pk=request.POST.get("guideline"), state=Guideline.State.DRAFT)
        with flashed(request, _("ガイドラインを施行しました。")):
            guidelines.guideline_publish(actor=request.user, guideline=draft)
        return HttpResponseRedirect(reverse("records_staff:guideline"), status=303)
    g = guidelines.current()
    drafts = Guideline.objects.filter(state=Guideline.State.DRAFT) if request.user.has_perm(
        "records.manage_guideline") else Guideline.objects.none()
    classifications = access.OFFICE.scope(Classification.objects.select_related("department"), request.user)
    from hiroba.records import naming

    return render(request, "records/staff/guideline.html", {
        "guideline": g, "drafts": drafts, "classifications": classifications,
        "rules": g.naming_rules if g else naming.DEFAULT_RULES, "zones": g.zones if g else naming.DEFAULT_ZONES,
        "sections": g.sections if g else guidelines.DEFAULT_SECTIONS, "retentions": Retention.choices,
    })


@require_GET
def file_list(request: HttpRequest) -> HttpResponse:
    _need(request, "records.view_record")
    files = _files(request)
    form = forms.RegisterSearchForm(request.GET or None, departments=_departments(request), years=queries.years(files))
    data = form.cleaned_data if form.is_valid() else {}
    qs = queries.search(files, data)
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "csv"):
        body = register.export(qs, fmt)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8" if fmt == "csv" else
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        name = f"行政文書ファイル管理簿.{fmt}"
        response["Content-Disposition"] = f"attachment; filename=\"register.{fmt}\"; filename*=UTF-8''{quote(name)}"
        return response
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "records/staff/file_list.html", {
        "form": form, "page": page_of(request, qs), "query": params.urlencode(),
        "can_change": request.user.has_perm("records.change_file"),
    })


@require_http_methods(["GET", "POST"])
def file_new(request: HttpRequest) -> HttpResponse:
    _need(request, "records.change_file")
    departments = _departments(request, Role.HANDLE)
    form = forms.FileForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        department = get_object_or_404(departments, pk=d.pop("department"))
        try:
            f = register.file_create(actor=request.user, data=register.FileData(department=department, **d))
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("行政文書ファイルを登録しました。"))
            return HttpResponseRedirect(reverse("records_staff:file", args=[f.pk]), status=303)
    return render(request, "records/staff/form.html", {"form": form, "title": _("行政文書ファイルの登録")},
                  status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def file_import(request: HttpRequest) -> HttpResponse:
    _need(request, "records.change_file")
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    errors: list[Any] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = register.register_import(actor=request.user, body=upload.read(), filename=upload.name)
        except register.ImportRefused as exc:
            errors = exc.errors
            form.add_error(None, exc.message)
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, result.line())
            return HttpResponseRedirect(reverse("records_staff:files"), status=303)
    return render(request, "records/staff/import.html", {"form": form, "errors": errors},
                  status=400 if request.method == "POST" else 200)


@require_GET
def file_detail(request: HttpRequest, pk: int) -> HttpResponse:
    f = get_object_or_404(_files(request), pk=pk)
    dispositions = f.dispositions.select_related("requested_by", "decided_by")
    return render(request, "records/staff/file_detail.html", {
        "file": f, "holds": f.holds.select_related("placed_by", "released_by"), "dispositions": dispositions,
        "records": f.disposal_records.all(),
        "can_request": f.state == RecordFile.State.ACTIVE and request.user.has_perm("records.request_disposition", f),
        "can_hold": f.state == RecordFile.State.ACTIVE and request.user.has_perm("records.place_hold", f),
        "decisions": [(d, Disposition.workflow.available(d, request.user)) for d in dispositions],
        "hold_form": forms.HoldForm(), "disposition_form": forms.DispositionForm(), "reason_form": forms.ReasonForm(),
    })


def _back(pk: int) -> HttpResponse:
    return HttpResponseRedirect(reverse("records_staff:file", args=[pk]), status=303)


def _file_hold(request: HttpRequest, f: RecordFile) -> None:
    lifecycle.hold_place(actor=request.user, file=f, **cleaned_or_refuse(
        forms.HoldForm(request.POST), _("種別と理由を入力してください。")))


def _file_release(request: HttpRequest, f: RecordFile) -> None:
    hold = get_object_or_404(LegalHold, pk=request.POST.get("hold"), file=f)
    lifecycle.hold_release(actor=request.user, hold=hold, reason=request.POST.get("reason", ""))


def _file_request(request: HttpRequest, f: RecordFile) -> None:
    lifecycle.disposition_request(actor=request.user, file=f, **cleaned_or_refuse(
        forms.DispositionForm(request.POST), _("措置と理由を確認してください。")))


def _disposition(request: HttpRequest, f: RecordFile) -> Disposition:
    return get_object_or_404(Disposition, pk=request.POST.get("disposition"), file=f)


def _file_approve(request: HttpRequest, f: RecordFile) -> None:
    lifecycle.disposition_approve(actor=request.user, disposition=_disposition(request, f),
                                  note=request.POST.get("reason", ""))


def _file_reject(request: HttpRequest, f: RecordFile) -> None:
    lifecycle.disposition_reject(actor=request.user, disposition=_disposition(request, f),
                                 reason=request.POST.get("reason", ""))


# The file page's buttons (`what` in the URL): the handler and the message flashed when it is done.
FILE_ACTIONS: dict[str, tuple[Callable[[HttpRequest, RecordFile], None], StrOrPromise]] = {
    "hold": (_file_hold, gettext_lazy("保存の継続を設定しました。")),
    "release": (_file_release, gettext_lazy("保存の継続を解除しました。")),
    "request": (_file_request, gettext_lazy("満了時の措置を申請しました。文書主管課が承認します。")),
    "approve": (_file_approve, gettext_lazy("承認しました。")),
    "reject": (_file_reject, gettext_lazy("差し戻しました。")),
}


@require_POST
def file_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """hold / release / request on a file; approve / reject on a disposition (POST only)."""
    f = get_object_or_404(_files(request), pk=pk)
    if what not in FILE_ACTIONS:
        raise PermissionDenied
    handler, done = FILE_ACTIONS[what]
    with flashed(request, done):
        handler(request, f)
    return _back(f.pk)


@require_GET
def expiry(request: HttpRequest) -> HttpResponse:
    """The expiry list of this fiscal year (or ?year=), per department."""
    _need(request, "records.view_record")
    try:
        year = int(request.GET.get("year") or queries.this_fiscal_year())
    except ValueError:
        year = queries.this_fiscal_year()
    qs = lifecycle.expiring(year, _files(request))
    if request.GET.get("department", "").isdigit():
        qs = qs.filter(department_id=int(request.GET["department"]))
    return render(request, "records/staff/expiry.html", {"page": page_of(request, qs), "year": year,
                                                         "year_label": queries.fiscal_label(year)})


@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    _need(request, "records.view_record")
    qs = queries.pending(access.OFFICE.scope(Disposition.objects.all(), request.user, field="file__department_id"))
    return render(request, "records/staff/approvals.html", {"page": page_of(request, qs)})


@require_GET
def scan_list(request: HttpRequest) -> HttpResponse:
    _need(request, "records.view_record")
    qs = access.OFFICE.scope(Scan.objects.select_related("department"), request.user)
    return render(request, "records/staff/scan_list.html", {"page": page_of(request, qs)})


def _mb(n: int) -> float:
    return round(n / 1_000_000, 1)


@require_GET
def scan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scan = get_object_or_404(access.OFFICE.scope(Scan.objects.select_related("department", "guideline"), request.user), pk=pk)
    kind = request.GET.get("kind") or None
    cap = scan.capacity or {}
    chart_data = [
        ("folder", _("フォルダ別の容量（MB）"), list(cap.get("folder", {}).items())[:15]),
        ("type", _("ファイルの種類別の容量（MB）"), list(cap.get("type", {}).items())[:12]),
        ("age", _("最終更新からの年数別の容量（MB）"), list(cap.get("age", {}).items())),
        ("zone", _("フォルダ区分別の容量（MB）"), list(cap.get("zone", {}).items())),
    ]
    chart_list = [(title, charts.bar_chart(str(title), [(k, _mb(v)) for k, v in data], chart_id=f"cap-{key}",
                                           unit=" MB"), data) for key, title, data in chart_data if data]
    return render(request, "records/staff/scan_detail.html", {
        "scan": scan, "counts": queries.finding_counts(scan), "kind": kind, "latest": queries.is_latest(scan),
        "page": page_of(request, queries.findings(scan, kind)), "charts": chart_list,
        "duplicates": scan.duplicates[:100], "errors": scan.errors[:200],
    })


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Full-text search of the scanned shares' documents (names and contents), with filters."""
    _need(request, "records.view_record")
    docs = access.OFFICE.scope(DocumentText.objects.all(), request.user)
    years = [(y, queries.fiscal_label(y)) for y in docs.order_by("-fiscal_year")
             .values_list("fiscal_year", flat=True).distinct() if y is not None]
    form = forms.RegisterSearchForm(request.GET or None, departments=_departments(request), years=years)
    data = form.cleaned_data if form.is_valid() else {}
    asked = any(data.get(k) for k in ("q", "department", "year", "large"))
    page = page_of(request, documents.search(docs, data) if asked else docs.none())
    words = documents.words_of(data.get("q") or "")
    for doc in page:
        doc.snippet = documents.snippet(doc.text, words)
        doc.year_label = queries.fiscal_label(doc.fiscal_year) if doc.fiscal_year else ""
    return render(request, "records/staff/search.html", {
        "form": form, "page": page, "asked": asked, "indexed": docs.count(),
    })
