"""The shared mechanisms every app uses: ServiceError, Actor, the receipt counter, state machines."""

from __future__ import annotations

import pytest
from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import Role
from hiroba.core import receipts
from hiroba.core.actors import Actor, ActorKind
from hiroba.core.errors import InvalidTransition, NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.core.states import StateMachine, Transition


class TwoFields(forms.Form):
    start = forms.DateField(required=False)
    end = forms.DateField(required=False)


def test_a_service_error_goes_beside_its_field():
    form = TwoFields(data={})
    assert form.is_valid()
    ServiceError("終了日は開始日以降にしてください。", code="order", field="end").add_to_form(form)
    assert form.errors == {"end": ["終了日は開始日以降にしてください。"]}


def test_a_service_error_without_a_known_field_goes_to_the_top_of_the_form():
    form = TwoFields(data={})
    form.is_valid()
    ServiceError("受付期間外です。", field="no_such_field").add_to_form(form)
    assert form.non_field_errors() == ["受付期間外です。"]


def test_a_lazy_message_renders_in_the_readers_language():
    error = ServiceError(_("受付番号"), code="x")
    with translation.override("en"):
        assert str(error) == "Receipt number"
        assert error.as_dict() == {"code": "x", "message": "Receipt number"}
    assert error.message == "受付番号"


def test_a_subclass_carries_its_code():
    assert NotAllowed("だめです").code == "not_allowed"
    assert ServiceError("x").code == "invalid"


@pytest.mark.django_db
def test_each_kind_of_actor_has_one_audit_label(make_staff, resident):
    clerk = make_staff(email="clerk@example.jp").user
    assert Actor.staff(clerk).audit_label == "clerk@example.jp"
    assert Actor.of(clerk).kind is ActorKind.STAFF
    assert Actor.of(resident).kind is ActorKind.RESIDENT
    assert Actor.resident().audit_label == "resident"
    assert Actor.guardian().audit_label == "guardian"
    assert Actor.system("demo").audit_label == "demo"
    assert Actor.of(None).audit_label == "system"
    # the labels apps used to write by hand mean one kind each
    assert {Actor.of(x).audit_label for x in ("public", "resident", "applicant")} == {"resident"}
    assert Actor.of("guardian").kind is ActorKind.GUARDIAN
    with pytest.raises(ValueError):
        Actor.staff(None)


@pytest.mark.django_db
def test_the_receipt_counter_advances_by_one_and_formats_past_four_digits():
    dept = Department.objects.create(code="x", name="x課")
    assert receipts.take_next(Department, dept.pk, "sort_order") == dept.sort_order + 1
    assert receipts.take_next(Department, dept.pk, "sort_order") == dept.sort_order + 2
    assert receipts.receipt_number("2025-PC", 7) == "2025-PC-0007"
    assert receipts.receipt_number("2025-PC", 10000) == "2025-PC-10000"
    with pytest.raises(ServiceError):
        receipts.take_next(Department, 999_999, "sort_order")


class Doc:
    def __init__(self, state: str, department_id: int = 0) -> None:
        self.state = state
        self.department_id = department_id

    def get_state_display(self) -> str:
        return {"draft": "下書き", "open": "募集中", "closed": "終了"}[self.state]


MACHINE = StateMachine("state", [
    Transition("open", source=["draft"], target="open", label=_("開始する")),
    Transition("close", source=["open"], target="closed", label=_("締め切る"), permission="tests.close_doc",
               confirm=_("締め切ると受付できません。"), reason=lambda doc: doc.department_id == 1),
])


def test_a_state_machine_refuses_a_transition_from_the_wrong_state():
    with pytest.raises(InvalidTransition) as exc:
        MACHINE.check(Doc("draft"), "close", actor="system")
    assert str(exc.value) == "現在の状態（下書き）では「締め切る」はできません。"


def test_a_state_machine_sets_the_new_state_and_says_what_changed():
    doc = Doc("draft")
    assert MACHINE.apply(doc, "open", actor="system") == ("draft", "open")
    assert doc.state == "open"
    assert MACHINE.states() == ["draft", "open", "closed"]


def test_a_state_machine_asks_for_a_reason_when_the_step_needs_one():
    with pytest.raises(ServiceError) as exc:
        MACHINE.apply(Doc("open", department_id=1), "close", actor="system")
    assert exc.value.field == "reason"
    assert MACHINE.apply(Doc("open", department_id=1), "close", actor="system", reason="早期終了") == ("open", "closed")


@pytest.mark.django_db
def test_a_state_machine_checks_who_may_make_the_transition(make_staff, departments):
    import rules

    from hiroba.accounts.rules import is_staff_member, role_on_department

    rules.add_perm("tests.close_doc", is_staff_member & role_on_department(Role.APPROVE))
    try:
        approver = make_staff(email="a@example.jp", role=Role.APPROVE).user
        clerk = make_staff(email="c@example.jp", role=Role.HANDLE).user
        doc = Doc("open", department_id=departments["digital"].pk)
        assert [t.name for t in MACHINE.available(doc, approver)] == ["close"]
        assert MACHINE.available(doc, clerk) == []
        with pytest.raises(NotAllowed):
            MACHINE.check(doc, "close", actor=clerk)
        MACHINE.check(doc, "close", actor=approver)
        # a person without an account is never a trusted caller of a guarded step
        with pytest.raises(NotAllowed):
            MACHINE.check(doc, "close", actor=Actor.resident())
    finally:
        rules.remove_perm("tests.close_doc")


@pytest.mark.django_db
def test_the_audit_log_records_an_actor_under_its_one_label(make_staff):
    from hiroba.core import audit
    from hiroba.core.actors import Actor

    staff = make_staff(email="clerk@example.jp").user
    entries = [audit.record(actor=a, action="core.test") for a in
               (Actor.staff(staff), Actor.guardian(), Actor.resident(), Actor.system("importer"))]
    assert [(e.actor_id, e.actor_label) for e in entries] == [
        (staff.pk, "clerk@example.jp"), (None, "guardian"), (None, "resident"), (None, "importer")]
