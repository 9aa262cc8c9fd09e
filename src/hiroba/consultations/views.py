"""Public pages: the draft by section, the opinion form with its confirmation step, the receipt,
e-mail confirmation, identity verification, なりすまし申告 and the published results."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from hiroba.accounts import identity
from hiroba.accounts.models import IdentityLevel
from hiroba.consultations import conf, exports, queries, services
from hiroba.consultations.forms import ImpersonationForm, OpinionForm
from hiroba.consultations.models import Case, Channel, PublishedResult, Section, Submission
from hiroba.core import links, pagecache, pow, throttle

RECEIPT_SALT = "hiroba.consultations.receipt"
_inflight: dict[str, Any] = {"lock": threading.Lock(), "count": 0}


def shed_load(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Beyond the configured number of submissions in flight in this process, answer 503 at once
    with Retry-After instead of queueing until clients time out. Database lock time-outs under
    overload get the same answer; the submission was rolled back, so a retry is safe."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        limit = conf.get("CONSULTATIONS_MAX_INFLIGHT_SUBMISSIONS")
        with _inflight["lock"]:
            if _inflight["count"] >= limit:
                return busy(request)
            _inflight["count"] += 1
        try:
            return view(request, *args, **kwargs)
        except DatabaseError as exc:
            if "locked" in str(exc) or "timeout" in str(exc).lower() or "could not obtain" in str(exc):
                return busy(request)
            raise
        finally:
            with _inflight["lock"]:
                _inflight["count"] -= 1

    return wrapper


def busy(request: HttpRequest) -> HttpResponse:
    response = render(request, "consultations/busy.html", status=503)
    response["Retry-After"] = str(conf.get("CONSULTATIONS_RETRY_AFTER_SECONDS"))
    return response


@pagecache.public_page("consultations")
def case_list(request: HttpRequest) -> HttpResponse:
    cases = list(queries.public_cases().order_by("-period_start"))
    has_results = {c.pk: bool(getattr(c, "has_results", False)) for c in cases}  # public_cases() annotates it
    return render(request, "consultations/case_list.html", {
        "open_cases": [c for c in cases if c.state == Case.State.OPEN],
        "closed_cases": [c for c in cases if c.state != Case.State.OPEN and not has_results[c.pk]],
        "published_cases": [c for c in cases if has_results[c.pk]],
    })


def _public_case(slug: str) -> Case:
    return get_object_or_404(queries.public_cases(), slug=slug)


@pagecache.public_page("consultations")
def case_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The draft by section; while open, where and until when to send an opinion; once closed,
    「受付を終了しました」 with the expected date until the results are published."""
    case = _public_case(slug)
    sections = list(case.sections.all())
    status = queries.public_status(case)
    channels = [{"code": code, "label": case.channel_label(code)} for code in case.channels]
    return render(request, "consultations/case_detail.html", {"case": case, "sections": sections,
                                                              "status": status, "channels": channels})


def closed(request: HttpRequest, case: Case) -> HttpResponse:
    return render(request, "consultations/closed.html",
                  {"case": case, "has_results": case.published_results.exists()}, status=403)


def _submitter(request: HttpRequest, slug: str) -> str | None:
    """The identity a submission is limited by: the verified subject, else the e-mail address given."""
    verified = identity.verified(request)  # no session load on the hot path without a cookie
    if verified:
        return f"subject:{verified.subject_hash}"
    return throttle.posted("email")(request)


@throttle.throttle("consultations.submit", key=_submitter, when=lambda r: r.POST.get("step") == "submit")
@shed_load
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, slug: str) -> HttpResponse:
    case = queries.public_case_without_department(slug)  # the hot path: the department is rarely shown
    if case is None:
        raise Http404(gettext("この意見募集は見つかりません。"))
    if not case.is_open or Channel.WEB not in case.channels:
        return closed(request, case)
    verified = identity.verified(request)
    if case.identity_level == IdentityLevel.VERIFIED and verified is None:
        if request.method == "POST":
            return render(request, "consultations/verify_required.html", {"case": case}, status=403)
        return render(request, "consultations/verify_required.html", {"case": case})
    if request.method == "GET":
        initial: dict[str, Any] = {}
        if request.GET.get("section"):
            section = Section.objects.filter(case=case, pk=request.GET["section"]).first() \
                if request.GET["section"].isdigit() else None
            if section is None:
                return render(request, "consultations/unknown_section.html", {"case": case}, status=404)
            initial["section"] = section
        if verified:
            initial["name"] = verified.name
            initial["email"] = verified.email
        return render(request, "consultations/submit.html", {"case": case, "form": OpinionForm(case=case, initial=initial),
                                                             "verified": verified})
    form = OpinionForm(request.POST, request.FILES, case=case)
    step = request.POST.get("step", "confirm")
    if step == "back":
        form.is_valid()
        form.errors.clear()
        return render(request, "consultations/submit.html", {"case": case, "form": form, "verified": verified})
    if not form.is_valid():
        status = 413 if form.too_large else 400
        return render(request, "consultations/submit.html", {"case": case, "form": form, "verified": verified},
                      status=status)
    if step != "submit":
        form.hold_attachment()
        return _confirmation(request, case, form, verified)
    if case.proof_of_work and not pow.verify(request.POST.get(pow.FIELD, ""), _pow_scope(case)):
        # Under a flood the ward asks every browser for a proof of work first (nothing is written
        # without one); the page comes back with a new challenge, which the browser solves again.
        return _confirmation(request, case, form, verified, status=400, pow_failed=True)
    data = form.cleaned_data
    try:
        submission, _ = services.submission_receive(
            actor="resident", case=case, idempotency_key=data["idempotency_key"], channel=Channel.WEB,
            text=data["text"], name=data["name"], address=data["address"], category=data["category"],
            email=data.get("email", ""), phone=data.get("phone", ""), section=data.get("section"),
            original=form.original(), identity=verified, site_url=links.base_url(request),
        )
    except services.PeriodClosed:
        return closed(request, case)
    except services.ConsultationError as exc:
        form.add_error(None, str(exc))
        return render(request, "consultations/submit.html", {"case": case, "form": form, "verified": verified},
                      status=400)
    held = data.get("attachment_token")
    if held:
        transaction.on_commit(lambda: default_storage.delete(held["path"]))
    token = signing.dumps(submission.receipt_number, salt=RECEIPT_SALT)
    return HttpResponseRedirect(reverse("consultations:receipt", args=[case.slug, token]), status=303)


