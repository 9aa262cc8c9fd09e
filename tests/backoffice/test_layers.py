"""The hooks that let core stay below every app: the Django-admin rule granted by accounts, the
/metrics gauges an app declares on its AppConfig, and the staff shell served by backoffice."""

from __future__ import annotations

import pytest
import rules

from hiroba.accounts.models import Role, User
from hiroba.core import health

pytestmark = pytest.mark.django_db


def test_the_admin_rule_is_for_system_administrators_only(make_staff):
    admin = make_staff(email="admin@example.jp", role=Role.ADMIN).user
    clerk = make_staff(email="clerk2@example.jp", role=Role.APPROVE).user
    superuser = User.objects.create_user(email="root@example.jp", password=None, kind=User.Kind.STAFF,
                                         is_superuser=True)
    assert rules.has_perm("core.use_admin", admin) and rules.has_perm("core.use_admin", superuser)
    assert not rules.has_perm("core.use_admin", clerk)


def test_an_apps_declared_gauge_reaches_metrics_by_its_path():
    from hiroba.consultations.health import submissions_last_minute

    gauges = health.app_gauges()
    help_text, read = gauges["hiroba_submissions_last_minute"]
    assert read is submissions_last_minute and help_text and read() == 0


def test_the_staff_shell_is_served_by_backoffice(staff_client):
    response = staff_client.get("/staff/")
    assert response.status_code == 200
    assert any(t.name == "backoffice/staff_home.html" for t in response.templates)
