"""Training attendance from the platform's CSV, who has not completed by department, policy
acknowledgement, reminders by e-mail at most once a day, hiroba's own posture check."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from hiroba.accounts.models import Role
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Notification
from hiroba.security import importing, policy, posture, queries, reminders, training
from hiroba.security.models import Attendance, PostureCheck
from tests.security.test_import import first_scan
from tests.security.zapgen import zap_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(departments, office_clerk):
    return training.course_create(actor=office_clerk, fiscal_year=2024, title="情報セキュリティ研修（動画研修）",
                                  department=departments["systems"], audience="all", required=True,
                                  sessions=[("動画研修", "video", date(2025, 2, 20), date(2025, 3, 19))])


def test_attendance_comes_from_the_platforms_csv_by_staff_number(course, office_clerk, make_staff):
    clerk = make_staff(email="numbered@example.jp", department="care", staff_number="A0001").user
    content = "職員番号,受講日時\nA0001,2025/02/21 10:15\nT9999,2025-02-22 09:00\nA0001,2025-02-23 09:00\n"
    result = training.attendance_import(actor=office_clerk, course=course, content=content.encode("cp932"))
    assert (result.added, result.already, result.without_account) == (2, 1, 1)
    assert Attendance.objects.get(staff_number="A0001").user == clerk
    course.refresh_from_db()
    assert course.attendee_count == 2
    again = training.attendance_import(actor=office_clerk, course=course, content=content.encode())
    assert again.added == 0 and again.already == 3


def test_a_bad_attendance_file_names_its_lines_and_imports_nothing(course, office_clerk, care_clerk):
    with pytest.raises(ServiceError) as exc:
        training.attendance_import(actor=office_clerk, course=course,
                                   content="職員番号,受講日時\nA1,2025-02-21\n,2025-02-21\nA3,いつか\n".encode())
    with translation.override("ja"):
        assert "3行目" in exc.value.message and "4行目" in exc.value.message
    assert not Attendance.objects.exists()
    with pytest.raises(ServiceError):
        training.attendance_import(actor=office_clerk, course=course, content="番号,日時\nA1,2025-02-21\n".encode())
    with pytest.raises(NotAllowed):
        training.attendance_import(actor=care_clerk, course=course, content=b"x")


def test_who_has_not_completed_is_listed_per_department(course, office_clerk, make_staff, care_clerk):
    done = make_staff(email="done@example.jp", department="care", staff_number="A0002").user
    training.attendance_import(actor=office_clerk, course=course, content="職員番号,受講日時\nA0002,2025-02-21\n".encode())
    rows = {r.department: r for r in queries.training_missing(office_clerk, course)}
    care = rows["保健福祉部 高齢介護課"]
    assert care.staff == 2 and care.done == 1 and care.missing == [care_clerk]
    assert done not in care.missing
    only_own = queries.training_missing(care_clerk, course)
    assert [r.department for r in only_own] == ["保健福祉部 高齢介護課"]


def test_staff_acknowledge_the_current_policy_once(client, departments, office_clerk, care_clerk):
    old = policy.policy_publish(actor=office_clerk, title="情報セキュリティポリシー", kind="policy", version="旧版",
                                effective_on=date(2019, 4, 1))
    current = policy.policy_publish(actor=office_clerk, title="情報セキュリティポリシー", kind="policy",
                                    version="令和6年4月1日改定", effective_on=date(2024, 4, 1))
    assert queries.current_version(old.document) == current
    with pytest.raises(NotAllowed):
        policy.policy_publish(actor=care_clerk, title="勝手な規程", kind="policy", version="1", effective_on=date.today())
    with pytest.raises(PermissionError):
        current.save()
    assert queries.versions_to_acknowledge(care_clerk) == [current]
    client.force_login(care_clerk)
    client.post(reverse("security_staff:policy"), {"version": current.pk})
    assert queries.versions_to_acknowledge(care_clerk) == []
    with pytest.raises(ServiceError):
        policy.policy_acknowledge(actor=care_clerk, version=current)
    rows = {r.department: r for r in queries.policy_missing(office_clerk, current)}
    assert rows["保健福祉部 高齢介護課"].missing == []
    assert rows["政策経営部 情報システム課"].missing == [office_clerk]


def test_reminders_go_to_the_departments_handlers_once_a_day(site, care_clerk, care_approver, make_staff):
    make_staff(email="care.reader@example.jp", department="care", role=Role.READ)
    importing.round_import(actor="test", system=site, stream=importing.spooled(zap_json(first_scan())),
                           filename="a.json", performed_on=date(2024, 10, 15))
    today = timezone.localdate()
    sent = reminders.reminders_send(today=today)
    mails = Notification.objects.filter(template="security/mail/findings_reminder")
    assert sorted(mails.values_list("recipient", flat=True)) == ["care.approver@example.jp", "care.clerk@example.jp"]
    assert "期限を過ぎたものが 4 件" in mails.first().body
    assert sent >= 2
    assert reminders.reminders_send(today=today) == 0  # the same day again: nothing
    reminders.reminders_send(today=today + timedelta(days=1))
    assert Notification.objects.filter(template="security/mail/findings_reminder").count() == 4


def test_the_posture_check_records_the_account_review_and_the_chain(office_clerk, site):
    check = posture.posture_check(actor="test")
    assert check.chain_ok and check.chain_entries > 0 and check.staff_total >= 1
    assert PostureCheck.objects.count() == 1 and posture.latest() == check
