"""Staff pages of segment transfer (/staff/records/transfers/): the list, a new request (upload,
then each file's verdict), a request with the buttons its workflow allows, and the download of
a safe copy once approved (originals are never offered)."""

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
from hiroba.core.errors import ServiceError, flashed
from hiroba.core.models import Department
from hiroba.core.paging import page_of
from hiroba.records import access, conf, contentcheck, forms, transfers
from hiroba.records.models import TransferFile, TransferRequest

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _requests(request: HttpRequest) -> Any:
    return access.OFFICE.scope(TransferRequest.objects.select_related("department", "requested_by", "decided_by"),
                        request.user)


def _need(request: HttpRequest) -> None:
    if not request.user.has_perm("records.view_record"):
        raise PermissionDenied


@require_GET
def transfer_list(request: HttpRequest) -> HttpResponse:
    _need(request)
    page = page_of(request, _requests(request), 50)
    return render(request, "records/staff/transfer_list.html", {
        "page": page, "can_request": request.user.has_perm("records.request_transfer")})


@require_http_methods(["GET", "POST"])
def transfer_new(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("records.request_transfer"):
        raise PermissionDenied
    departments = access.OFFICE.scope(Department.objects.filter(is_active=True), request.user, Role.HANDLE, field="pk")
    form = forms.TransferForm(request.POST or None, request.FILES or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        department = get_object_or_404(departments, pk=d["department"])
        try:
            req = transfers.request_create(actor=request.user, department=department, direction=d["direction"],
                                           reason=d["reason"], files=[(f.name, f.read()) for f in d["uploads"]])
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("転送を申請しました。各ファイルの判定を確認してください。所属の承認者が承認します。"))
            return HttpResponseRedirect(reverse("records_staff:transfer", args=[req.pk]), status=303)
    return render(request, "records/staff/transfer_new.html", {
        "form": form, "types": contentcheck.allowed_labels()}, status=400 if request.method == "POST" else 200)


@require_GET
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(_requests(request), pk=pk)
    buttons = [t for t in TransferRequest.workflow.available(req, request.user) if t.name != "deliver"]
    if request.user.pk == req.requested_by_id:
        buttons = [t for t in buttons if t.name not in ("approve", "reject")]
    else:
        buttons = [t for t in buttons if t.name != "withdraw"]
    return render(request, "records/staff/transfer_detail.html", {
        "req": req, "files": req.files.select_related("rendering").defer("original", "safe", "rendering__pdf"),
        "buttons": buttons, "pdf_copies": conf.soffice() is not None,
        "office_types": transfers.OFFICE,
        "can_download": req.state in (TransferRequest.State.APPROVED, TransferRequest.State.DELIVERED)
        and request.user.has_perm("records.request_transfer", req)})


def _transfer_approve(request: HttpRequest, req: TransferRequest) -> None:
    transfers.request_approve(actor=request.user, request=req, note=request.POST.get("reason", ""))


def _transfer_reject(request: HttpRequest, req: TransferRequest) -> None:
    transfers.request_reject(actor=request.user, request=req, reason=request.POST.get("reason", ""))


def _transfer_withdraw(request: HttpRequest, req: TransferRequest) -> None:
    transfers.request_withdraw(actor=request.user, request=req)


# A request's buttons (`what` in the URL): the handler and the message flashed when it is done.
TRANSFER_ACTIONS: dict[str, tuple[Callable[[HttpRequest, TransferRequest], None], StrOrPromise]] = {
    "approve": (_transfer_approve, gettext_lazy("承認しました。安全な写しを受け渡せます。")),
    "reject": (_transfer_reject, gettext_lazy("却下しました。")),
    "withdraw": (_transfer_withdraw, gettext_lazy("取り下げました。")),
}


@require_POST
def transfer_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    req = get_object_or_404(_requests(request), pk=pk)
    if what not in TRANSFER_ACTIONS:
        raise PermissionDenied
    handler, done = TRANSFER_ACTIONS[what]
    with flashed(request, done):
        handler(request, req)
    return HttpResponseRedirect(reverse("records_staff:transfer", args=[req.pk]), status=303)


@require_GET
def transfer_download(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    req = get_object_or_404(_requests(request), pk=pk)
    f = get_object_or_404(TransferFile.objects.select_related("request"), pk=file_pk, request=req)
    try:
        name, data = transfers.safe_copy(actor=request.user, file=f, as_pdf=request.GET.get("copy") == "pdf")
    except ServiceError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("records_staff:transfer", args=[req.pk]), status=303)
    kind = "pdf" if f.verdict == TransferFile.Verdict.RENDERED or request.GET.get("copy") == "pdf" else f.detected_type
    response = HttpResponse(data, content_type=contentcheck.MIME.get(kind, "application/octet-stream"))
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
