"""workshops → proposals by real foreign keys: the migration keeps the stored ids, and a call or
proposal a workshop points at cannot be deleted (PROTECT)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import ProtectedError

from tests.core.test_audit_upgrade import _back_to_the_latest_schema  # noqa: F401  (autouse: the latest schema again)

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("workshops", "0002_fold_keys"), ("proposals", "0002_relationship_codes")]
AFTER = [("workshops", "0003_proposal_foreign_keys")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_the_stored_ids_become_foreign_keys_and_protect_their_rows():
    apps = _migrate(BEFORE)
    department = apps.get_model("core", "Department").objects.create(code="ws-old", name="旧データ課")
    call = apps.get_model("proposals", "Call").objects.create(
        department=department, slug="ws-call", title="旧募集", theme="テーマ", receipt_prefix="WSO",
        submission_start=date(2024, 1, 1), submission_end=date(2024, 1, 31), voting_start=date(2024, 2, 1),
        voting_end=date(2024, 2, 10), results_on=date(2024, 2, 20), implementation_on=date(2024, 3, 1))
    proposal = apps.get_model("proposals", "Proposal").objects.create(
        call=call, title="防災マップ", problem="課題", idea="アイデア", beneficiaries="中学生",
        entered_by=apps.get_model("accounts", "User").objects.create(email="ws-clerk@example.jp"))
    programme = apps.get_model("workshops", "Programme").objects.create(
        department=department, code="old-ws", title="旧ワークショップ", purpose="目的", audience="中学生",
        grade_min=7, grade_max=9, capacity=10, applications_open_on=date(2024, 1, 1), applications_close_on=date(2024, 1, 31),
        consent_deadline=date(2024, 2, 5), privacy_notice="取扱い", starts_on=date(2024, 3, 1),
        ends_on=date(2024, 3, 31), purge_on=date(2025, 3, 31), proposal_call_id=call.pk)
    apps.get_model("workshops", "Output").objects.create(
        programme=programme, title="防災マップ", team_label="A", problem="課題", idea="アイデア",
        beneficiaries="中学生", proposal_id=proposal.pk)

    apps = _migrate(AFTER)
    Programme, Output = apps.get_model("workshops", "Programme"), apps.get_model("workshops", "Output")
    assert Programme.objects.get(code="old-ws").proposal_call_id == call.pk
    assert Output.objects.get(title="防災マップ").proposal.title == "防災マップ"

    from hiroba.proposals.models import Call, Proposal

    with pytest.raises(ProtectedError):
        Proposal.objects.get(pk=proposal.pk).delete()
    Output.objects.all().delete()
    Proposal.objects.filter(pk=proposal.pk).delete()
    with pytest.raises(ProtectedError):
        Call.objects.get(pk=call.pk).delete()
