"""The stored codes of a relationship (在住・在勤・在学) become hiroba.accounts' everywhere: the
proposals' verifications and call lists (live/work/study before) and a consultation's 提出できる方
(Japanese labels before). Both data migrations run forwards and back."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.core.test_audit_upgrade import _back_to_the_latest_schema  # noqa: F401  (autouse: the latest schema again)

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("consultations", "0005_published_results_and_approval_route"), ("proposals", "0001_initial")]
AFTER = [("consultations", "0006_eligibility_codes"), ("proposals", "0002_relationship_codes")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def _rows(apps):
    Case = apps.get_model("consultations", "Case")
    Call = apps.get_model("proposals", "Call")
    VoterVerification = apps.get_model("proposals", "VoterVerification")
    return (Case.objects.get(slug="old-case").eligibility, Call.objects.get(slug="old-call").eligible_residencies,
            sorted(VoterVerification.objects.values_list("residency", flat=True)))


def test_existing_rows_take_the_new_codes_and_go_back():
    apps = _migrate(BEFORE)
    department = apps.get_model("core", "Department").objects.create(code="old", name="旧データ課")
    apps.get_model("consultations", "Case").objects.create(
        slug="old-case", title="旧案件", department=department, period_start=date(2024, 1, 1),
        period_end=date(2024, 1, 31), channels=["post"], eligibility=["在住", "在学", "事業者"])
    apps.get_model("proposals", "Call").objects.create(
        department=department, slug="old-call", title="旧募集", theme="テーマ", receipt_prefix="OLD",
        eligible_residencies=["live", "study"], submission_start=date(2024, 1, 1), submission_end=date(2024, 1, 31),
        voting_start=date(2024, 2, 1), voting_end=date(2024, 2, 10), results_on=date(2024, 2, 20),
        implementation_on=date(2024, 3, 1))
    VoterVerification = apps.get_model("proposals", "VoterVerification")
    for i, residency in enumerate(["live", "work", "study"]):
        VoterVerification.objects.create(display_name=f"区民{i}", identity_key=f"key{i}", residency=residency,
                                         method="oidc")

    apps = _migrate(AFTER)
    assert _rows(apps) == (["resident", "student", "business"], ["resident", "student"],
                           ["resident", "student", "worker"])

    apps = _migrate(BEFORE)
    assert _rows(apps) == (["在住", "在学", "事業者"], ["live", "study"], ["live", "study", "work"])
