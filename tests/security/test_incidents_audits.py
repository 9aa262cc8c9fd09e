"""Incidents (timeline append-only, the 個人情報保護委員会 deadlines, closure needs lessons),
drills with improvement actions, playbooks as checklists, audits with corrective actions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from hiroba.accounts.models import Role
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.security import audits, incidents
from hiroba.security.models import Audit, CorrectiveAction, Incident, TimelineEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(departments, care_clerk):
    when = timezone.make_aware(datetime(2025, 6, 2, 9, 0))
    return incidents.incident_create(actor=care_clerk, title="メール誤送信", description="申請者一覧を誤送信",
                                     channel=Incident.Channel.STAFF, department=departments["care"], detected_at=when,
                                     personal_data=True, persons_affected=40)


def test_the_timeline_is_append_only(incident, care_clerk):
    entry = incidents.timeline_append(actor=care_clerk, incident=incident, text="送信先に削除を依頼",
                                      kind=TimelineEntry.Kind.CONTAINMENT)
    entry.text = "書き換え"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    assert incident.timeline.count() == 2  # the detection and this one


def test_the_commission_report_deadlines_follow_the_rules(incident, care_clerk):
    assert not incident.ppc_report_required  # 40 people, nothing sensitive: not a reportable case
    incident = incidents.incident_update(actor=care_clerk, incident=incident, sensitive_data=True)
    assert incident.ppc_report_required
    assert incident.ppc_quick_due_on == date(2025, 6, 7)  # 速報: about 3–5 days
    assert incident.ppc_final_due_on == date(2025, 7, 2)  # 確報: 30 days
    incident = incidents.incident_update(actor=care_clerk, incident=incident, sensitive_data=False,
                                         wrongful_purpose=True)
    assert incident.ppc_final_due_on == date(2025, 8, 1)  # 60 days for a wrongful purpose
    incident = incidents.incident_update(actor=care_clerk, incident=incident, wrongful_purpose=False,
                                         persons_affected=101)
    assert incident.ppc_report_required  # more than 100 people (行政機関等)


def test_closing_needs_lessons_and_then_the_record_is_fixed(incident, care_clerk, make_staff):
    office_approver = make_staff(email="ciso.boss@example.jp", department="systems", role=Role.APPROVE).user
    incidents.incident_transition(actor=care_clerk, incident=incident, name="contain")
    with pytest.raises(NotAllowed):
        incidents.incident_transition(actor=care_clerk, incident=incident, name="close")
    with pytest.raises(ServiceError) as exc:
        incidents.incident_transition(actor=office_approver, incident=incident, name="close")
    assert exc.value.code == "lessons_required"
    incidents.incident_update(actor=care_clerk, incident=incident, lessons="宛先の確認を二人で行う")
    incident = incidents.incident_transition(actor=office_approver, incident=incident, name="close")
    assert incident.state == Incident.State.CLOSED and incident.closed_at
    with pytest.raises(ServiceError):
        incidents.incident_update(actor=care_clerk, incident=incident, level="low")
    incidents.timeline_append(actor=care_clerk, incident=incident, text="終結後の追記")  # still allowed


def test_a_playbook_becomes_the_incidents_checklist(incident, care_clerk, office_clerk):
    playbook = incidents.playbook_save(actor=office_clerk, title="誤送信", steps=["送信先に連絡", "削除を確認", ""])
    with pytest.raises(NotAllowed):
        incidents.playbook_save(actor=care_clerk, title="勝手な手順", steps=["x"])
    assert incidents.checklist_attach(actor=care_clerk, incident=incident, playbook=playbook) == 2
    with pytest.raises(ServiceError):
        incidents.checklist_attach(actor=care_clerk, incident=incident, playbook=playbook)
    item = incident.checklist.get(number=1)
    incidents.checklist_tick(actor=care_clerk, item=item)
    item.refresh_from_db()
    assert item.done_by == care_clerk and item.done_at is not None


def test_a_drill_uses_the_incident_record_and_tracks_improvements(departments, office_clerk):
    with pytest.raises(ServiceError):
        incidents.incident_create(actor=office_clerk, title="訓練", description="", channel="inquiry_form",
                                  department=departments["systems"], is_drill=True)
    drill = incidents.incident_create(actor=office_clerk, title="訓練", description="", channel="inquiry_form",
                                      department=departments["systems"], is_drill=True, scenario="匿名通報があった",
                                      participant_count=28)
    item = incidents.improvement_create(actor=office_clerk, incident=drill, opinion="マニュアル化すべき",
                                        department=departments["systems"], due_on=date(2025, 3, 31))
    with pytest.raises(ServiceError):
        incidents.improvement_close(actor=office_clerk, item=item, note="")
    item = incidents.improvement_close(actor=office_clerk, item=item, note="手順書を作成")
    assert item.state == "done" and item.closed_at


def test_an_audit_issue_is_followed_to_closure_by_its_lead(departments, office_clerk, care_clerk, make_staff):
    lead = make_staff(email="lead@example.jp", department="systems", role=Role.HANDLE).user
    with pytest.raises(NotAllowed):
        audits.audit_create(actor=care_clerk, kind="internal", theme="x", method="相互監査",
                            starts_on=date(2024, 8, 22), ends_on=date(2024, 8, 23), department=departments["systems"])
    record = audits.audit_create(
        actor=office_clerk, kind=Audit.Kind.INTERNAL, theme="稼働初年度の情報システムの運用状況の確認",
        method="職員による相互監査方式", starts_on=date(2024, 8, 22), ends_on=date(2024, 8, 23),
        department=departments["systems"], lead=lead, departments=[departments["care"]],
        good_points=["二要素認証を導入し、認証を強化している。"], issues=["アカウント管理やパスワード設定に一部課題があった。"])
    assert record.fiscal_year == 2024
    issue = record.evaluations.get(kind="issue")
    action = audits.action_create(actor=office_clerk, evaluation=issue, description="棚卸し",
                                  department=departments["care"], due_on=date(2025, 1, 31))
    with pytest.raises(ServiceError):
        audits.action_submit(actor=care_clerk, action=action, note="")
    audits.action_submit(actor=care_clerk, action=action, note="共用アカウントを廃止した")
    with pytest.raises(NotAllowed):  # the department cannot close its own action
        audits.action_decide(actor=care_clerk, action=action, close=True)
    action = audits.action_decide(actor=lead, action=action, close=True)
    assert action.state == CorrectiveAction.State.CLOSED and action.closed_by == lead
    with pytest.raises(ServiceError):
        audits.audit_create(actor=office_clerk, kind="internal", theme="x", method="x", starts_on=date(2024, 8, 23),
                            ends_on=date(2024, 8, 22), department=departments["systems"])
    assert timedelta(0) <= timezone.now() - action.closed_at
