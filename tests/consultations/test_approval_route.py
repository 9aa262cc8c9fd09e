"""決裁 along a route (起案 → 係長 → 課長 → 部長): who may decide each step, every step recorded,
差戻し from any step back to the drafter, and the drafter never approving their own round."""

from __future__ import annotations

from datetime import date

import pytest

from hiroba.accounts import permissions
from hiroba.accounts.models import Role, StaffMembership
from hiroba.consultations import services
from hiroba.consultations.models import ApprovalDecision, ApprovalRound, Case
from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_staff):
    """Staff whose roles started before 2025 (the tests travel back to January 2025)."""
    def make(email: str, department: str = "digital", role: Role = Role.APPROVE):
        user = make_staff(email=email, department=department, role=role).user
        StaffMembership.objects.filter(user=user).update(starts_on=date(2000, 4, 1))
        permissions.forget(user)
        return user
    return make


@pytest.fixture
def route(answered_case, staff, departments):
    """係長 (named), 課長 (承認 on the case's department), 部長 (承認 on the department above)."""
    kakaricho, kacho, bucho = staff("kakaricho@example.jp"), staff("kacho@example.jp"), \
        staff("bucho@example.jp", department="policy")
    services.approval_route_set(actor=kacho, case=answered_case, steps=[
        services.RouteStep(label="係長", users=[kakaricho]),
        services.RouteStep(label="課長"),
        services.RouteStep(label="部長", department=departments["policy"]),
    ])
    return kakaricho, kacho, bucho


def test_without_a_route_of_its_own_a_case_has_one_step_for_its_departments_approvers(answered_case, clerk,
                                                                                      approver):
    round_ = services.approval_request(actor=clerk, case=answered_case)
    assert [s["label"] for s in round_.route] == [services.DEFAULT_STEP_LABEL]
    services.approval_decide(actor=approver, round_=round_, approve=True, comment="承認します")
    round_.refresh_from_db()
    assert round_.state == ApprovalRound.State.APPROVED and round_.decided_by == approver
    assert list(round_.decisions.values_list("label", "decision", "comment")) == [
        (services.DEFAULT_STEP_LABEL, "approve", "承認します")]


def test_a_round_passes_every_step_in_order_and_each_decision_is_recorded(answered_case, clerk, route):
    kakaricho, kacho, bucho = route
    round_ = services.approval_request(actor=clerk, case=answered_case)
    assert [s["label"] for s in round_.route] == ["係長", "課長", "部長"]
    for n, (who, label) in enumerate([(kakaricho, "係長"), (kacho, "課長")]):
        with pytest.raises(services.ConsultationError, match="承認されていません"):
            services.case_publish(actor=clerk, case=answered_case)
        round_ = services.approval_decide(actor=who, round_=round_, approve=True, comment=f"{label}確認")
        assert round_.state == ApprovalRound.State.PENDING and round_.step == n + 1
    round_ = services.approval_decide(actor=bucho, round_=round_, approve=True)
    assert round_.state == ApprovalRound.State.APPROVED
    decisions = list(ApprovalDecision.objects.filter(round=round_).order_by("step"))
    assert [(d.step, d.label, d.decided_by) for d in decisions] == [(0, "係長", kakaricho), (1, "課長", kacho),
                                                                    (2, "部長", bucho)]
    assert all(d.decided_at for d in decisions) and decisions[0].comment == "係長確認"
    assert [e.changes["step"] for e in AuditEntry.objects.filter(action="consultations.approval_approve")
            .order_by("seq")] == ["係長", "課長", "部長"]
    services.case_publish(actor=clerk, case=answered_case)
    assert Case.objects.get(pk=answered_case.pk).state == Case.State.PUBLISHED


def test_only_whom_the_step_names_may_decide_it(answered_case, clerk, route, approver, staff):
    kakaricho, kacho, bucho = route
    round_ = services.approval_request(actor=clerk, case=answered_case)
    for outsider in (kacho, approver):  # an approver of the department, but the step names 係長
        with pytest.raises(services.ConsultationError, match="「係長」の段階を決裁する権限がありません"):
            services.approval_decide(actor=outsider, round_=round_, approve=True)
    round_ = services.approval_decide(actor=kakaricho, round_=round_, approve=True)
    elsewhere = staff("care.chief@example.jp", department="care")  # 承認, but in another department
    handler = staff("handler@example.jp", role=Role.HANDLE)  # the right department, not 承認
    for outsider in (elsewhere, handler):
        with pytest.raises(services.ConsultationError, match="「課長」"):
            services.approval_decide(actor=outsider, round_=round_, approve=True)
    assert ApprovalDecision.objects.count() == 1


def test_the_drafter_cannot_approve_their_own_round(answered_case, approver, clerk):
    round_ = services.approval_request(actor=approver, case=answered_case)  # an approver drafting
    with pytest.raises(services.ConsultationError, match="自分の起案を決裁できません"):
        services.approval_decide(actor=approver, round_=round_, approve=True)
    assert not ApprovalDecision.objects.exists()


