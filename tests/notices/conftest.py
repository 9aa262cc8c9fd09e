"""Fixtures for the notice service: a type in 高齢介護課, its template, recipients, consent."""

from __future__ import annotations

import datetime as dt

import pytest

from hiroba.accounts.models import Role, User
from hiroba.notices import recipients, types
from hiroba.notices.models import Recipient

HEADER = "宛名番号,氏名,郵便番号,住所,生年月日,メールアドレス\n"


@pytest.fixture(autouse=True)
def _japanese_after_each_test(settings):
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def notice_type(departments):
    return make_notice_type(departments)


def make_notice_type(departments):
    kind = types.type_create(actor="test", slug="kaigo-hoken", name="介護保険料のお知らせ",
                             department=departments["care"], deadline_wording="納期限は{{ 納期限 }}です。")
    types.template_publish(actor="test", notice_type=kind, title="{{ 年度 }}年度 介護保険料額決定通知書",
                           body="{{ 氏名 }} 様\n\n{{ 年度 }}年度の介護保険料は {{ 保険料 }} 円です。")
    return kind


def make_recipients(n: int, *, start: int = 1) -> list[Recipient]:
    rows = [Recipient(atena_number=f"{i:010d}", name=f"区民 {i}", postal_code="102-8688",
                      address=f"東京都千代田区九段南1-2-{i}", birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=i))
            for i in range(start, start + n)]
    return Recipient.objects.bulk_create(rows)


def opt_in(recipient: Recipient, notice_type, email: str | None = None) -> User:
    user = User.objects.create_user(email=email or f"r{recipient.atena_number}@example.jp", password="x-Long-pass-9")
    recipients.account_link(user=user, atena_number=recipient.atena_number, birth_date=recipient.birth_date)
    recipients.consent_give(user=user, notice_type=notice_type, version=notice_type.consent_version)
    return user


def batch_csv(people, *, extra: str = "") -> bytes:
    lines = ["宛名番号,年度,保険料,納期限" + extra]
    lines += [f"{r.atena_number},令和7,{48000 + i},令和7年7月31日" for i, r in enumerate(people)]
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture
def clerk(make_staff):
    return make_staff(email="care.clerk@example.jp", department="care", role=Role.HANDLE).user


@pytest.fixture
def approver(make_staff):
    return make_staff(email="care.approver@example.jp", department="care", role=Role.APPROVE).user
