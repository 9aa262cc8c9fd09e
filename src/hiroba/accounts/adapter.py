"""allauth adapters: sign-up makes residents only; staff go to the back office after login."""

from __future__ import annotations

from typing import Any

import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Skip the second password prompt for a first MFA enrolment right after sign-in.

        Staff are sent to enrol TOTP straight after their first password sign-in; asking for
        the password again a few seconds later only confuses. Any later change (adding or
        removing a device) still requires reauthentication.
        """
        request = getattr(self, "request", None)
        user = getattr(request, "user", None)
        if app == "allauth.mfa" and user is not None and user.is_authenticated:
            if not Authenticator.objects.filter(user=user).exists():
                records = get_authentication_records(request, user)
                window = account_settings.REAUTHENTICATION_TIMEOUT
                if records and time.time() - float(records[-1].get("at", 0)) < window:
                    return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        # Whatever the form says, a self-registered account is a resident's.
        user.kind = user.Kind.RESIDENT
        user.is_staff = False
        user.is_superuser = False
        return super().save_user(request, user, form, commit=commit)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        if getattr(user, "is_staff_member", False):
            return reverse("staff:home")
        return super().get_login_redirect_url(request)


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_label(self, user: Any) -> str:
        return user.email

    def get_totp_issuer(self) -> str:
        return settings.MFA_TOTP_ISSUER
