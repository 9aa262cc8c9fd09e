"""Public pages (recruitment, application, guardian consent, lottery) and the staff back office."""

from __future__ import annotations

import io
from typing import Any

import rules
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from hiroba.core import confirm, throttle
from hiroba.core.paging import page_of
from hiroba.workshops import exports, forms, queries, services
from hiroba.workshops.models import Application, Programme, Session
from hiroba.workshops.services import WorkshopError

RECEIPT_SESSION_KEY = "workshops_receipt"


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


# --- Public -----------------------------------------------------------------------------------

def programme_list(request: HttpRequest) -> HttpResponse:
    programmes = queries.public_programmes().order_by("-applications_open_on")
    return render(request, "workshops/list.html", {"programmes": programmes, "now": timezone.now()})


def _public_programme(code: str) -> Programme:
    return get_object_or_404(queries.public_programmes(), code=code)


def programme_detail(request: HttpRequest, code: str) -> HttpResponse:
    programme = _public_programme(code)
    return render(request, "workshops/detail.html", {
        "programme": programme, "sessions": programme.sessions.all(), "now": timezone.now(),
        "lottery": getattr(programme, "lottery", None), "results": queries.public_results(programme),
        "quotas": programme.quotas.all(),
    })


def lottery_entries(request: HttpRequest, code: str) -> HttpResponse:
    """The published entry list, byte for byte, so anyone can check its SHA-256 and redo the draw."""
    programme = _public_programme(code)
    lottery = getattr(programme, "lottery", None)
    if lottery is None:
        raise Http404
    response = HttpResponse(lottery.entries_text.encode("utf-8"), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{programme.code}-entries.txt"'
    return response


@throttle.throttle("workshops.apply", key=throttle.posted("guardian_email"))
def apply(request: HttpRequest, code: str) -> HttpResponse:
    programme = _public_programme(code)
    form = forms.ApplicationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # Each application mails whatever guardian address it names: limited per recipient.
        refusal = throttle.check(request, "workshops.consent_mail", key=form.cleaned_data["guardian_email"])
        if refusal is not None:
            return throttle.too_many(request, refusal)
        try:
            services.application_submit(programme=programme, data=form.to_input(), site_url=_site_url(request))
        except services.DuplicateApplication as duplicate:
            # Answered like any application: the page must not tell a stranger that this child applied.
            recorded = Application.objects.values_list("guardian_email", flat=True).get(pk=duplicate.existing_id)
            told = throttle.check(request, "workshops.consent_mail", key=recorded) is None
            services.duplicate_attempt_record(application_id=duplicate.existing_id, notify_guardian=told)
            request.session[RECEIPT_SESSION_KEY] = programme.code
            return redirect("workshops:thanks", code=programme.code)
        except WorkshopError as error:
            error.add_to_form(form)
        else:
            request.session[RECEIPT_SESSION_KEY] = programme.code
            return redirect("workshops:thanks", code=programme.code)
    return render(request, "workshops/apply.html", {
        "programme": programme, "form": form, "is_open": programme.is_open()},
        status=400 if form.errors else 200)


def thanks(request: HttpRequest, code: str) -> HttpResponse:
    programme = _public_programme(code)
    if request.session.get(RECEIPT_SESSION_KEY) != programme.code:
        return redirect(programme.get_absolute_url())
    return render(request, "workshops/thanks.html", {"programme": programme})


@throttle.throttle("workshops.consent")
def consent(request: HttpRequest, token: str) -> HttpResponse:
    try:
        application = services.application_for_consent(token)
    except WorkshopError as error:
        return render(request, "workshops/consent_error.html", {"message": error.message}, status=400)
    programme = application.programme
    form = forms.ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_consent(token=token, guardian_name=form.cleaned_data["guardian_name"])
        except WorkshopError as error:
            return render(request, "workshops/consent_error.html", {"message": error.message,
                                                                    "programme": programme}, status=400)
        return render(request, "workshops/consent_done.html", {"app": application, "programme": programme})
    return render(request, "workshops/consent.html", {
        "app": application, "programme": programme, "form": form,
        "already": application.consented_at is not None,
        "too_late": programme.consent_period_over() and application.consented_at is None,
    }, status=400 if form.errors else 200)


# --- Staff ------------------------------------------------------------------------------------

APPLICANT_PERMS = {"workshops.view_applicants", "workshops.handle_applicants", "workshops.run_selection",
                   "workshops.record_attendance", "workshops.export_contacts"}


def _may(user: Any, perm: str, programme: Programme) -> bool:
    """Applicant permissions are tested against the rules alone: the system administrator's
    all-permissions backend must not reach minors' data."""
    if perm in APPLICANT_PERMS:
        return bool(rules.has_perm(perm, user, programme))
    return bool(user.has_perm(perm, programme))


def _programme(request: HttpRequest, code: str, perm: str = "workshops.view_programme") -> Programme:
    """The programme: 404 outside the user's departments, and 404 for applicant pages unless the
    user belongs to the organising department; 403 when the role is too low for `perm`."""
    programme = get_object_or_404(queries.programmes_for(request.user), code=code)
    if perm in APPLICANT_PERMS and not _may(request.user, "workshops.view_applicants", programme):
        raise Http404
    if not _may(request.user, perm, programme):
        raise PermissionDenied
    return programme


def staff_list(request: HttpRequest) -> HttpResponse:
    programmes = queries.programmes_for(request.user).order_by("-applications_open_on")
    can_create = queries.department_choices_for(request.user).exists()
    return render(request, "workshops/staff/list.html", {"page": page_of(request, programmes), "can_create": can_create})


def staff_create(request: HttpRequest) -> HttpResponse:
    departments = queries.department_choices_for(request.user)
    if not departments.exists():
        raise PermissionDenied
    form = forms.ProgrammeForm(request.POST if request.method == "POST" else None, departments=departments)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("department", "code")}
        try:
            programme = services.programme_create(actor=request.user, department=form.cleaned_data["department"],
                                                  code=form.cleaned_data["code"], **data)
        except WorkshopError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("企画を作成しました。"))
            return redirect("workshops_staff:detail", code=programme.code)
    return render(request, "workshops/staff/form.html", {"form": form, "title": _("ワークショップ企画の作成")})


