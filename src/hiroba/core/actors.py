"""Who acted: one typed `Actor` for every service and every audit entry.

Every service takes ``actor: ActorLike``: an `Actor`, or anything `Actor.of` makes one of (a
user, ``request.user`` as it comes, a legacy label string, None for the system); a service that
stores who acted on a record uses ``Actor.of(actor).account()``, never the argument itself. The audit log stores ``actor_id`` (staff or resident
account, when there is one) and ``actor_label``; each kind has exactly one label form:

===========  ===================================  ==========================================
kind         made by                              audit label
===========  ===================================  ==========================================
staff        ``Actor.staff(user)``                the account's e-mail
resident     ``Actor.resident(user=None)``        the account's e-mail, or ``resident``
guardian     ``Actor.guardian(email="")``         ``guardian``
system       ``Actor.system("demo")``             the process name: ``system``, ``demo``, …
===========  ===================================  ==========================================

A resident without an account (a web-form submission, an applicant, a voter) is ``resident``;
a guardian confirming consent is ``guardian`` (the e-mail is kept on the record they act on,
not in the audit label, so the chain holds no personal contact data).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


class ActorKind(StrEnum):
    STAFF = "staff"
    RESIDENT = "resident"
    GUARDIAN = "guardian"
    SYSTEM = "system"


KIND_LABELS = {
    ActorKind.STAFF: _("職員"),
    ActorKind.RESIDENT: _("区民"),
    ActorKind.GUARDIAN: _("保護者"),
    ActorKind.SYSTEM: _("システム"),
}

#: Legacy free-text labels still passed by some callers, and the kind each one means.
_LEGACY_LABELS = {
    "public": ActorKind.RESIDENT,
    "resident": ActorKind.RESIDENT,
    "applicant": ActorKind.RESIDENT,
    "voter": ActorKind.RESIDENT,
    "guardian": ActorKind.GUARDIAN,
    "anonymous": ActorKind.RESIDENT,
}


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    user: Any = None  # the account (staff or resident) when there is one
    name: str = ""  # a system actor's process name ("system", "demo", "chainer", …)

    @classmethod
    def staff(cls, user: Any) -> Actor:
        if not getattr(user, "is_authenticated", False):
            raise ValueError("a staff actor needs a signed-in user")
        return cls(ActorKind.STAFF, user=user)

    @classmethod
    def resident(cls, user: Any = None) -> Actor:
        return cls(ActorKind.RESIDENT, user=user if getattr(user, "is_authenticated", False) else None)

    @classmethod
    def guardian(cls) -> Actor:
        return cls(ActorKind.GUARDIAN)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, name=name or "system")

    @classmethod
    def of(cls, value: Any) -> Actor:
        """An Actor from what callers pass today: an Actor, a user, a label string, or None."""
        if isinstance(value, Actor):
            return value
        if value is None:
            return cls.system()
        if isinstance(value, str):
            kind = _LEGACY_LABELS.get(value)
            if kind is ActorKind.RESIDENT:
                return cls.resident()
            if kind is ActorKind.GUARDIAN:
                return cls.guardian()
            return cls.system(value)
        if getattr(value, "is_authenticated", False):
            return cls(ActorKind.STAFF if getattr(value, "is_staff_member", getattr(value, "is_staff", False))
                       else ActorKind.RESIDENT, user=value)
        return cls.resident()

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    @property
    def audit_label(self) -> str:
        """The one label this actor has in the audit log."""
        if self.user is not None:
            return getattr(self.user, "email", "") or str(self.user)
        if self.kind is ActorKind.SYSTEM:
            return self.name or "system"
        return self.kind.value

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def is_staff(self) -> bool:
        return self.kind is ActorKind.STAFF

    def account(self) -> Any:
        """The user to store as 作成者/更新者 on a record, or None for residents without an
        account and for system actors."""
        return self.user


#: What a service's ``actor`` parameter accepts: an `Actor`, or what `Actor.of` makes one of (a
#: signed-in user, ``request.user`` as it comes, a legacy label string, None for the system).
ActorLike: TypeAlias = "Actor | AbstractBaseUser | AnonymousUser | str | None"
