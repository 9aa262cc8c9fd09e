"""Fixtures for the API: the seed case imported and published, a staff token factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from hiroba.accounts.models import Role
from hiroba.api import tokens
from hiroba.consultations.models import Case
from tests.consultations.conftest import (  # noqa: F401  (fixtures reused)
    FIXTURE_DIR,
    answered_case,
    approved_case,
    approver,
    case,
    clerk,
    make_case,
    submit,
)

SEED_SLUG = "chiyoda-dx-strategy-2025"


@pytest.fixture
def seed_case(departments) -> Case:
    call_command("consultation", "import", str(FIXTURE_DIR / "consultation.json"), stdout=StringIO())
    return Case.objects.get(slug=SEED_SLUG)


@pytest.fixture
def make_token(make_staff) -> Callable[..., tuple[Any, str]]:
    """A token for a (new) staff member; (token row, plain token)."""
    counter = iter(range(1, 1000))

    def factory(*, modules: list[str] | None = None, access: str = "read", department: str = "digital",
                role: Role = Role.HANDLE, departments: list[str] | None = None, days: int = 30,
                user: Any = None) -> tuple[Any, str]:
        from hiroba.core.models import Department

        if user is None:
            user = make_staff(email=f"api{next(counter)}@example.jp", department=department, role=role).user
            from hiroba.accounts.models import StaffMembership

            StaffMembership.objects.filter(user=user).update(starts_on=timezone.localdate() - timedelta(days=3650))
        depts = list(Department.objects.filter(code__in=departments or [department]))
        return tokens.token_create(actor=user, user=user, name="連携テスト", departments=depts,
                                   modules=modules or ["consultations"], access=access,
                                   expires_on=timezone.localdate() + timedelta(days=days))

    return factory


def bearer(plain: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


@pytest.fixture
def demo(db):
    """Every module's demo data (the seed case, a closed and an open proposal call with results,
    workshops with a draw, two schools' calendars)."""
    call_command("demo", stdout=StringIO())