def staff_edit(request: HttpRequest, code: str) -> HttpResponse:
    programme = _programme(request, code, "workshops.change_programme")
    form = forms.ProgrammeForm(request.POST if request.method == "POST" else None, instance=Programme.objects.get(pk=programme.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.programme_update(actor=request.user, programme=programme, **form.cleaned_data)
        except WorkshopError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("企画を更新しました。"))
            return redirect("workshops_staff:detail", code=programme.code)
    return render(request, "workshops/staff/form.html", {"form": form, "programme": programme,
                                                          "title": _("%(title)sの編集") % {"title": programme.title}})


def staff_detail(request: HttpRequest, code: str) -> HttpResponse:
    programme = _programme(request, code)
    may_see = _may(request.user, "workshops.view_applicants", programme)
    page = page_of(request, queries.applications_for(request.user, programme).order_by("receipt_number")
                   if may_see else [])
    return render(request, "workshops/staff/detail.html", {
        "programme": programme, "may_see_applicants": may_see, "page": page, "applications": page.object_list,
        "counts": queries.status_counts(programme), "sessions": queries.sessions_with_attendance(programme),
        "lottery": getattr(programme, "lottery", None), "quotas": programme.quotas.all(),
        "can_change": _may(request.user, "workshops.change_programme", programme),
        "quota_form": forms.QuotaForm(),
    })


def staff_application(request: HttpRequest, code: str, receipt: str) -> HttpResponse:
    programme = _programme(request, code, "workshops.view_applicants")
    application = get_object_or_404(queries.applications_for(request.user, programme), receipt_number=receipt)
    form = forms.WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not _may(request.user, "workshops.handle_applicants", programme):
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "resend":
                services.consent_request_resend(actor=request.user, application=application,
                                                site_url=_site_url(request))
                messages.success(request, _("保護者に確認メールを送り直しました。"))
                return redirect("workshops_staff:application", code=code, receipt=receipt)
            if form.is_valid():
                promoted = services.application_withdraw(actor=request.user, application=application,
                                                         reason=form.cleaned_data["reason"])
                text = _("辞退を記録しました。")
                if promoted:
                    text += _("補欠から繰り上げ: ") + "、".join(a.receipt_number for a in promoted)
                messages.success(request, text)
                return redirect("workshops_staff:application", code=code, receipt=receipt)
        except WorkshopError as error:
            error.add_to_form(form)
    return render(request, "workshops/staff/application.html", {
        "programme": programme, "app": application, "form": form,
        "attendances": application.attendances.select_related("session").order_by("session__number"),
    }, status=400 if form.errors else 200)


@require_POST
def staff_quota(request: HttpRequest, code: str) -> HttpResponse:
    programme = _programme(request, code, "workshops.change_programme")
    form = forms.QuotaForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("優先枠の区分と人数を確認してください。"))
    else:
        try:
            services.quota_set(actor=request.user, programme=programme, **form.cleaned_data)
            messages.success(request, _("優先枠を保存しました。"))
        except WorkshopError as error:
            messages.error(request, error.message)
    return redirect("workshops_staff:detail", code=code)