def _pow_scope(case: Case) -> str:
    return f"consultations.submit:{case.slug}"


def _confirmation(request: HttpRequest, case: Case, form: OpinionForm, verified: Any, *, status: int = 200,
                  pow_failed: bool = False) -> HttpResponse:
    """確認画面: what will be sent, with the final button (and, under a flood, the proof-of-work challenge)."""
    return render(request, "consultations/confirm.html", {
        "case": case, "form": form, "rows": form.summary_rows(), "verified": verified,
        "pow_challenge": pow.challenge_json(_pow_scope(case)) if case.proof_of_work else "", "pow_failed": pow_failed,
    }, status=status)


def receipt(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    try:
        number = signing.loads(token, salt=RECEIPT_SALT, max_age=7 * 24 * 3600)
    except signing.BadSignature:
        raise Http404(gettext("受付番号の表示期限が過ぎたか、URLが正しくありません。")) from None
    submission = get_object_or_404(Submission.objects.select_related("case"), receipt_number=number, case__slug=slug)
    return render(request, "consultations/receipt.html", {"case": submission.case, "submission": submission})


@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "consultations/confirm_email.html", {"token": token})
    submission = services.submission_confirm_email(token=token)
    if submission is None:
        return render(request, "consultations/confirm_email.html", {"token": token, "invalid": True}, status=404)
    return render(request, "consultations/confirm_email.html", {"submission": submission, "done": True})


def verify_start(request: HttpRequest, slug: str) -> HttpResponse:
    case = _public_case(slug)
    if case.identity_level != IdentityLevel.VERIFIED:
        return redirect("consultations:submit", slug=case.slug)
    try:
        verifier = identity.get_verifier()
        return verifier.start(request, next_url=reverse("consultations:submit", args=[case.slug]),
                              redirect_uri=request.build_absolute_uri(reverse("consultations:verify_callback")))
    except identity.VerificationFailed as exc:  # not configured, or the provider cannot be reached
        return render(request, "consultations/verify_failed.html", {"reason": str(exc)}, status=503)


def verify_callback(request: HttpRequest) -> HttpResponse:
    try:
        verifier = identity.get_verifier()
        next_url, verified = verifier.finish(
            request, redirect_uri=request.build_absolute_uri(reverse("consultations:verify_callback")))
    except identity.VerificationFailed as exc:
        return render(request, "consultations/verify_failed.html", {"reason": str(exc)}, status=400)
    identity.complete(request, verified)  # the session, and a signed-in resident's stored verification
    messages.success(request, gettext("本人確認が完了しました。"))
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("consultations:list")
    return HttpResponseRedirect(next_url)


@throttle.throttle("consultations.report", key=throttle.posted("reporter_contact"))
@require_http_methods(["GET", "POST"])
def report_impersonation(request: HttpRequest, slug: str) -> HttpResponse:
    case = _public_case(slug)
    form = ImpersonationForm(request.POST or None, initial={"receipt_number": request.GET.get("receipt", "")})
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "consultations/report.html", {"case": case, "form": form}, status=400)
        services.impersonation_report_create(case=case, **form.cleaned_data)
        return render(request, "consultations/report_done.html", {"case": case})
    return render(request, "consultations/report.html", {"case": case, "form": form})


def _published(slug: str, version: int | None) -> tuple[Case, PublishedResult]:
    case = get_object_or_404(Case.objects.select_related("department"), slug=slug)
    result = queries.published_result(case, version)
    if result is None:
        raise Http404(gettext("この案件の結果は公表されていません。"))
    return case, result


@pagecache.public_page("consultations")
def results(request: HttpRequest, slug: str, version: int | None = None) -> HttpResponse:
    """The published results, rendered from the stored version (never from the live rows)."""
    case, result = _published(slug, version)
    versions = queries.published_versions(case)
    pub = exports.from_dict(result.data)
    return render(request, "consultations/results.html", {
        "case": case, **exports.context(pub), "formats": exports.FORMATS, "result": result,
        "versions": versions, "latest": versions[-1], "is_latest": result.version == versions[-1].version,
    })


def results_download(request: HttpRequest, slug: str, fmt: str, version: int | None = None) -> HttpResponse:
    """A download exactly as stored at publication (the Japanese record, in any language)."""
    if fmt not in exports.FORMATS:
        raise Http404(gettext("その形式には対応していません。"))
    case, result = _published(slug, version)
    stored = result.files.filter(format=fmt).first()
    if stored is None:
        raise Http404(gettext("その形式には対応していません。"))
    response = HttpResponse(bytes(stored.content), content_type=exports.CONTENT_TYPES[fmt])
    name = exports.file_name(case.slug, fmt, result.version if version is not None else None)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["ETag"] = f'"{stored.sha256}"'
    return response
