"""Residents' pages: their notices (and those they read for someone else), consent per type,
and linking their account to their 宛名番号. Someone else's notice is 404, and logged."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hiroba.core.errors import ServiceError
from hiroba.notices import delivery, forms, queries, recipients
from hiroba.notices.models import Consent, Notice, NoticeType, Recipient, Status


def _types_with_consent(recipient: Recipient) -> list[dict[str, object]]:
    active = {c.notice_type_id: c for c in Consent.objects.filter(recipient=recipient, withdrawn_at__isnull=True)}
    return [{"type": t, "consent": active.get(t.pk)} for t in NoticeType.objects.filter(is_active=True)
            .order_by("slug")]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    recipient = recipients.recipient_of(request.user)
    return render(request, "notices/home.html", {
        "recipient": recipient, "link_form": forms.LinkForm(),
        "types": _types_with_consent(recipient) if recipient else [],
        "notices": queries.notices_of(request.user)[:200],
    })


@login_required
@require_POST
def link(request: HttpRequest) -> HttpResponse:
    form = forms.LinkForm(request.POST)
    if form.is_valid():
        try:
            recipients.account_link(user=request.user, atena_number=form.cleaned_data["atena_number"],
                                    birth_date=form.cleaned_data["birth_date"])
        except ServiceError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("宛名番号を確認しました。書面の受け取り方を選べます。"))
            return HttpResponseRedirect(reverse("notices:home"))
    return render(request, "notices/home.html", {"recipient": None, "link_form": form, "types": [],
                                                 "notices": queries.notices_of(request.user)[:200]}, status=400)


@login_required
@require_POST
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    notice_type = get_object_or_404(NoticeType, slug=slug, is_active=True)
    form = forms.ConsentForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        if form.cleaned_data["decision"] == "give":
            recipients.consent_give(user=request.user, notice_type=notice_type, version=form.cleaned_data["version"])
            messages.success(request, _("「%(name)s」を hiroba で受け取ります。") % {"name": notice_type.name})
        else:
            recipients.consent_withdraw(user=request.user, notice_type=notice_type)
            messages.success(request, _("「%(name)s」は次の送付から郵便でお送りします。") % {"name": notice_type.name})
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("notices:home"))


def _notice_for(request: HttpRequest, pk: int) -> tuple[Notice | None, str]:
    """The notice and the reader's standing, or (None, "") after logging the attempt: the view
    answers 404 with a response (raising would roll the log entry back with the request)."""
    notice = (Notice.objects.select_related("batch__notice_type__department", "recipient", "template")
              .exclude(status=Status.CREATED).filter(pk=pk).first())
    access = delivery.access_of(notice, request.user) if notice else ""
    if not access:
        delivery.foreign_access(notice_id=pk, user=request.user)
        return None, ""
    return notice, access


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", status=404)


@login_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice, access = _notice_for(request, pk)
    if notice is None:
        return _not_found(request)
    notice = delivery.notice_open(notice=notice, user=request.user, as_=access)
    return render(request, "notices/notice.html", {"notice": notice, "access": access,
                                                   "on_paper": notice.paper_at is not None})


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    notice, _access = _notice_for(request, pk)
    if notice is None:
        return _not_found(request)
    try:
        delivery.notice_acknowledge(notice=notice, user=request.user)
        messages.success(request, _("受領を確認しました。"))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("notices:notice", args=[pk]))