def staff_lottery(request: HttpRequest, code: str) -> HttpResponse:
    programme = _programme(request, code, "workshops.view_applicants")
    lottery = getattr(programme, "lottery", None)
    publish_form = forms.LotteryPublishForm(request.POST if request.POST.get("action") == "publish" else None)
    draw_form = forms.LotteryDrawForm(
        request.POST if request.POST.get("action") == "draw" else None,
        initial={"seed": lottery.seed, "entries_digest": lottery.entries_digest} if lottery else None)
    error = None
    if request.method == "POST":
        if not _may(request.user, "workshops.run_selection", programme):
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "publish" and publish_form.is_valid():
                services.lottery_publish(actor=request.user, programme=programme, **publish_form.cleaned_data)
                messages.success(request, _("抽選の条件（シードと抽選対象の一覧）を公開しました。"))
                return redirect("workshops_staff:lottery", code=code)
            if action == "draw":
                if draw_form.is_valid() and not confirm.confirmed(request):
                    return _draw_confirmation(request, programme)
                if draw_form.is_valid():
                    services.lottery_draw(actor=request.user, programme=programme,
                                          seed=draw_form.cleaned_data["seed"],
                                          entries_digest=draw_form.cleaned_data["entries_digest"])
                    messages.success(request, _("抽選を行い、結果をメールで知らせました。"))
                    return redirect("workshops_staff:lottery", code=code)
            if action == "first_come":
                services.selection_first_come(actor=request.user, programme=programme)
                messages.success(request, _("先着順で選考し、結果をメールで知らせました。"))
                return redirect("workshops_staff:lottery", code=code)
        except WorkshopError as exc:
            error = exc.message
            if action == "draw":
                services.lottery_refusal_record(actor=request.user, programme=programme, error=exc,
                                                seed=request.POST.get("seed", ""),
                                                entries_digest=request.POST.get("entries_digest", ""))
    programme.refresh_from_db()
    return render(request, "workshops/staff/lottery.html", {
        "programme": programme, "lottery": getattr(programme, "lottery", None), "error": error,
        "publish_form": publish_form, "draw_form": draw_form, "results": queries.public_results(programme),
        "counts": queries.status_counts(programme),
    }, status=400 if error or publish_form.errors or draw_form.errors else 200)


def _draw_confirmation(request: HttpRequest, programme: Programme) -> HttpResponse:
    entries = len(programme.lottery.entries_text.splitlines())
    consequences = [
        ngettext("公開したシードと抽選対象の一覧（%(n)s件）で抽選します。抽選は1回だけで、やり直せません。",
                 "公開したシードと抽選対象の一覧（%(n)s件）で抽選します。抽選は1回だけで、やり直せません。",
                 entries) % {"n": entries},
        _("定員 %(capacity)s 名までを参加決定とし、続く順位を補欠、残りを落選とします。") % {
            "capacity": programme.capacity},
        _("結果を、申込者と保護者の全員にメールで知らせます。"),
    ]
    return confirm.page(request, title=_("抽選する"), subject=programme.title, consequences=consequences,
                        confirm_label=_("抽選する"),
                        cancel_url=reverse("workshops_staff:lottery", args=[programme.code]))


def _session(request: HttpRequest, code: str, number: int, perm: str) -> Session:
    programme = _programme(request, code, perm)
    return get_object_or_404(Session.objects.select_related("programme"), programme=programme, number=number)


