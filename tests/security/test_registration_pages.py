"""The CISO office registers audits (with their evaluations), corrective actions, courses, policy
versions and playbooks from its pages; a department cannot."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hiroba.accounts.models import Role
from hiroba.security.models import Audit, CorrectiveAction, Course, Playbook, PolicyVersion

pytestmark = pytest.mark.django_db


def test_the_office_registers_an_audit_and_an_action(client, office_clerk, departments):
    client.force_login(office_clerk)
    response = client.post(reverse("security_staff:audit_new"), {
        "kind": "external", "theme": "稼働3年目の情報システムの運用状況の確認", "method": "専門家による助言型方式",
        "starts_on": "2024-10-28", "ends_on": "2024-11-07", "departments": [departments["care"].pk],
        "good_points": "他団体のインシデント情報を共有し、職員の意識向上を図っていた。",
        "issues": "パスワード設定やログ管理について一部課題があった。\n",
    })
    assert response.status_code == 302
    audit = Audit.objects.get()
    assert audit.lead == office_clerk and audit.departments.get() == departments["care"]
    issue = audit.evaluations.get(kind="issue")
    response = client.post(reverse("security_staff:action_new", args=[issue.pk]), {
        "description": "ログの定期確認手順を作る", "department": departments["care"].pk, "due_on": "2025-03-31"})
    assert response.status_code == 302 and CorrectiveAction.objects.get().department == departments["care"]
    response = client.post(reverse("security_staff:audit_new"), {"kind": "internal", "theme": "x", "method": "x",
                                                                 "starts_on": "2024-08-23", "ends_on": "2024-08-22"})
    assert response.status_code == 400 and "実施終了日は実施開始日以降" in response.content.decode()


def test_the_office_registers_a_course_a_policy_version_and_a_playbook(client, office_clerk):
    client.force_login(office_clerk)
    assert client.post(reverse("security_staff:course_new"), {
        "fiscal_year": 2025, "title": "情報セキュリティ研修", "audience": "all", "required": "on",
        "session_kind": "video", "starts_on": "2026-02-20", "ends_on": "2026-03-19"}).status_code == 302
    assert Course.objects.get().sessions.get().kind == "video"
    assert client.post(reverse("security_staff:policy_new"), {
        "title": "情報セキュリティポリシー", "kind": "policy", "version": "令和6年4月1日改定",
        "effective_on": "2024-04-01"}).status_code == 302
    assert PolicyVersion.objects.get().version == "令和6年4月1日改定"
    assert client.post(reverse("security_staff:playbook_new"), {
        "title": "誤送信", "steps": "送信先に連絡\n削除を確認\n"}).status_code == 302
    assert Playbook.objects.get().steps == ["送信先に連絡", "削除を確認"]


def test_a_department_cannot_register(client, care_clerk):
    client.force_login(care_clerk)
    for name in ("audit_new", "course_new", "policy_new", "playbook_new"):
        assert client.get(reverse(f"security_staff:{name}")).status_code == 403


def test_a_department_changes_its_own_system_and_the_change_is_audited(client, care_clerk, site, departments):
    from hiroba.core.models import AuditEntry

    client.force_login(care_clerk)
    url = reverse("security_staff:system_edit", args=[site.pk])
    page = client.get(url)
    assert page.status_code == 200 and "介護保険申請システム" in page.content.decode()
    form = {"url": "https://kaigo.example.lg.jp/shinsei/", "name": "介護保険電子申請", "department": departments["care"].pk,
            "hosting": site.hosting, "holds_personal_data": "on", "personal_data_note": "氏名、被保険者番号"}
    assert client.post(url, form).status_code == 302
    site.refresh_from_db()
    assert (site.url, site.name, site.personal_data_note) == (
        "https://kaigo.example.lg.jp/shinsei/", "介護保険電子申請", "氏名、被保険者番号")
    entry = AuditEntry.objects.filter(action="security.system_update").get()
    assert entry.changes["name"] == ["介護保険申請システム", "介護保険電子申請"]
    # Moving it to a department the clerk does not handle is refused, and nothing changes.
    response = client.post(url, {**form, "name": "x", "department": departments["systems"].pk})
    assert response.status_code == 200
    site.refresh_from_db()
    assert site.name == "介護保険電子申請"


def test_only_a_handler_of_the_department_opens_the_edit_page(client, make_staff, site):
    url = reverse("security_staff:system_edit", args=[site.pk])
    client.force_login(make_staff(email="reader@example.jp", department="care", role=Role.READ).user)
    assert client.get(url).status_code == 403
    client.force_login(make_staff(email="other@example.jp", department="digital", role=Role.APPROVE).user)
    assert client.get(url).status_code == 404


def test_an_improvement_point_is_added_from_the_drill_page(client, office_clerk, departments):
    from hiroba.security import incidents
    from hiroba.security.models import ImprovementAction

    drill = incidents.incident_create(actor=office_clerk, title="訓練", description="", channel="inquiry_form",
                                      department=departments["systems"], is_drill=True, scenario="匿名通報",
                                      participant_count=28)
    client.force_login(office_clerk)
    page = client.get(reverse("security_staff:incident", args=[drill.pk])).content.decode()
    assert "改善事項を追加する" in page
    action = reverse("security_staff:incident_action", args=[drill.pk, "improvement_add"])
    assert client.post(action, {"opinion": "", "department": departments["systems"].pk}).status_code == 302
    assert not ImprovementAction.objects.exists()
    assert client.post(action, {"opinion": "外部への報告手順を明確にする", "action": "手順書に追記",
                                "department": departments["systems"].pk, "due_on": "2025-03-31"}).status_code == 302
    item = ImprovementAction.objects.get()
    assert (item.opinion, item.action, str(item.due_on)) == ("外部への報告手順を明確にする", "手順書に追記", "2025-03-31")


def test_a_button_whose_form_is_incomplete_says_what_is_missing_and_writes_nothing(client, office_clerk, care_clerk,
                                                                                  departments):
    """The incident page's timeline and improvement buttons and a corrective action's 完了報告:
    an empty form comes back as the page's message, and nothing is stored."""
    from hiroba.security import incidents
    from hiroba.security.models import ImprovementAction

    drill = incidents.incident_create(actor=office_clerk, title="訓練", description="", channel="inquiry_form",
                                      department=departments["systems"], is_drill=True, scenario="匿名通報",
                                      participant_count=28)
    entries = drill.timeline.count()
    client.force_login(office_clerk)
    for what, data, message in [
        ("timeline", {"text": "", "kind": "note"}, "経過の内容を入力してください。"),
        ("improvement_add", {"opinion": ""}, "意見・気づきと担当所属を入力してください。"),
    ]:
        page = client.post(reverse("security_staff:incident_action", args=[drill.pk, what]), data, follow=True)
        assert message in page.content.decode(), what
    assert drill.timeline.count() == entries and not ImprovementAction.objects.exists()

    client.post(reverse("security_staff:audit_new"), {
        "kind": "external", "theme": "運用状況の確認", "method": "助言型", "starts_on": "2024-10-28",
        "ends_on": "2024-11-07", "departments": [departments["care"].pk], "good_points": "共有していた。",
        "issues": "ログ管理に課題があった。\n"})
    issue = Audit.objects.get().evaluations.get(kind="issue")
    client.post(reverse("security_staff:action_new", args=[issue.pk]), {
        "description": "ログの定期確認手順を作る", "department": departments["care"].pk, "due_on": "2025-03-31"})
    action = CorrectiveAction.objects.get()
    client.force_login(care_clerk)
    page = client.post(reverse("security_staff:action_transition", args=[action.pk, "submit"]), {"note": ""},
                       follow=True)
    assert "完了報告（実施した内容）を入力してください。" in page.content.decode()
    action.refresh_from_db()
    assert action.state == CorrectiveAction._meta.get_field("state").default
