"""Sign-in pages (allauth's, answering failures with 401) and the account review page."""

from __future__ import annotations

from typing import Any

from allauth.account.views import LoginView as AllauthLoginView
from allauth.mfa.base.views import AuthenticateView as AllauthMFAAuthenticateView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rules.contrib.views import permission_required

from hiroba.accounts import lockout
from hiroba.accounts.queries import CODE_LABELS, account_review
from hiroba.core import audit
from hiroba.core.audit import AuditAction


class LoginView(AllauthLoginView):
    """allauth's login; a failed attempt is answered 401 with the form and its errors."""

    def form_invalid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_invalid(form)
        response.status_code = 401
        return response


class MFAAuthenticateView(AllauthMFAAuthenticateView):
    """allauth's second step; a wrong code is answered 401, and counts towards the lock-out.

    While the account is locked out for this address no code is even checked: the pending
    sign-in is dropped and the lock-out page shown (the password step refuses it too).
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = self.stage.login.user
        if lockout.is_locked_out(request, user):
            audit.record(actor=None, action=AuditAction.LOCKED_OUT, obj=user,
                         changes={"login": user.email, "stage": "mfa"})
            self.stage.abort()
            return lockout.lockout_response(request)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):  # type: ignore[no-untyped-def]
        if getattr(self.request, "axes_locked_out", False):
            # This wrong code reached the limit: AxesMiddleware shows the lock-out page.
            self.stage.abort()
        response = super().form_invalid(form)
        response.status_code = 401
        return response


@permission_required("accounts.review_accounts", raise_exception=True)
def account_review_page(request: HttpRequest) -> HttpResponse:
    try:
        days = max(1, min(3650, int(request.GET.get("days", ""))))
    except ValueError:
        days = None
    review = account_review(inactive_days=days)
    return render(request, "accounts/account_review.html", {"review": review, "labels": CODE_LABELS})
