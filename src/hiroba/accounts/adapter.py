"""allauth adapters: sign-up makes residents only; staff go to the back office after login."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse

from hiroba.core.middleware import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Skip the second password prompt during a first MFA enrolment right after sign-in.

        Staff are sent to enrol TOTP straight after their first password sign-in, then shown
        their recovery codes; asking for the password again seconds later only confuses. The
        exemption holds only while every authenticator of the account was created after this
        sign-in and within allauth's reauthentication window; any later change (adding or
        removing a device, new recovery codes) still asks for the password.
        """
        request = getattr(self, "request", None)
        user = getattr(request, "user", None)
        if app == "allauth.mfa" and user is not None and user.is_authenticated:
            records = get_authentication_records(request, user)
            if records:
                signed_in_at = float(records[0].get("at", 0))
                fresh = time.time() - signed_in_at < account_settings.REAUTHENTICATION_TIMEOUT
                older = Authenticator.objects.filter(user=user, created_at__lt=datetime.fromtimestamp(
                    signed_in_at, tz=UTC))
                if fresh and not older.exists():
                    return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        # Whatever the form says, a self-registered account is a resident's.
        user.kind = user.Kind.RESIDENT
        user.is_staff = False
        user.is_superuser = False
        return super().save_user(request, user, form, commit=commit)

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's rate limits count by: the same as the lock-out's and the audit log's."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        if getattr(user, "is_staff_member", False):
            return reverse("staff:home")
        return super().get_login_redirect_url(request)

    # --- mail (issue 13.11; kept apart from the rest of the adapter) -------------------------
    #: The links allauth puts in its mails' context.
    MAIL_LINKS = ("activate_url", "password_reset_url", "signup_url")

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render allauth's mail now (sign-up confirmation, password reset…) and send it from the
        background worker after the commit: a mail server that is down no longer gives a 500."""
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        from hiroba.core import links, notify

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request),
               "site_name": settings.HIROBA_SITE_NAME, "municipality": settings.HIROBA_MUNICIPALITY, **context}
        for name in self.MAIL_LINKS:  # the configured scheme and host, whatever the request came through
            if ctx.get(name):
                ctx[name] = links.absolute(str(ctx[name]), request)
        notify.send_rendered(self.render_mail(template_prefix, email, ctx), template=template_prefix)


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_label(self, user: Any) -> str:
        return user.email

    def get_totp_issuer(self) -> str:
        return settings.MFA_TOTP_ISSUER
