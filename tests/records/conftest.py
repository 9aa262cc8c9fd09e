"""Fixtures for the records module: the records office (情報システム課 in tests), a department's
clerk and approver, a register file of 高齢介護課 whose period has ended."""

from __future__ import annotations

import pytest

from hiroba.accounts.models import Role
from hiroba.records import register
from hiroba.records.models import Action, Retention


@pytest.fixture(autouse=True)
def _office(settings):
    settings.RECORDS_OFFICE_DEPARTMENT = "systems"


@pytest.fixture(autouse=True)
def _japanese_after_each_test(settings):
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def care_clerk(make_staff):
    return make_staff(email="care.clerk@example.jp", department="care", role=Role.HANDLE).user


@pytest.fixture
def care_approver(make_staff):
    return make_staff(email="care.approver@example.jp", department="care", role=Role.APPROVE).user


@pytest.fixture
def records_manager(make_staff):
    return make_staff(email="bunsho@example.jp", department="systems", role=Role.APPROVE).user


@pytest.fixture
def records_clerk(make_staff):
    return make_staff(email="bunsho.clerk@example.jp", department="systems", role=Role.HANDLE).user


def file_data(department, **kw):
    values = dict(department=department, fiscal_year=2018, large="介護保険", medium="要介護認定", small="認定調査",
                  name="H30_要介護認定調査票", author="介護認定係", retention=Retention.FIVE,
                  location="高齢介護課 書庫", manager="高齢介護課長", action=Action.DISPOSE)
    values.update(kw)
    return register.FileData(**values)


@pytest.fixture
def expired_file(departments):
    # FY2018 (平成30年度), 5 years: 起算日 2019-04-01, 満了 2024-03-31
    return register.file_create(actor="test", data=file_data(departments["care"]))
