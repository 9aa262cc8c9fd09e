"""デジタル書面送付 in Chromium, axe on every page: the staff batch page (with a chosen row's
preview), the type page and the uptake dashboard; a resident opening their notice."""

from __future__ import annotations

import pytest

from hiroba.accounts.models import Role
from hiroba.core.actors import Actor
from hiroba.notices import batches
from hiroba.notices.models import Status
from tests.browser.conftest import assert_accessible
from tests.browser.test_security import sign_in
from tests.notices.conftest import batch_csv, make_notice_type, make_recipients, opt_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def notice_type(departments):
    return make_notice_type(departments)


@pytest.fixture
def clerk(make_staff):
    return make_staff(email="care.clerk@example.jp", department="care", role=Role.HANDLE).user


@pytest.fixture
def sent(notice_type, clerk, make_staff):
    approver = make_staff(email="care.approver@example.jp", department="care", role=Role.APPROVE).user
    people = make_recipients(3)
    resident = opt_in(people[0], notice_type, email="hanako@example.jp")
    batch = batches.batch_create(actor=Actor.staff(clerk), check=batches.batch_check(notice_type=notice_type,
                                                                                  raw=batch_csv(people)))
    batches.batch_approve(actor=Actor.staff(approver), batch=batch)
    batches.batch_dispatch(actor=Actor.staff(clerk), batch=batch)
    return batch, resident


def test_the_staff_batch_page_type_page_and_dashboard_are_accessible(page, live_server, sent, clerk, notice_type):
    batch, _resident = sent
    sign_in(page, live_server, clerk)
    page.goto(f"/staff/notices/batches/{batch.pk}/")
    assert page.get_by_role("heading", name=f"バッチ #{batch.pk}（{notice_type.name}）").is_visible()
    page.get_by_label("行番号").fill("3")
    page.get_by_role("button", name="表示する").click()
    assert "区民 2" in page.locator("article.notice").inner_text()
    assert_accessible(page)
    page.goto(f"/staff/notices/types/{notice_type.slug}/")
    assert page.get_by_role("heading", name="現行の版の見本").is_visible()
    assert_accessible(page)
    page.goto("/staff/notices/dashboard/")
    assert page.locator("svg.chart[role=img]").count() == 2
    assert_accessible(page)


def test_a_resident_opens_their_notice(page, live_server, sent):
    batch, resident = sent
    sign_in(page, live_server, resident)
    page.goto("/notices/")
    assert_accessible(page)
    page.get_by_role("link", name="令和7年度 介護保険料額決定通知書").click()
    assert page.get_by_role("heading", name="令和7年度 介護保険料額決定通知書").is_visible()
    assert "48000 円" in page.locator("article.notice").inner_text()
    assert_accessible(page)
    notice = batch.notices.get(recipient__user=resident)
    assert notice.status == Status.DELIVERED and notice.opened_as == "self"
