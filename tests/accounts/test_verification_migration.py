"""proposals.VoterVerification becomes accounts.ResidentVerification (accounts 0002–0003,
proposals 0003): the existing rows move with their table, the participations pointing at them
follow, and the migrations run back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection

from tests.accounts.test_identity_migrations import _migrate
from tests.core.test_audit_upgrade import _back_to_the_latest_schema  # noqa: F401  (autouse: the latest schema again)

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0001_initial"), ("proposals", "0002_relationship_codes")]
AFTER = [("accounts", "0003_residentverification_table"), ("proposals", "0003_verification_to_accounts")]
AT = datetime(2024, 10, 1, 1, 0, tzinfo=UTC)


def _people(model):
    return sorted(model.objects.values_list("pk", "display_name", "identity_key", "residency", "method",
                                            "user__email", "verified_by__email", "verified_at", "revoked_at"))


def _votes(apps):
    Participation = apps.get_model("proposals", "Participation")
    return sorted(Participation.objects.values_list("verification__display_name", "channel", "ballot_count"))


def test_the_verifications_and_the_participations_pointing_at_them_move_to_accounts_and_back():
    apps = _migrate(BEFORE)
    User = apps.get_model("accounts", "User")
    resident = User.objects.create(email="old-resident@example.jp", kind="resident", password="!")
    clerk = User.objects.create(email="old-clerk@example.jp", kind="staff", is_staff=False, password="!")
    department = apps.get_model("core", "Department").objects.create(code="old", name="旧データ課")
    call = apps.get_model("proposals", "Call").objects.create(
        department=department, slug="old-call", title="旧募集", theme="テーマ", receipt_prefix="OLD",
        eligible_residencies=["resident"], submission_start=date(2024, 1, 1), submission_end=date(2024, 1, 31),
        voting_start=date(2024, 2, 1), voting_end=date(2024, 2, 10), results_on=date(2024, 2, 20),
        implementation_on=date(2024, 3, 1))
    VoterVerification = apps.get_model("proposals", "VoterVerification")
    online = VoterVerification.objects.create(user=resident, display_name="旧 オンライン", residency="resident",
                                              method="oidc", verified_at=AT)
    paper = VoterVerification.objects.create(display_name="旧 窓口", identity_key="k" * 64, residency="worker",
                                             method="counter", verified_by=clerk, verified_at=AT, revoked_at=AT)
    Participation = apps.get_model("proposals", "Participation")
    Participation.objects.create(call=call, user=resident, verification=online, ballot_count=2)
    Participation.objects.create(call=call, verification=paper, channel="paper", entered_by=clerk, ballot_count=1)
    people, votes = _people(VoterVerification), _votes(apps)
    assert len(people) == 2 and votes == [("旧 オンライン", "online", 2), ("旧 窓口", "paper", 1)]

    apps = _migrate(AFTER)
    ResidentVerification = apps.get_model("accounts", "ResidentVerification")
    assert _people(ResidentVerification) == people and _votes(apps) == votes
    tables = connection.introspection.table_names()
    assert "accounts_residentverification" in tables and "proposals_voterverification" not in tables
    assert ResidentVerification.objects.get(user__email="old-resident@example.jp").pk == online.pk
    # The moved table keeps its rules: still one verification per person.
    constraints = connection.introspection.get_constraints(connection.cursor(), "accounts_residentverification")
    assert "accounts_verification_one_per_person" in constraints
    assert "proposals_verification_one_per_person" not in constraints

    apps = _migrate(BEFORE)
    assert _people(apps.get_model("proposals", "VoterVerification")) == people and _votes(apps) == votes
    assert "proposals_voterverification" in connection.introspection.table_names()
