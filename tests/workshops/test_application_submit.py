"""application_submit: window, eligibility, duplicates, receipt numbers, the guardian's e-mail."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from hiroba.core.models import AuditEntry
from hiroba.workshops import services
from hiroba.workshops.models import Application
from hiroba.workshops.services import WorkshopError
from tests.workshops.conftest import JST, OPEN_DAY, application_input, at, consent_link

pytestmark = pytest.mark.django_db


def _submit(programme, i=0, when=OPEN_DAY, **overrides):
    with at(when):
        return services.application_submit(programme=programme, data=application_input(i, **overrides),
                                           site_url="https://hiroba.example")


def test_it_gives_a_receipt_number_and_waits_for_the_guardian(programme, mailoutbox,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        app = _submit(programme)
    assert app.receipt_number == "R7-JHS-0001"
    assert app.status == Application.Status.AWAITING_CONSENT and app.consented_at is None
    assert not Application.objects.counted().exists()
    guardian_mail = next(m for m in mailoutbox if m.to == ["guardian0@example.jp"])
    assert "同意のお願い" in guardian_mail.subject and "R7-JHS-0001" in guardian_mail.subject
    assert consent_link(guardian_mail.body).startswith("/workshops/consent/")
    assert any(m.to == ["student0@example.jp"] and "受付番号" in m.body for m in mailoutbox)
    entry = AuditEntry.objects.get(action="workshops.application_submit")
    assert entry.object_id == str(app.pk) and "千代田" not in str(entry.changes)


def test_receipt_numbers_follow_each_other(programme):
    numbers = [_submit(programme, i).receipt_number for i in range(3)]
    assert numbers == ["R7-JHS-0001", "R7-JHS-0002", "R7-JHS-0003"]


@pytest.mark.parametrize("when", [datetime(2025, 6, 14, 23, 59, tzinfo=JST), datetime(2025, 7, 16, 0, 0, tzinfo=JST)])
def test_it_rejects_outside_the_window(programme, when):
    with pytest.raises(WorkshopError) as error:
        _submit(programme, when=when)
    assert error.value.code == "closed"
    assert "今は申込みの期間ではありません" in error.value.message and "令和7年6月15日" in error.value.message
    assert not Application.objects.exists()


def test_the_last_day_of_the_window_counts_in_jst(programme):
    assert _submit(programme, when=datetime(2025, 7, 15, 23, 59, 59, tzinfo=JST)).pk


def test_it_rejects_an_unpublished_programme(make_programme):
    with pytest.raises(WorkshopError):
        _submit(make_programme(is_published=False))


@pytest.mark.parametrize("grade,label", [(6, "小学6年"), (10, "高校1年")])
def test_it_rejects_ineligible_grades(programme, grade, label):
    with pytest.raises(WorkshopError) as error:
        _submit(programme, grade=grade)
    assert error.value.code == "ineligible"
    assert "中学1年〜中学3年" in error.value.message and label in error.value.message
    assert not Application.objects.exists()


def test_it_rejects_students_living_outside_the_ward(programme):
    with pytest.raises(WorkshopError) as error:
        _submit(programme, lives_in_ward=False)
    assert "千代田区に住んでいる人が対象" in error.value.message


def test_an_age_rule_is_checked_on_its_reference_date(make_programme):
    programme = make_programme(grade_min=None, grade_max=None, age_min=12, age_max=15, age_on=date(2025, 8, 1))
    assert _submit(programme, 0, birth_date=date(2013, 8, 1)).pk  # 12 on the reference date
    with pytest.raises(WorkshopError) as error:
        _submit(programme, 1, birth_date=date(2013, 8, 2))  # still 11
    assert "12〜15歳" in error.value.message


@pytest.mark.parametrize("overrides", [
    {"student_kana": "チヨダ　ハナコ"},                                      # same birth date, katakana
    {"student_kana": "ちよだはなこ", "birth_date": date(2012, 5, 2)},         # typo in the birth date …
    {"student_kana": "ﾁﾖﾀﾞ ﾊﾅｺ", "school_name": "麹町中", "birth_date": date(2012, 6, 1)},  # … same school+grade
])
def test_it_detects_the_same_student_applying_twice(programme, overrides):
    _submit(programme, 0)
    with pytest.raises(WorkshopError) as error:
        _submit(programme, 0, guardian_email="other@example.jp", **overrides)
    assert error.value.code == "duplicate" and "申込みは1人1回です" in error.value.message
    assert Application.objects.count() == 1


def test_a_different_student_with_the_same_name_may_apply(programme):
    _submit(programme, 0)
    other = _submit(programme, 0, birth_date=date(2011, 12, 1), school_name="番町中学校", grade=9)
    assert other.receipt_number == "R7-JHS-0002"
