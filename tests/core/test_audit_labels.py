"""The audit log speaks the reader's language (issue 12.13): actions, the keys and values of their
changes (states, channels) and the verify verdict, from labels each app declares on its AppConfig."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from hiroba.accounts.models import Role
from hiroba.core import audit, audit_labels

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_staff):
    admin = make_staff(email="admin@example.jp", department="systems", role=Role.ADMIN)
    client.force_login(admin.user)
    client.admin = admin.user
    return client


def _rows(html: str) -> str:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_actions_values_and_the_verdict_are_japanese(admin_client):
    user = admin_client.admin
    audit.record(actor=user, action="mfa.added", object_repr=user.email, changes={"type": "totp"})
    audit.record(actor=user, action="consultations.case_transition", object_repr="千代田区DX戦略",
                 object_type="consultations.case", object_id="1", changes={"state": ["approving", "published"]})
    audit.record(actor="resident", action="consultations.submission_receive", object_repr="2025-DX-0001",
                 object_type="consultations.submission", object_id="1", changes={"case": "dx", "channel": "web"})
    html = admin_client.get(reverse("staff:audit_log") + "?verify=1").content.decode()
    rows = _rows(html)
    assert "二要素認証の登録" in rows and "mfa.added" not in rows
    assert "状態: 決裁中 → 公表済" in rows and "approving" not in rows
    assert "提出方法: ウェブフォーム" in rows and "channel: web" not in rows
    assert "意見公募：意見の受付" in rows
    assert "検証しました。改ざんはありません" in html and "entries" not in html


def test_the_audit_log_in_english(admin_client):
    user = admin_client.admin
    audit.record(actor=user, action="mfa.added", object_repr=user.email)
    audit.record(actor=user, action="consultations.case_transition", object_repr="千代田区DX戦略",
                 changes={"state": ["approving", "published"]})
    html = admin_client.get(reverse("staff:audit_log") + "?verify=1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    rows = _rows(html)
    assert "Two-factor authentication added" in rows
    assert "Status: In approval → Published" in rows
    assert "Verified: the log has not been tampered with" in html


def test_a_broken_chain_is_reported_in_the_reader_s_language_with_the_technical_detail():
    broken = audit.VerifyResult(False, 823, 17, "altered (hash mismatch)")
    with translation.override("ja"):
        assert audit_labels.verdict(broken) == "改ざんのおそれがあります：通番 17（823 件を確認）。"
        assert audit_labels.verdict(audit.VerifyResult(True, 823)) == "検証しました。改ざんはありません（823 件を確認）。"
    with translation.override("en"):
        assert audit_labels.verdict(broken) == "Possible tampering: entry 17 (823 entries checked)."
    assert broken.message() == "NG entry 17: altered (hash mismatch)"  # the command line keeps its English


def test_every_action_written_has_a_label():
    """Every audit action name in the code has a label some app declared."""
    from pathlib import Path

    src = Path(apps.get_app_config("core").path).parent
    written = set()
    for path in src.rglob("*.py"):
        text = path.read_text()
        written |= set(re.findall(r'action="([a-z]+\.[a-z_]+)"', text))
        written |= set(re.findall(r'^[A-Z_]+ = "([a-z]+\.[a-z_]+)"$', text, re.M) if path.name == "audit_actions.py"
                       else [])
    written -= {"consultations.approval_"}  # completed as approval_approve / approval_return
    labelled = {code for code, _ in audit_labels.action_choices()}
    assert written - labelled == set()


def test_core_collects_labels_without_naming_the_apps():
    source = open(audit_labels.__file__).read()
    assert "consultations" not in source.replace("consultations.case_publish", "").replace("consultations.case", "")
    with translation.override("ja"):
        assert audit_labels.action_label("consultations.case_publish") == "意見公募：結果の公表"
        assert audit_labels.action_label("unknown.thing") == "unknown.thing"
