"""Fixtures for the security register: the CISO office, a department's site, its staff."""

from __future__ import annotations

import pytest

from hiroba.accounts.models import Role
from hiroba.security import services
from hiroba.security.models import System


@pytest.fixture(autouse=True)
def _office(settings):
    # tests/conftest.py's 情報システム課 has the code "systems"
    settings.SECURITY_OFFICE_DEPARTMENT = "systems"


@pytest.fixture(autouse=True)
def _japanese_after_each_test(settings):
    # An English request (Accept-Language: en) leaves its language active in this thread.
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def site(departments) -> System:
    return services.system_create(actor="test", url="https://kaigo.example.lg.jp/", name="介護保険申請システム",
                                  department=departments["care"], holds_personal_data=True)


@pytest.fixture
def care_clerk(make_staff):
    return make_staff(email="care.clerk@example.jp", department="care", role=Role.HANDLE).user


@pytest.fixture
def care_approver(make_staff):
    return make_staff(email="care.approver@example.jp", department="care", role=Role.APPROVE).user


@pytest.fixture
def office_clerk(make_staff):
    return make_staff(email="ciso@example.jp", department="systems", role=Role.HANDLE).user
