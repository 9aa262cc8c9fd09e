"""Creating, revoking and checking staff API tokens (every step audited).

A token reads ``hiroba_<prefix>_<secret>``: the prefix finds the row, the SHA-256 of the whole
token must match the stored one (compared in constant time). The plain token exists only in the
return value of `token_create`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.accounts import permissions
from hiroba.accounts.middleware import has_strong_mfa
from hiroba.accounts.models import Role
from hiroba.api import audit_actions, conf
from hiroba.api.models import Access, ApiToken, Module
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorKind, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department

TOKEN_PREFIX = "hiroba_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def max_expiry_day(today: date | None = None) -> date:
    return (today or timezone.localdate()) + timedelta(days=conf.get("API_TOKEN_MAX_DAYS"))


def grantable_departments(user: Any, access: str = Access.READ) -> list[Department]:
    """Departments the user may give a token: where the user holds READ (HANDLE for write)."""
    minimum = Role.HANDLE if access == Access.WRITE else Role.READ
    ids = permissions.department_ids(user, minimum)
    qs = Department.objects.filter(is_active=True)
    return list(qs if ids is None else qs.filter(id__in=ids))


@transaction.atomic
def token_create(*, actor: ActorLike, user: Any, name: str, departments: Iterable[Department], modules: Iterable[str],
                 access: str, expires_on: date) -> tuple[ApiToken, str]:
    """A new token for `user` (the one creating it: tokens are personal). (token row, plain token)."""
    by = Actor.of(actor)
    if not (actor is not None and by.kind is ActorKind.SYSTEM) and by.user_id != user.pk:
        raise NotAllowed(_("APIトークンは本人しか作成できません。"))
    if not getattr(user, "is_staff_member", False):
        raise NotAllowed(_("APIトークンを作成できるのは職員だけです。"), code="not_staff")
    if not has_strong_mfa(user):
        raise NotAllowed(_("APIトークンを作成するには、二要素認証（認証アプリ）を設定してください。"), code="mfa_required")
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("用途を入力してください。"), code="name_required", field="name")
    if access not in Access.values:
        raise ServiceError(_("権限を選んでください。"), code="access_invalid", field="access")
    modules = list(dict.fromkeys(modules))
    if not modules or any(m not in Module.values for m in modules):
        raise ServiceError(_("対象の機能を1つ以上選んでください。"), code="modules_invalid", field="modules")
    departments = list(departments)
    if not departments:
        raise ServiceError(_("対象の所属を1つ以上選んでください。"), code="departments_required", field="departments")
    allowed = {d.pk for d in grantable_departments(user, access)}
    outside = [d.name for d in departments if d.pk not in allowed]
    if outside:
        raise NotAllowed(_("権限のない所属は選べません：%(names)s") % {"names": "、".join(outside)},
                         code="department_not_allowed", field="departments")
    today = timezone.localdate()
    if expires_on <= today:
        raise ServiceError(_("有効期限は明日以降の日にしてください。"), code="expiry_past", field="expires_on")
    if expires_on > max_expiry_day(today):
        raise ServiceError(_("有効期限は作成日から1年以内にしてください。"), code="expiry_too_long", field="expires_on")
    prefix = secrets.token_hex(6)
    plain = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=prefix, token_hash=hash_token(plain),
                                    modules=modules, access=access, expires_at=_end_of_day(expires_on))
    token.departments.set(departments)
    audit.record(actor=actor, action=audit_actions.TOKEN_CREATE, obj=token, changes={
        "token_id": token.pk, "prefix": prefix, "user": user.pk, "name": token.name, "modules": modules,
        "access": access, "departments": sorted(d.code for d in departments),
        "expires_at": token.expires_at.isoformat(),
    })
    return token, plain


@transaction.atomic
def token_revoke(*, actor: ActorLike, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise ServiceError(_("このトークンはすでに失効しています。"), code="already_revoked")
    by = Actor.of(actor)
    user_pk = by.user_id
    if not (actor is not None and by.kind is ActorKind.SYSTEM) and user_pk != token.user_id \
            and not permissions.is_system_admin(by.user):
        raise NotAllowed(_("このトークンを失効させる権限がありません。"))
    token.revoked_at = timezone.now()
    token.revoked_by_id = user_pk
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(actor=actor, action=audit_actions.TOKEN_REVOKE, obj=token,
                 changes={"token_id": token.pk, "prefix": token.prefix})
    return token


class TokenRefused(ServiceError):
    """The token cannot be used (unknown, expired, revoked, or its owner no longer staff)."""

    code = "token_invalid"


def find(plain: str) -> ApiToken:
    """The live token `plain` names; TokenRefused otherwise (nothing is said about which part failed
    except expired and revoked, which the owner needs to know)."""
    parts = plain.strip().split("_")
    if len(parts) < 3 or f"{parts[0]}_" != TOKEN_PREFIX:
        raise TokenRefused(_("APIトークンが正しくありません。"))
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(plain.strip())):
        raise TokenRefused(_("APIトークンが正しくありません。"))
    if token.revoked_at is not None:
        raise TokenRefused(_("このAPIトークンは失効しています。"), code="token_revoked")
    if token.is_expired():
        raise TokenRefused(_("このAPIトークンは有効期限が切れています。"), code="token_expired")
    if not token.user.is_staff_member:
        raise TokenRefused(_("このAPIトークンの職員アカウントは無効です。"), code="token_owner_inactive")
    return token


@dataclass(frozen=True)
class Grant:
    """What one request may do with its token: the owner, the modules, the departments."""

    token: ApiToken
    department_ids: frozenset[int]

    @property
    def user(self) -> Any:
        return self.token.user


def authorise(token: ApiToken, *, module: str, write: bool = False) -> Grant:
    """Check the token's scope for `module` (and write access); its departments, narrowed to those
    where its owner still holds the role (READ, HANDLE for writes)."""
    if module not in token.modules:
        raise NotAllowed(_("このAPIトークンでは、この機能は利用できません。"), code="scope_module")
    if write and token.access != Access.WRITE:
        raise NotAllowed(_("このAPIトークンは読み取り専用です。"), code="scope_write")
    owner_ids = permissions.department_ids(token.user, Role.HANDLE if write else Role.READ)
    ids = set(token.departments.values_list("id", flat=True))
    if owner_ids is not None:
        ids &= owner_ids
    return Grant(token=token, department_ids=frozenset(ids))


def record_use(token: ApiToken, *, method: str, path: str, status: int | None = None) -> None:
    """Every use: the audit log (with the token's id) and the token's last use."""
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    audit.record_pending(actor=token.user, action=audit_actions.TOKEN_USE, obj=token,
                         changes={"token_id": token.pk, "prefix": token.prefix, "method": method, "path": path[:200],
                                  **({"status": status} if status is not None else {})})
