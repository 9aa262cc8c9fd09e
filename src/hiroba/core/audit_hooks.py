"""Security events raised inside Django, allauth and django-axes, written to the audit log.

These libraries only tell us through signals, so this is the one place hiroba listens to
signals; hiroba's own writes call `hiroba.core.audit.record` from their services.
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.contrib.auth import signals as auth_signals
from django.db.models.signals import post_save
from django.dispatch import receiver

from hiroba.core import audit
from hiroba.core.audit import AuditAction


@receiver(auth_signals.user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(actor=user, action=AuditAction.LOGIN, obj=user)


@receiver(auth_signals.user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(actor=user, action=AuditAction.LOGOUT, obj=user)


@receiver(auth_signals.user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    login = str(credentials.get("email") or credentials.get("username") or credentials.get("login") or "")
    audit.record(
        actor=None, action=AuditAction.LOGIN_FAILED,
        object_type="accounts.user", object_repr=login[:300],
        changes={"login": login[:254]},
    )


@receiver(user_locked_out)
def _locked_out(sender: Any, request: Any, username: str | None = None, ip_address: str | None = None, **kwargs: Any) -> None:
    audit.record(
        actor=None, action=AuditAction.LOCKED_OUT, object_type="accounts.user",
        object_repr=str(username or "")[:300], changes={"login": username or "", "ip": ip_address},
    )


@receiver(mfa_signals.authentication_failed)
def _mfa_failed(sender: Any, request: Any = None, user: Any = None, authenticator: Any = None,
                reauthentication: bool = False, **kwargs: Any) -> None:
    """A wrong TOTP or recovery code, at sign-in or when re-authenticating. Not signed in yet, so
    no actor; the account is the object (accounts' lock-out counts the same signal)."""
    audit.record(
        actor=None, action=AuditAction.MFA_FAILED, obj=user,
        changes={"login": str(getattr(user, "email", ""))[:254],
                 "type": getattr(authenticator, "type", ""), "reauthentication": bool(reauthentication)},
    )


@receiver(mfa_signals.authenticator_added)
def _mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit.record(actor=user, action=AuditAction.MFA_ADDED, obj=user, changes={"type": authenticator.type})


@receiver(mfa_signals.authenticator_removed)
def _mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit.record(actor=user, action=AuditAction.MFA_REMOVED, obj=user, changes={"type": authenticator.type})


@receiver(mfa_signals.authenticator_reset)
def _mfa_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit.record(actor=user, action=AuditAction.MFA_RESET, obj=user, changes={"type": authenticator.type})


def _account_event(action: str):  # type: ignore[no-untyped-def]
    def receiver_(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
        if user is None:
            email = kwargs.get("email_address")
            user = getattr(email, "user", None)
        details = {k: str(v) for k, v in kwargs.items() if k in ("email_address", "from_email_address", "to_email_address")}
        audit.record(actor=user, action=action, obj=user, changes=details)

    return receiver_


_ACCOUNT_EVENTS = {
    "password_changed": AuditAction.PASSWORD_CHANGED,
    "password_set": AuditAction.PASSWORD_SET,
    "password_reset": AuditAction.PASSWORD_RESET,
    "email_added": AuditAction.EMAIL_ADDED,
    "email_removed": AuditAction.EMAIL_REMOVED,
    "email_changed": AuditAction.EMAIL_CHANGED,
    "email_confirmed": AuditAction.EMAIL_CONFIRMED,
}
_account_receivers = []
for _signal_name, _action in _ACCOUNT_EVENTS.items():
    _receiver = _account_event(_action)
    _account_receivers.append(_receiver)  # keep a strong reference
    getattr(account_signals, _signal_name).connect(_receiver, dispatch_uid=f"hiroba-audit-{_signal_name}")


@receiver(post_save, sender=LogEntry)
def _admin_log_entry(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """Django admin writes on models whose ModelAdmin does not audit by itself."""
    if not created:
        return
    from django.contrib import admin

    from hiroba.core.admin import AuditedModelAdmin

    model = instance.content_type.model_class() if instance.content_type is not None else None
    if model is not None and isinstance(admin.site._registry.get(model), AuditedModelAdmin):
        return
    action = {1: AuditAction.ADMIN_ADD, 2: AuditAction.ADMIN_CHANGE, 3: AuditAction.ADMIN_DELETE}.get(
        instance.action_flag, AuditAction.ADMIN_OTHER)
    audit.record(
        actor=instance.user, action=action,
        object_type=model._meta.label_lower if model is not None else "",
        object_id=instance.object_id or "", object_repr=instance.object_repr,
        changes={"message": instance.get_change_message()},
    )
