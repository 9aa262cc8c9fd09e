"""Security events raised inside Django, allauth and django-axes, written to the audit log.

These libraries only tell us through signals, so this is the one place hiroba listens to
signals; hiroba's own writes call `hiroba.core.audit.record` from their services.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa import signals as mfa_signals
from axes.signals import user_locked_out
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from hiroba.core import audit


@receiver(auth_signals.user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(actor=user, action="auth.login", obj=user)


@receiver(auth_signals.user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(actor=user, action="auth.logout", obj=user)


@receiver(auth_signals.user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    login = str(credentials.get("email") or credentials.get("username") or credentials.get("login") or "")
    audit.record(
        actor=None, action="auth.login_failed",
        object_type="accounts.user", object_repr=login[:300],
        changes={"login": login[:254]},
    )


@receiver(user_locked_out)
def _locked_out(sender: Any, request: Any, username: str | None = None, ip_address: str | None = None, **kwargs: Any) -> None:
    audit.record(
        actor=None, action="auth.locked_out", object_type="accounts.user",
        object_repr=str(username or "")[:300], changes={"login": username or "", "ip": ip_address},
    )


@receiver(mfa_signals.authenticator_added)
def _mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit.record(actor=user, action="mfa.added", obj=user, changes={"type": authenticator.type})


@receiver(mfa_signals.authenticator_removed)
def _mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit.record(actor=user, action="mfa.removed", obj=user, changes={"type": authenticator.type})


@receiver(mfa_signals.authenticator_reset)
def _mfa_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit.record(actor=user, action="mfa.reset", obj=user, changes={"type": authenticator.type})
