"""Shared fixtures: a department tree, staff with roles and enrolled TOTP, residents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from hiroba.accounts.models import Role, StaffMembership, User
from hiroba.core.models import Department, RateCounter

# Shared, busy CI machines make example generation slow now and then: that is not a failure of the
# property under test. Examples stay as many as each test asks for; only the timing checks go.
hypothesis_settings.register_profile("hiroba", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("hiroba")

PASSWORD = "Correct-Horse-Battery-9"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` prove behaviour only PostgreSQL can show (real concurrent
    writers); they run in the PostgreSQL pass of .ci/run and are reported as such on SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    reason = "PostgreSQL only: runs in the PostgreSQL pass (DATABASE_URL=postgres://… make test)"
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason=reason))


_DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


@pytest.fixture(autouse=True)
def _generous_rate_limits(request, settings, django_db_blocker):
    """Tests post far more than a resident would: every limit raised, counters cleared per test
    (tests of the throttle set their own limits). Forms' minimum fill time off likewise.

    The cache is the database cache, as in production: a test that uses the database starts
    from an empty one (cleared with the database unblocked, before the test's own fixtures)."""
    from django.core.cache import cache

    settings.HIROBA_RATE_LIMITS = {scope: "100000/m/ip,100000/m/key" for scope in settings.HIROBA_RATE_LIMITS}
    settings.HIROBA_FORM_MIN_FILL_SECONDS = 0
    if request.node.get_closest_marker("django_db") or _DB_FIXTURES & set(request.fixturenames):
        request.getfixturevalue("django_db_setup")
        with django_db_blocker.unblock():
            cache.clear()
            RateCounter.objects.all().delete()


@dataclass
class Staff:
    user: User
    totp_secret: str | None

    def code(self) -> str:
        assert self.totp_secret
        return pyotp.TOTP(self.totp_secret).now()


@pytest.fixture
def departments(db) -> dict[str, Department]:
    policy = Department.objects.create(code="policy", name="政策経営部")
    digital = Department.objects.create(code="digital", name="デジタル政策課", parent=policy)
    systems = Department.objects.create(code="systems", name="情報システム課", parent=policy)
    welfare = Department.objects.create(code="welfare", name="保健福祉部")
    care = Department.objects.create(code="care", name="高齢介護課", parent=welfare)
    return {d.code: d for d in [policy, digital, systems, welfare, care]}


@pytest.fixture
def make_staff(departments) -> Callable[..., Staff]:
    def factory(email: str = "clerk@example.jp", department: str | None = "digital",
                role: Role = Role.HANDLE, mfa: bool = True, **extra: object) -> Staff:
        user = User.objects.create_user(email=email, password=PASSWORD, kind=User.Kind.STAFF,
                                        display_name=extra.pop("display_name", "区 職員"), **extra)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        if department:
            StaffMembership.objects.create(user=user, department=departments[department], role=role)
        secret = None
        if mfa:
            secret = generate_totp_secret()
            TOTP.activate(user, secret)
        return Staff(user, secret)

    return factory


@pytest.fixture
def resident(db) -> User:
    return User.objects.create_user(email="resident@example.jp", password=PASSWORD)


@pytest.fixture
def staff_client(client, make_staff):
    """A client signed in as a staff member (handle role in デジタル政策課) with TOTP enrolled."""
    staff = make_staff()
    client.force_login(staff.user)
    client.staff = staff
    return client


# Migrations whose triggers make tables append-only (the audit log, published results).
APPEND_ONLY_MIGRATIONS = ("hiroba.core.migrations.0002_audit_append_only",
                          "hiroba.core.migrations.0005_audit_pending_numbered",
                          "hiroba.consultations.migrations.0005_published_results_and_approval_route")


def _trigger_sql(kind: str) -> list[str]:
    import importlib

    from django.db import connection

    vendor = "POSTGRES" if connection.vendor == "postgresql" else "SQLITE"
    return [sql for name in APPEND_ONLY_MIGRATIONS for sql in getattr(importlib.import_module(name), f"{vendor}_{kind}")]


@pytest.fixture(autouse=True)
def _audit_triggers_allow_test_flush(request):
    """Transactional tests end with a flush (DELETE/TRUNCATE) that the append-only triggers
    (audit log, published results) refuse: lift them just for that flush, and put them back
    before the next test."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("live_server", "transactional_db")
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in _trigger_sql("DOWN"):
            cursor.execute(sql)
        for sql in _trigger_sql("UP"):
            cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        for sql in _trigger_sql("DOWN"):
            cursor.execute(sql)


@pytest.fixture
def mailoutbox(mailoutbox, settings):
    """Django's test outbox, filled the way production fills the mail server: `core.notify`
    stores each message with the write and the worker's task delivers it after the commit
    (django-tasks' immediate backend runs that task as soon as it is queued)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return mailoutbox