def staff_session(request: HttpRequest, code: str, number: int | None = None) -> HttpResponse:
    programme = _programme(request, code, "workshops.change_programme")
    session = get_object_or_404(Session, programme=programme, number=number) if number else None
    form = forms.SessionForm(request.POST if request.method == "POST" else None, instance=Session.objects.get(pk=session.pk) if session else
                             Session(programme=programme))
    if request.method == "POST" and form.is_valid():
        if session is None:
            services.session_create(actor=request.user, programme=programme, **form.cleaned_data)
        else:
            services.session_update(actor=request.user, session=session, **form.cleaned_data)
        messages.success(request, _("開催回を保存しました。"))
        return redirect("workshops_staff:detail", code=code)
    title = _("第%(n)s回の編集") % {"n": session.number} if session else _("開催回の追加")
    return render(request, "workshops/staff/form.html", {"form": form, "programme": programme, "title": title})


def staff_attendance(request: HttpRequest, code: str, number: int) -> HttpResponse:
    session = _session(request, code, number, "workshops.view_applicants")
    programme = session.programme
    participants = list(queries.participants(programme))
    present = set(session.attendances.filter(present=True).values_list("application_id", flat=True))
    form = forms.AttendanceForm(request.POST if request.method == "POST" else None, participants=participants,
                                initial={"present": sorted(present)})
    if request.method == "POST":
        if not _may(request.user, "workshops.record_attendance", programme):
            raise PermissionDenied
        if form.is_valid():
            try:
                result = services.attendance_record(actor=request.user, session=session,
                                                    present_ids=form.cleaned_data["present"])
            except WorkshopError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("出欠を保存しました（出席 %(present)s名・欠席 %(absent)s名）。")
                                 % {"present": result["present"], "absent": result["absent"]})
                return redirect("workshops_staff:attendance", code=code, number=number)
    return render(request, "workshops/staff/attendance.html", {
        "programme": programme, "session": session, "form": form, "participants": participants,
        "present": present}, status=400 if form.errors else 200)


def staff_outputs(request: HttpRequest, code: str) -> HttpResponse:
    programme = _programme(request, code, "workshops.view_programme")
    can_submit = _may(request.user, "workshops.submit_outputs", programme)
    form = forms.OutputForm(request.POST if request.method == "POST" else None, request.FILES or None)
    if request.method == "POST":
        if not can_submit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.output_create(actor=request.user, programme=programme, **form.cleaned_data)
            except WorkshopError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("成果物を登録しました。"))
                return redirect("workshops_staff:outputs", code=code)
    return render(request, "workshops/staff/outputs.html", {
        "programme": programme, "outputs": programme.outputs.all(), "form": form, "can_submit": can_submit,
        "unsubmitted": programme.outputs.filter(proposal_id__isnull=True).count(),
    }, status=400 if form.errors else 200)


@require_POST
def staff_outputs_submit(request: HttpRequest, code: str) -> HttpResponse:
    programme = _programme(request, code, "workshops.submit_outputs")
    try:
        outputs = services.outputs_submit_as_proposals(actor=request.user, programme=programme)
    except WorkshopError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, ngettext("成果物 %(n)s 件を区への提案として提出しました。",
                                           "成果物 %(n)s 件を区への提案として提出しました。", len(outputs)) % {"n": len(outputs)})
    return redirect("workshops_staff:outputs", code=code)


def staff_export(request: HttpRequest, code: str) -> HttpResponse:
    programme = _programme(request, code, "workshops.view_applicants")
    form = forms.ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        include = form.cleaned_data["include_contacts"]
        if include and not _may(request.user, "workshops.export_contacts", programme):
            raise PermissionDenied
        out = io.StringIO()
        exports.applications_csv(actor=request.user, programme=programme, out=out, include_contacts=include,
                                 reason=form.cleaned_data["reason"])
        response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
        suffix = "-contacts" if include else ""
        response["Content-Disposition"] = f'attachment; filename="{programme.code}-applications{suffix}.csv"'
        return response
    return render(request, "workshops/staff/export.html", {"programme": programme, "form": form},
                  status=400 if form.errors else 200)

