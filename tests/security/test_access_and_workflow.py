"""Least privilege and the finding workflow: a department sees and works on its own systems and
findings only; the CISO office (情報システム課) sees all and confirms fixes; risk acceptance needs a
different person holding 承認 on the department."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hiroba.accounts.models import Role
from hiroba.core.errors import InvalidTransition, NotAllowed, ServiceError
from hiroba.security import importing, queries, services
from hiroba.security.models import Finding, FindingStatus, RiskAcceptance
from tests.security.test_import import first_scan
from tests.security.zapgen import Alert, Inst, Site, zap_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sites(site, departments):
    other = services.system_create(actor="test", url="https://dx.example.lg.jp/", name="DXポータル",
                                   department=departments["digital"])
    importing.round_import(actor="test", system=site, stream=importing.spooled(zap_json(first_scan())),
                           filename="a.json", performed_on=date(2024, 10, 15))
    importing.round_import(actor="test", system=other, filename="b.json", performed_on=date(2024, 10, 15),
                           stream=importing.spooled(zap_json([Site("https://dx.example.lg.jp", [
                               Alert("10020", "クリックジャッキング", 2, [Inst("https://dx.example.lg.jp/")])])])))
    return site, other


def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_department_sees_only_its_own_systems_and_findings(client, two_sites, care_clerk):
    care, dx = two_sites
    assert set(queries.systems_for(care_clerk)) == {care}
    assert {f.system for f in queries.findings_for(care_clerk)} == {care}
    signed_in(client, care_clerk)
    assert client.get(reverse("security_staff:system", args=[care.pk])).status_code == 200
    assert client.get(reverse("security_staff:system", args=[dx.pk])).status_code == 404
    other = Finding.objects.get(system=dx)
    assert client.get(reverse("security_staff:finding", args=[other.pk])).status_code == 404
    assert client.get(reverse("security_staff:system_report", args=[dx.pk, "csv"])).status_code == 404
    queue = client.get(reverse("security_staff:queue")).content.decode()
    assert "クロスサイトスクリプティング" in queue and "DXポータル" not in queue


def test_the_ciso_office_sees_every_department(client, two_sites, office_clerk):
    care, dx = two_sites
    assert set(queries.systems_for(office_clerk)) == {care, dx}
    signed_in(client, office_clerk)
    assert client.get(reverse("security_staff:system", args=[dx.pk])).status_code == 200
    page = client.get(reverse("security_staff:home")).content.decode()
    assert "高齢介護課" in page and "デジタル政策課" in page


def test_the_dashboard_is_the_ciso_offices_and_a_department_goes_to_its_queue(client, two_sites, care_clerk):
    signed_in(client, care_clerk)
    response = client.get(reverse("security_staff:home"))
    assert response.status_code == 302 and response["Location"] == reverse("security_staff:queue")


def test_a_reader_of_another_department_cannot_change_a_finding(two_sites, make_staff):
    reader = make_staff(email="reader@example.jp", department="digital", role=Role.HANDLE).user
    finding = Finding.objects.get(system=two_sites[0], rule__rule_id="40012")
    with pytest.raises(NotAllowed):
        services.finding_transition(actor=reader, finding=finding, name="start")


def test_the_department_fixes_and_only_the_ciso_office_confirms(two_sites, care_clerk, office_clerk):
    finding = Finding.objects.get(system=two_sites[0], rule__rule_id="40012")
    services.finding_transition(actor=care_clerk, finding=finding, name="start")
    with pytest.raises(ServiceError) as exc:
        services.finding_transition(actor=care_clerk, finding=finding, name="mark_fixed")
    assert exc.value.field == "reason"
    services.finding_transition(actor=care_clerk, finding=finding, name="mark_fixed", reason="出力をエスケープした")
    with pytest.raises(NotAllowed):
        services.finding_transition(actor=care_clerk, finding=finding, name="confirm")
    finding = services.finding_transition(actor=office_clerk, finding=finding, name="confirm")
    assert finding.status == FindingStatus.RESOLVED and finding.resolved_on == timezone.localdate()
    with pytest.raises(InvalidTransition):
        services.finding_transition(actor=office_clerk, finding=finding, name="start")


def test_risk_acceptance_needs_another_person_with_approval_on_the_department(
        two_sites, care_clerk, care_approver, make_staff, office_clerk):
    finding = Finding.objects.get(system=two_sites[0], rule__rule_id="10202")
    expires = timezone.localdate() + timedelta(days=90)
    with pytest.raises(ServiceError):
        services.risk_request(actor=care_clerk, finding=finding, reason="", expires_on=expires)
    with pytest.raises(ServiceError):
        services.risk_request(actor=care_clerk, finding=finding, reason="代替策", expires_on=timezone.localdate())
    acceptance = services.risk_request(actor=care_clerk, finding=finding, reason="WAFで遮断", expires_on=expires)
    with pytest.raises(ServiceError):  # one live request per finding
        services.risk_request(actor=care_clerk, finding=finding, reason="重ねて", expires_on=expires)
    with pytest.raises(NotAllowed):  # the requester
        services.risk_decide(actor=care_clerk, acceptance=acceptance, approve=True)
    with pytest.raises(NotAllowed):  # the CISO office is not the department's approver
        services.risk_decide(actor=office_clerk, acceptance=acceptance, approve=True)
    other_approver = make_staff(email="dx.approver@example.jp", department="digital", role=Role.APPROVE).user
    with pytest.raises(NotAllowed):
        services.risk_decide(actor=other_approver, acceptance=acceptance, approve=True)
    services.risk_decide(actor=care_approver, acceptance=acceptance, approve=True, note="確認した")
    finding.refresh_from_db()
    acceptance.refresh_from_db()
    assert finding.status == FindingStatus.RISK_ACCEPTED and acceptance.state == RiskAcceptance.State.APPROVED
    assert acceptance.approver == care_approver


def test_the_risk_acceptance_pages_work_for_requester_and_approver(client, two_sites, care_clerk, care_approver):
    finding = Finding.objects.get(system=two_sites[0], rule__rule_id="10202")
    signed_in(client, care_clerk)
    expires = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = client.post(reverse("security_staff:risk_request", args=[finding.pk]),
                           {"reason": "次期更改で対応", "expires_on": expires})
    assert response.status_code == 302
    acceptance = RiskAcceptance.objects.get()
    client.force_login(care_approver)
    assert "承認待ちのリスク受容" in client.get(reverse("security_staff:queue")).content.decode()
    response = client.post(reverse("security_staff:risk_decide", args=[acceptance.pk]), {"decision": "approve"})
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RISK_ACCEPTED


def test_a_false_positive_needs_a_reason_and_the_departments_approver(two_sites, care_clerk, care_approver):
    finding = Finding.objects.get(system=two_sites[0], rule__rule_id="10020")
    with pytest.raises(NotAllowed):
        services.finding_transition(actor=care_clerk, finding=finding, name="false_positive", reason="x")
    finding = services.finding_transition(actor=care_approver, finding=finding, name="false_positive",
                                          reason="WAFで付与")
    assert finding.status == FindingStatus.FALSE_POSITIVE
    finding = services.finding_transition(actor=care_approver, finding=finding, name="reopen", reason="再確認")
    assert finding.status == FindingStatus.OPEN and finding.reopen_count == 1


def test_the_workflow_buttons_come_from_the_state_machine(client, two_sites, care_clerk):
    finding = Finding.objects.get(system=two_sites[0], rule__rule_id="40012")
    signed_in(client, care_clerk)
    page = client.get(reverse("security_staff:finding", args=[finding.pk])).content.decode()
    assert "対応を始める" in page and "解消を確認する" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the attack string, escaped
    response = client.post(reverse("security_staff:finding_transition", args=[finding.pk, "start"]))
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.IN_PROGRESS
