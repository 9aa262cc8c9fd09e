"""Staff pages under /staff/notices/: batches (upload with preview, 承認, dispatch, 送付記録) and
print runs (PDF, 送付一覧 CSV, printed / posted). Types outside the user's departments are 404."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.core import charts, tabular
from hiroba.core.actors import Actor
from hiroba.core.errors import ServiceError
from hiroba.core.models import Department
from hiroba.core.paging import page_of
from hiroba.notices import batches, forms, printing, queries, recipients, types
from hiroba.notices.models import Batch, NoticeType, PrintRun, RecipientUpload, Status


def _download(body: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    ascii_name = "notices." + filename.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response


def _need(request: HttpRequest, perm: str, obj: Model | None = None) -> None:
    if not request.user.has_perm(perm, obj):
        raise PermissionDenied


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    _need(request, "notices.view")
    return render(request, "notices/staff/home.html", {
        "types": queries.types_for(request.user), "page": page_of(request, queries.batches_for(request.user)),
        "run_count": queries.runs().count(), "can_print": request.user.has_perm("notices.handle_print"),
    })


@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    """The print runs (印刷), newest first, with their downloads and the printed / posted buttons."""
    _need(request, "notices.handle_print")
    return render(request, "notices/staff/run_list.html", {"page": page_of(request, queries.runs())})


@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest) -> HttpResponse:
    _need(request, "notices.handle_batch")
    types = queries.types_for(request.user, Role.HANDLE)
    form = forms.BatchUploadForm(request.POST or None, request.FILES or None, types=types)
    check = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            check = batches.batch_check(notice_type=form.cleaned_data["notice_type"], raw=upload.read())
            if check.ok:
                batch = batches.batch_create(actor=Actor.staff(request.user), check=check, filename=upload.name)
                messages.success(request, _("バッチを作成しました。承認者の承認を受けてから送付できます。"))
                return HttpResponseRedirect(reverse("notices_staff:batch", args=[batch.pk]))
        except ServiceError as exc:
            exc.add_to_form(form)
    return render(request, "notices/staff/batch_new.html", {"form": form, "check": check},
                  status=400 if request.method == "POST" else 200)


def _batch(request: HttpRequest, pk: int) -> Batch:
    batch = queries.batches_for(request.user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    counts = queries.status_counts(batch)
    sample = batch.notices.select_related("recipient").order_by("row_number")[:3]
    row_form = forms.RowForm(request.GET if "row" in request.GET else None)
    preview = None
    if row_form.is_valid():
        preview = batch.notices.select_related("recipient").filter(row_number=row_form.cleaned_data["row"]).first()
        if preview is None:
            row_form.add_error("row", _("その行番号の書面はこのバッチにありません。"))
    return render(request, "notices/staff/batch.html", {
        "row_form": row_form, "preview": preview,
        "batch": batch, "counts": [(s.label, counts.get(s.value, 0)) for s in Status if counts.get(s.value)],
        "routes": {"digital": batch.notices.filter(route="digital").count(),
                   "paper": batch.notices.filter(route="paper").count()},
        "reasons": batch.notices.filter(route="paper").exclude(paper_reason="").values_list("paper_reason", flat=True),
        "sample": sample, "buttons": Batch.workflow.available(batch, request.user),
    })


@require_POST
def batch_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    batch = _batch(request, pk)
    actor = Actor.staff(request.user)
    try:
        if name == "approve":
            batches.batch_approve(actor=actor, batch=batch)
            messages.success(request, _("承認しました。"))
        elif name == "dispatch":
            result = batches.batch_dispatch(actor=actor, batch=batch)
            messages.success(request, _("送付しました（メール %(q)s 件、郵便 %(p)s 件）。") % {"q": result.queued,
                                                                                   "p": result.paper})
            if result.limited:
                messages.info(request, _("1時間あたりのメール送信数の上限に達しました。残りは次の時間帯に自動で送付します。"))
        elif name == "cancel":
            batches.batch_cancel(actor=actor, batch=batch)
            messages.success(request, _("取り消しました。"))
        else:
            raise Http404
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("notices_staff:batch", args=[batch.pk]))


@require_GET
def batch_record(request: HttpRequest, pk: int) -> HttpResponse:
    """送付記録: every notice of the batch with its route, status, hash and times."""
    batch = _batch(request, pk)
    rows = [[n.row_number, n.recipient.atena_number, n.template.version, n.get_route_display(),
             n.get_paper_reason_display() if n.paper_reason else "", n.get_status_display(), n.content_sha256,
             n.queued_at, n.sent_at, n.opened_at, n.opened_as, n.paper_at]
            for n in batch.notices.select_related("recipient", "template").order_by("row_number")]
    table = tabular.Table(columns=[tabular.Column(h) for h in (
        "行", "宛名番号", "テンプレートの版", "経路", "紙になった理由", "状態", "SHA-256", "送信待ち日時",
        "メール送信日時", "開封日時", "開封した人の立場", "紙に切替えた日時")], rows=rows, sheet="送付記録",
        preamble=[["バッチ", batch.pk, batch.notice_type.name, "承認者", str(batch.approved_by or "")]])
    return _download(tabular.to_csv(table), f"送付記録-{batch.pk}.csv", "text/csv; charset=utf-8")


def _run(request: HttpRequest, pk: int) -> PrintRun:
    _need(request, "notices.handle_print")
    return get_object_or_404(PrintRun, pk=pk)


@require_GET
def run_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    body, _pages = printing.run_pdf(_run(request, pk))
    return _download(body, f"印刷-{pk}.pdf", "application/pdf")


@require_GET
def run_csv(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    return _download(tabular.to_csv(printing.run_table(run)), f"送付一覧-{pk}.csv", "text/csv; charset=utf-8")


@require_POST
def run_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    run = _run(request, pk)
    if name not in ("print", "post"):
        raise Http404
    try:
        printing.run_transition(actor=Actor.staff(request.user), run=run, name=name)
        messages.success(request, _("印刷の状態を更新しました。"))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("notices_staff:runs"))


# --- notice types and their templates -------------------------------------------------------

def _departments_for(user: object, minimum: Role) -> QuerySet[Department]:
    ids = permissions.department_ids(user, minimum)
    qs = Department.objects.filter(is_active=True).order_by("sort_order", "code")
    return qs if ids is None else qs.filter(pk__in=ids)


@require_http_methods(["GET", "POST"])
def type_new(request: HttpRequest) -> HttpResponse:
    departments = _departments_for(request.user, Role.APPROVE)
    if not departments.exists():
        raise PermissionDenied
    form = forms.TypeForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        try:
            kind = types.type_create(actor=Actor.staff(request.user), **form.cleaned_data)
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("書面の種類を作成しました。続けてテンプレートを作成してください。"))
            return HttpResponseRedirect(reverse("notices_staff:type", args=[kind.slug]))
    return render(request, "notices/staff/type_new.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


def _type(request: HttpRequest, slug: str) -> NoticeType:
    kind = queries.types_for(request.user).filter(slug=slug).first()
    if kind is None:
        raise Http404
    return kind


def sample_values(template: object) -> dict[str, str]:
    """Placeholder values for a template preview: each field shows its own name."""
    return {name: f"［{name}］" for name in template.fields()}  # type: ignore[attr-defined]


@require_http_methods(["GET", "POST"])
def type_detail(request: HttpRequest, slug: str) -> HttpResponse:
    kind = _type(request, slug)
    can_edit = request.user.has_perm("notices.handle_batch", kind)
    current = kind.current_template()
    form = forms.TemplateForm(request.POST or None, initial={"title": current.title, "body": current.body}
                              if current else None)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                template = types.template_publish(actor=Actor.staff(request.user), notice_type=kind,
                                                  **form.cleaned_data)
            except ServiceError as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, _("テンプレート第%(v)s版を作成しました。承認待ちのバッチは作り直しが必要です。")
                                 % {"v": template.version})
                return HttpResponseRedirect(reverse("notices_staff:type", args=[kind.slug]))
    preview = None
    if current is not None:
        from hiroba.notices.models import Recipient

        specimen = Recipient(atena_number="0000000000", name=_("見本 太郎"), postal_code="102-8688",
                             address=_("東京都千代田区九段南1-2-1"))
        title, content, _digest = types.render(current, specimen, sample_values(current))
        preview = {"title": title, "content": content}
    return render(request, "notices/staff/type.html", {
        "type": kind, "templates": kind.templates.select_related("created_by").order_by("-version"),
        "current": current, "form": form, "can_edit": can_edit, "preview": preview,
    }, status=400 if request.method == "POST" else 200)


# --- the recipient list ---------------------------------------------------------------------

def _need_recipients(request: HttpRequest) -> None:
    _need(request, "notices.manage_recipients")


@require_http_methods(["GET", "POST"])
def recipients_upload(request: HttpRequest) -> HttpResponse:
    _need_recipients(request)
    form = forms.RecipientUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            staged = recipients.upload_stage(actor=Actor.staff(request.user), raw=upload.read(), filename=upload.name)
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            return HttpResponseRedirect(reverse("notices_staff:recipients_preview", args=[staged.pk]))
    return render(request, "notices/staff/recipients_upload.html", {
        "form": form, "columns": recipients.RECIPIENT_COLUMNS,
        "uploads": page_of(request, RecipientUpload.objects.select_related("created_by"), per_page=10, param="uploads"),
    }, status=400 if request.method == "POST" else 200)


#: Rows of each kind shown in the preview (the counts cover all of them).
PREVIEW_ROWS = 50


@require_http_methods(["GET", "POST"])
def recipients_preview(request: HttpRequest, pk: int) -> HttpResponse:
    _need_recipients(request)
    upload = get_object_or_404(RecipientUpload, pk=pk)
    if request.method == "POST":
        actor = Actor.staff(request.user)
        try:
            if "discard" in request.POST:
                recipients.upload_discard(actor=actor, upload=upload)
                messages.info(request, _("アップロードを破棄しました。宛名は変わっていません。"))
            else:
                result = recipients.upload_apply(actor=actor, upload=upload)
                messages.success(request, _("宛名を反映しました: 新規 %(c)s 件、更新 %(u)s 件、変更なし %(n)s 件、"
                                            "取り込まなかった行 %(r)s 件。") % {"c": result.created, "u": result.updated,
                                                                    "n": result.unchanged, "r": result.refused})
        except ServiceError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("notices_staff:recipients_preview", args=[upload.pk]))
    plan = None
    if upload.state == RecipientUpload.State.PREVIEW:
        plan = recipients.recipients_plan(bytes(upload.content))
    return render(request, "notices/staff/recipients_preview.html", {
        "upload": upload, "plan": plan, "limit": PREVIEW_ROWS,
        "new": plan.new[:PREVIEW_ROWS] if plan else [], "changed": plan.changed[:PREVIEW_ROWS] if plan else [],
        "errors": plan.result.errors if plan else [],
    })


# --- uptake and postage -----------------------------------------------------------------------

def _uptake_table(data: queries.Uptake) -> tabular.Table:
    return tabular.Table(columns=[tabular.Column(h) for h in (
        _("月"), _("書面の種類"), _("通数"), _("電子で届いた"), _("紙"), _("開封待ち"), _("電子の割合（%）"),
        _("節約できた郵送費（円）"))],
        rows=[[r.month, r.type_name, r.total, r.digital, r.paper, r.pending, r.share, r.digital * data.price]
              for r in data.rows], sheet=_("利用状況"),
        preamble=[[_("1通あたりの郵送費（円）"), data.price]])


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Uptake (share reached digitally, per type and month) and postage saved, with a chart."""
    _need(request, "notices.view")
    data = queries.uptake(request.user)
    if request.GET.get("format") == "csv":
        return _download(tabular.to_csv(_uptake_table(data)), "書面送付_利用状況.csv", "text/csv; charset=utf-8")
    share_chart = charts.bar_chart(_("月・種類ごとの電子で届いた割合（詳細は下の表）"),
                                   [(f"{r.month} {r.type_name}", r.share) for r in data.rows],
                                   chart_id="chart-share", unit="%", label_width=300)
    saved_chart = charts.bar_chart(_("月ごとの節約できた郵送費（詳細は下の表）"), data.by_month(),
                                   chart_id="chart-saved", unit=_("円"), label_width=100)
    return render(request, "notices/staff/dashboard.html", {
        "data": data, "share_chart": share_chart, "saved_chart": saved_chart,
        "share": round(100 * data.digital / data.total, 1) if data.total else 0.0,
    })
