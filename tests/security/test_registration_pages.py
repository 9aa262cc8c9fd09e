"""The CISO office registers audits (with their evaluations), corrective actions, courses, policy
versions and playbooks from its pages; a department cannot."""

from __future__ import annotations

import pytest
from django.urls import reverse

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
