"""Helpers shared by the records services (one module per noun: `guidelines`, `register`,
`lifecycle`, `scans`, `own_records`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import Role
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.records import access


def who(actor: ActorLike) -> Any:
    """What `audit.record` takes for an actor today: the account, or the label."""
    a = Actor.of(actor)
    return a.user or a.audit_label


def user_of(actor: ActorLike) -> Any:
    return Actor.of(actor).user


def require(actor: ActorLike, permission: str, obj: Any, message: Any) -> None:
    """Refuse a person without `permission` on `obj` (system actors are trusted callers)."""
    user = user_of(actor)
    if user is not None and not user.has_perm(permission, obj):
        raise NotAllowed(message)


def require_department(actor: ActorLike, department: Department, minimum: Role = Role.HANDLE) -> None:
    user = user_of(actor)
    if user is not None and not access.OFFICE.has_role(user, department.pk, minimum):
        raise NotAllowed(format_lazy(_("{department}の文書を扱う権限がありません。"), department=department.name))


def department_by_name(name: str, *, field: str = "department") -> Department:
    """A department by its name (総務課), its full name (政策経営部 総務課) or its code."""
    name = " ".join(str(name).split())
    matches = list(Department.objects.filter(Q(name=name) | Q(code=name)))
    if not matches:
        matches = [d for d in Department.objects.select_related("parent") if d.full_name == name]
    if len(matches) != 1:
        raise ServiceError(format_lazy(_("所属「{name}」が見つかりません。") if not matches else
                                       _("所属「{name}」が複数あります。所属コードで指定してください。"), name=name),
                           code="department_unknown", field=field)
    return matches[0]