def test_nobody_decides_two_steps_of_one_round(answered_case, clerk, staff):
    chief = staff("chief@example.jp")
    services.approval_route_set(actor=chief, case=answered_case, steps=[services.RouteStep(label="係長"),
                                                                        services.RouteStep(label="課長")])
    round_ = services.approval_decide(actor=chief, round_=services.approval_request(actor=clerk, case=answered_case),
                                      approve=True)
    with pytest.raises(services.ConsultationError, match="複数の段階"):
        services.approval_decide(actor=chief, round_=round_, approve=True)


def test_a_return_from_any_step_goes_back_to_the_drafter_with_the_reason(answered_case, clerk, route):
    kakaricho, kacho, _ = route
    round_ = services.approval_request(actor=clerk, case=answered_case)
    round_ = services.approval_decide(actor=kakaricho, round_=round_, approve=True)
    with pytest.raises(services.ConsultationError, match="差戻しの理由"):
        services.approval_decide(actor=kacho, round_=round_, approve=False)
    round_ = services.approval_decide(actor=kacho, round_=round_, approve=False, comment="No.2 の表現を見直すこと")
    assert round_.state == ApprovalRound.State.RETURNED and round_.comment == "No.2 の表現を見直すこと"
    assert Case.objects.get(pk=answered_case.pk).state == Case.State.ANSWERING
    assert list(round_.decisions.values_list("label", "decision")) == [("係長", "approve"), ("課長", "return")]
    entry = AuditEntry.objects.get(action="consultations.approval_return")
    assert entry.changes["step"] == "課長" and entry.changes["comment"] == "No.2 の表現を見直すこと"


def test_the_route_cannot_change_while_a_round_is_pending(answered_case, clerk, route):
    services.approval_request(actor=clerk, case=answered_case)
    with pytest.raises(services.ConsultationError, match="決裁中は決裁の経路を変更できません"):
        services.approval_route_set(actor=clerk, case=answered_case, steps=[services.RouteStep(label="課長")])
    assert list(answered_case.approval_steps.values_list("label", flat=True)) == ["係長", "課長", "部長"]


def test_a_route_needs_named_distinct_steps(answered_case, clerk):
    for steps, message in [([services.RouteStep(label=" ")], "名称"),
                           ([services.RouteStep(label="課長"), services.RouteStep(label="課長")], "重複")]:
        with pytest.raises(services.ConsultationError, match=message):
            services.approval_route_set(actor=clerk, case=answered_case, steps=steps)


# --- the staff pages --------------------------------------------------------------------------

def test_the_route_is_set_on_its_page_and_audited(client, answered_case, staff):
    kacho = staff("kacho@example.jp")
    named = staff("kakaricho@example.jp")
    client.force_login(kacho)
    url = f"/staff/consultations/{answered_case.slug}/approval/route/"
    page = client.get(url)
    assert page.status_code == 200 and "第1段階" in page.content.decode()
    data = {"step-TOTAL_FORMS": "3", "step-INITIAL_FORMS": "0", "step-MIN_NUM_FORMS": "0", "step-MAX_NUM_FORMS": "6",
            "step-0-label": "係長", "step-0-role": "30", "step-0-users": named.email,
            "step-1-label": "課長", "step-1-role": "30", "step-1-users": "",
            "step-2-label": "", "step-2-role": "30", "step-2-users": ""}
    assert client.post(url, data).status_code == 302
    assert [(s.label, [u.email for u in s.users.all()]) for s in answered_case.approval_steps.all()] == [
        ("係長", [named.email]), ("課長", [])]
    assert AuditEntry.objects.filter(action="consultations.approval_route_set").exists()
    bad = client.post(url, {**data, "step-0-users": "nobody@example.jp"})
    assert bad.status_code == 400 and "nobody@example.jp" in bad.content.decode()


def test_the_approval_page_offers_the_decision_only_to_who_may_take_it(client, answered_case, clerk, route):
    kakaricho, kacho, _ = route
    services.approval_request(actor=clerk, case=answered_case)
    url = f"/staff/consultations/{answered_case.slug}/approval/"
    client.force_login(kacho)
    html = client.get(url).content.decode()
    assert "「係長」の段階の決裁を待っています" in html and 'value="decide"' not in html
    assert client.post(url, {"action": "decide", "decision": "approve"}).status_code == 403
    client.force_login(kakaricho)
    html = client.get(url).content.decode()
    assert "「係長」として決裁する" in html and 'value="decide"' in html
    assert client.post(url, {"action": "decide", "decision": "approve", "comment": "確認済み"}).status_code == 302
    html = client.get(url).content.decode()
    assert "確認済み" in html and "「課長」の段階の決裁を待っています" in html
