"""Staff are told when work arrives (issue 12.10): mail through core.notify for a shared item, a
round waiting at a 決裁 step and a 差戻し; a daily reminder of items past their due date; and the
to-do list with counts on the staff home."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from hiroba.accounts.models import Role
from hiroba.consultations import services, staff_mail
from hiroba.consultations.models import ApprovalRound, Case, Routing
from hiroba.core.models import Notification
from tests.consultations.conftest import _member_since_long_ago

pytestmark = pytest.mark.django_db


def _recipients(template: str) -> set[str]:
    return set(Notification.objects.filter(template=template).values_list("recipient", flat=True))


@pytest.fixture
def care_staff(make_staff):
    return [_member_since_long_ago(make_staff(email=e, department=d, role=r).user) for e, d, r in [
        ("care1@example.jp", "care", Role.HANDLE), ("care-head@example.jp", "welfare", Role.APPROVE),
        ("care-reader@example.jp", "care", Role.READ)]]


@pytest.fixture
def item(case, submit):
    submission = submit(case, "介護の窓口を増やしてください。")
    return services.item_create(actor="test", submission=submission, span=(0, len(submission.text)))


def test_a_shared_item_is_mailed_to_the_department_that_answers_it(item, clerk, departments, care_staff):
    services.routing_create(actor=clerk, item=item, department=departments["care"],
                            due_date=date(2025, 2, 20), note="介護の部分をご確認ください")
    # the 課's 担当 and the 部's staff (a role on 保健福祉部 covers 高齢介護課), not a read-only one
    assert _recipients(staff_mail.ROUTING_NEW) == {"care1@example.jp", "care-head@example.jp"}
    note = Notification.objects.filter(template=staff_mail.ROUTING_NEW).first()
    assert note.subject == f"【共有】{item.case.title} No.1 の回答をお願いします"
    assert "介護の部分をご確認ください" in note.body and "/staff/consultations/routing/" in note.body
    assert note.object_type == "consultations.routing"


def _answered(case, item):
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    services.answer_write(actor="test", items=[item], text="検討します。")


def test_a_round_waiting_at_a_step_is_mailed_to_who_decides_it(case, item, clerk, approver, make_staff, departments):
    boss = _member_since_long_ago(make_staff(email="bucho@example.jp", department="policy", role=Role.APPROVE).user)
    services.approval_route_set(actor=clerk, case=case, steps=[
        services.RouteStep(label="課長", department=departments["digital"]),
        services.RouteStep(label="部長", department=departments["policy"]),
    ])
    _answered(case, item)
    round_ = services.approval_request(actor=clerk, case=Case.objects.get(pk=case.pk))
    first = Notification.objects.filter(template=staff_mail.APPROVAL_WAITING)
    # who holds 承認 on デジタル政策課 (also through 政策経営部), never the drafter
    assert _recipients(staff_mail.APPROVAL_WAITING) == {approver.email, boss.email}
    assert "（課長）の決裁をお願いします" in first.first().subject
    first.delete()

    services.approval_decide(actor=approver, round_=round_, approve=True)
    # the 部長 step: the boss only (the one who decided the first step never decides another)
    assert _recipients(staff_mail.APPROVAL_WAITING) == {boss.email}
    services.approval_decide(actor=boss, round_=ApprovalRound.objects.get(), approve=False, comment="要旨を直して")
    [returned] = Notification.objects.filter(template=staff_mail.APPROVAL_RETURNED)
    assert returned.recipient == clerk.email and "要旨を直して" in returned.body


def test_overdue_routings_are_reminded_once_a_day(item, clerk, departments, care_staff, time_machine):
    routing = services.routing_create(actor=clerk, item=item, department=departments["care"],
                                      due_date=date(2025, 2, 20))
    services.routing_create(actor=clerk, item=item, department=departments["systems"], due_date=date(2025, 3, 31))
    time_machine.move_to(timezone.make_aware(timezone.datetime(2025, 2, 24, 8, 0)))
    out = StringIO()
    call_command("consultation", "remind-overdue", stdout=out)
    assert "期限を過ぎた共有 1 件を知らせました。" in out.getvalue()
    sent = Notification.objects.filter(template=staff_mail.ROUTING_OVERDUE)
    assert set(sent.values_list("recipient", flat=True)) == {"care1@example.jp", "care-head@example.jp", clerk.email}
    assert "期限を 4 日過ぎています" in sent.first().body
    call_command("consultation", "remind-overdue", stdout=StringIO())  # again the same day: nothing more
    assert sent.count() == 3
    time_machine.move_to(timezone.make_aware(timezone.datetime(2025, 2, 25, 8, 0)))
    call_command("consultation", "remind-overdue", stdout=StringIO())
    assert sent.count() == 6
    services.routing_complete(actor=care_staff[0], routing=routing, response="了解しました")
    time_machine.move_to(timezone.make_aware(timezone.datetime(2025, 2, 26, 8, 0)))
    assert staff_mail.remind_overdue() == 0


def test_the_staff_home_lists_the_work_waiting_with_counts(client, item, clerk, approver, departments, care_staff,
                                                           time_machine):
    services.routing_create(actor=clerk, item=item, department=departments["care"], due_date=date(2025, 1, 5))
    client.force_login(care_staff[0])
    html = client.get("/staff/").content.decode()
    assert "対応が必要なこと" in html
    assert "期限を過ぎた共有（回答待ち）</a> <span class=\"todo-list__count\">1 件" in html
    assert "共有された意見（回答待ち）</a> <span class=\"todo-list__count\">1 件" in html
    assert "決裁待ちの回答" not in html

    Routing.objects.update(state=Routing.State.DONE)
    _answered(item.case, item)
    services.approval_request(actor=clerk, case=Case.objects.get(pk=item.case_id))
    client.force_login(approver)
    html = client.get("/staff/").content.decode()
    assert "決裁待ちの回答</a> <span class=\"todo-list__count\">1 件" in html
    assert f"{item.case.title} — 所属の承認者" in html
    client.force_login(clerk)  # the drafter does not decide their own round
    html = client.get("/staff/").content.decode()
    assert "決裁待ちの回答" not in html
    en = client.get("/staff/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Things to do" in en


def test_masks_to_review_are_on_the_to_do_list(client, case, submit, clerk):
    submission = submit(case, "詳しくは https://example.jp/page をご覧ください。")
    services.item_create(actor="test", submission=submission, span=(0, len(submission.text)))
    client.force_login(clerk)
    html = client.get("/staff/").content.decode()
    assert "個人情報の確認が必要な箇所</a> <span class=\"todo-list__count\">1 件" in html
    assert f"/staff/consultations/{case.slug}/masks/" in html


def test_the_to_do_list_comes_from_the_app_config_not_from_core():
    from django.apps import apps

    assert apps.get_app_config("consultations").staff_todos == "hiroba.consultations.todo.todos"
    import hiroba.core.todo as core_todo

    assert "consultations" not in open(core_todo.__file__).read().replace("hiroba.<app>", "")
    assert timedelta(days=1)
