"""`hiroba accounts review`: the account management the ward's audits flagged."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.utils import timezone

from hiroba.accounts.models import Role
from hiroba.accounts.queries import account_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_mix(make_staff):
    now = timezone.now()
    good = make_staff(email="good@example.jp")
    good.user.last_login = now - timedelta(days=3)
    good.user.save()
    idle = make_staff(email="idle@example.jp")
    idle.user.last_login = now - timedelta(days=200)
    idle.user.save()
    never = make_staff(email="never@example.jp")
    never.user.date_joined = now - timedelta(days=120)
    never.user.save()
    make_staff(email="nomfa@example.jp", mfa=False)
    departed = make_staff(email="departed@example.jp")
    departed.user.departed_on = timezone.localdate() - timedelta(days=10)
    departed.user.last_login = now
    departed.user.save()
    orphan = make_staff(email="orphan@example.jp", department=None)
    orphan.user.last_login = now
    orphan.user.save()
    make_staff(email="admin@example.jp", department="systems", role=Role.ADMIN).user.__class__.objects.filter(
        email="admin@example.jp").update(last_login=now)
    AccessAttempt.objects.create(username="good@example.jp", ip_address="10.0.0.1", user_agent="x",
                                 failures_since_start=5, get_data="", post_data="", http_accept="", path_info="/")


def _codes(review, email):
    return {f.code for f in review.findings if f.email == email}


def test_it_finds_each_kind_of_problem(staff_mix):
    review = account_review(inactive_days=90)
    assert _codes(review, "good@example.jp") == {"locked_out"}
    locked = next(f for f in review.findings if f.code == "locked_out")
    assert "10.0.0.1" in locked.detail and "5回" in locked.detail
    assert _codes(review, "idle@example.jp") == {"inactive"}
    assert _codes(review, "never@example.jp") == {"never_logged_in"}
    assert _codes(review, "nomfa@example.jp") >= {"no_mfa"}
    assert _codes(review, "departed@example.jp") == {"departed_active", "membership_after_departure"}
    assert _codes(review, "orphan@example.jp") == {"no_department"}
    assert _codes(review, "admin@example.jp") == {"system_admin"}
    assert review.findings[0].severity == "重大"
    assert review.has_problems()


def test_the_inactive_threshold_is_configurable(staff_mix):
    assert "idle@example.jp" not in {f.email for f in account_review(inactive_days=365).findings
                                     if f.code == "inactive"}


def test_the_command_prints_text_csv_and_json(staff_mix):
    out = io.StringIO()
    call_command("accounts", "review", stdout=out)
    text = out.getvalue()
    assert "[重大] 異動・退職者のアカウントが有効: departed@example.jp" in text
    assert "長期間ログインなし" in text
    out = io.StringIO()
    call_command("accounts", "review", "--format", "json", "--inactive-days", "30", stdout=out)
    data = json.loads(out.getvalue())
    assert data["inactive_days"] == 30 and data["counts"]["no_mfa"] == 1
    out = io.StringIO()
    call_command("accounts", "review", "--format", "csv", stdout=out)
    assert out.getvalue().splitlines()[0] == "\ufeff重要度,種類,コード,アカウント,氏名,内容"  # core.tabular's CSV


def test_strict_mode_exits_1_when_there_are_problems(staff_mix):
    with pytest.raises(SystemExit) as info:
        call_command("accounts", "review", "--strict", stdout=io.StringIO())
    assert info.value.code == 1


def test_a_clean_organisation_has_no_findings(make_staff):
    staff = make_staff()
    staff.user.last_login = timezone.now()
    staff.user.save()
    review = account_review()
    assert review.findings == [] and not review.has_problems()


def test_the_review_page_is_for_system_admins(client, make_staff, staff_mix):
    admin = make_staff(email="admin2@example.jp", department="systems", role=Role.ADMIN)
    client.force_login(admin.user)
    response = client.get("/staff/accounts/review/?days=90")
    assert response.status_code == 200
    assert "departed@example.jp" in response.content.decode()
