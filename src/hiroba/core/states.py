"""State machines declared once, on the model: transitions, their labels, who may make them.

A model lists its workflow as data; services enforce it (`StateMachine.apply` inside the
service's transaction) and views draw their buttons from it (`StateMachine.available`), so the
allowed transitions can never drift between a button label and a service::

    class Case(models.Model):
        class State(models.TextChoices): ...
        state = models.CharField(...)

        workflow = StateMachine("state", [
            Transition("open", source=[State.PREPARING], target=State.OPEN, label=_("募集を開始する"),
                       permission="consultations.change_case"),
            Transition("close", source=[State.OPEN], target=State.TALLYING, label=_("募集を締め切る"),
                       permission="consultations.change_case", confirm=_("締め切ると…"), reason="early"),
        ])

    # in a service, under select_for_update:
    before, after = Case.workflow.apply(case, "close", actor=actor)
    # in a view:
    buttons = Case.workflow.available(case, request.user)

``permission`` is a django-rules permission checked with ``user.has_perm(permission, obj)``
whenever the actor is a person with an account (system actors — the demo, the importer,
scheduled jobs — are trusted callers). ``confirm`` is the sentence the confirmation dialog
shows before a weighty or irreversible step; ``reason`` says whether the step needs a reason
(``"always"``, or a callable ``(obj) -> bool`` such as "closing before the planned end").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.utils.encoding import force_str
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import InvalidTransition, NotAllowed, ServiceError


@dataclass(frozen=True)
class Transition:
    name: str
    source: Sequence[str]
    target: str
    label: Any  # the button's text (lazy)
    permission: str | None = None
    confirm: Any = None  # what the confirmation dialog says will happen (lazy), or None
    reason: str | Callable[[Any], bool] | None = None  # "always", a predicate on the object, or None
    style: str = "primary"  # "primary" | "secondary" | "danger": how the button is drawn

    def needs_reason(self, obj: Any) -> bool:
        if self.reason is None:
            return False
        if self.reason == "always":
            return True
        return bool(callable(self.reason) and self.reason(obj))


@dataclass
class StateMachine:
    field: str
    transitions: Sequence[Transition]
    _by_name: dict[str, Transition] = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {}
        for t in self.transitions:
            if t.name in self._by_name:
                raise ValueError(f"transition {t.name!r} is declared twice")
            self._by_name[t.name] = t

    def __getitem__(self, name: str) -> Transition:
        return self._by_name[name]

    def state_of(self, obj: Any) -> str:
        return str(getattr(obj, self.field))

    def states(self) -> list[str]:
        """Every state the machine mentions (for a CheckConstraint or a test)."""
        seen: dict[str, None] = {}
        for t in self.transitions:
            for s in (*t.source, t.target):
                seen[str(s)] = None
        return list(seen)

    def from_state(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.source]

    def can(self, obj: Any, name: str) -> bool:
        """Whether the object's current state allows the transition (permission not checked)."""
        t = self._by_name.get(name)
        return t is not None and self.state_of(obj) in t.source

    def permitted(self, transition: Transition, obj: Any, actor: ActorLike) -> bool:
        if transition.permission is None:
            return True
        who = Actor.of(actor)
        if who.user is None:  # a trusted system caller (demo, importer, scheduled job)
            return who.kind.value == "system"
        return bool(who.user.has_perm(transition.permission, obj))

    def available(self, obj: Any, user: Any) -> list[Transition]:
        """The transitions a view offers this user now: allowed from the state and permitted."""
        state = self.state_of(obj)
        return [t for t in self.transitions if state in t.source and self.permitted(t, obj, user)]

    def check(self, obj: Any, name: str, *, actor: ActorLike = None, reason: str = "") -> Transition:
        """The transition, or a ServiceError saying in Japanese why it cannot be made now."""
        t = self._by_name.get(name)
        if t is None:
            raise InvalidTransition(_("その操作はできません。"), code="unknown_transition")
        state = self.state_of(obj)
        if state not in t.source:
            raise InvalidTransition(format_lazy(
                _("現在の状態（{state}）では「{action}」はできません。"),
                state=self._state_label(obj, state), action=t.label,
            ))
        if not self.permitted(t, obj, actor):
            raise NotAllowed(format_lazy(_("「{action}」を行う権限がありません。"), action=t.label))
        if t.needs_reason(obj) and not reason.strip():
            raise ServiceError(format_lazy(_("「{action}」の理由を入力してください。"), action=t.label),
                               code="reason_required", field="reason")
        return t

    def apply(self, obj: Any, name: str, *, actor: ActorLike = None, reason: str = "") -> tuple[str, str]:
        """Check the transition and set the new state on `obj` (the caller saves it inside its
        transaction, with the row locked, and writes the audit entry). ``(before, after)``."""
        t = self.check(obj, name, actor=actor, reason=reason)
        before = self.state_of(obj)
        setattr(obj, self.field, t.target)
        return before, str(t.target)

    def _state_label(self, obj: Any, state: str) -> str:
        display = getattr(obj, f"get_{self.field}_display", None)
        return force_str(display()) if callable(display) else state
