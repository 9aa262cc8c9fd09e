"""A junior-high workshop end to end in Chromium.

Three students apply, two guardians confirm by the e-mailed link, a lottery for one place is
published and drawn (and recomputed independently from the published page), the selected
student's attendance is ticked on a phone for two sessions, and the workshop's output becomes a
proposal in a call of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import timedelta

import pyotp
import pytest
from django.utils import timezone

from hiroba.core.models import AuditEntry
from hiroba.workshops import lottery, services
from hiroba.workshops.models import Application, Attendance, LotteryDraw, Programme
from tests.browser.conftest import assert_accessible
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

STUDENTS = [
    ("千代田 花子", "ちよだ はなこ", "2012-05-01", "千代田区立麹町中学校", "8", "guardian-a@example.jp"),
    ("神田 一郎", "かんだ いちろう", "2011-09-09", "千代田区立神田一橋中学校", "9", "guardian-b@example.jp"),
    ("九段 さくら", "くだん さくら", "2013-01-20", "九段中等教育学校", "7", "guardian-c@example.jp"),
]
PUBLIC_VALUE = "2025-07-25 公開抽選番号 318274"


@pytest.fixture
def workshop(departments):
    today = timezone.localdate()
    programme = services.programme_create(
        actor="test", department=departments["digital"], code="r7-jhs",
        title="令和7年度 中学生デジタルワークショップ", purpose="地域の課題をデジタルで解決するアイデアを考えます。",
        audience="区内在住の中学生", residency_required=True, grade_min=7, grade_max=9, capacity=1, waitlist_size=1,
        applications_open_on=today - timedelta(days=1), applications_close_on=today + timedelta(days=10),
        consent_deadline=today + timedelta(days=12), selection_method=Programme.Selection.LOTTERY,
        lottery_seed_rule="抽選日の日付と公開抽選番号をつなげた文字列",
        privacy_notice="申込みの情報は、このワークショップの運営だけに使います。",
        starts_on=today + timedelta(days=20), ends_on=today + timedelta(days=200),
        purge_on=today + timedelta(days=300), is_published=True,
    )
    for number in (1, 2):
        start = timezone.now() + timedelta(days=20 * number)
        services.session_create(actor="test", programme=programme, number=number, title=f"第{number}回の講義",
                                starts_at=start, ends_at=start + timedelta(hours=2), place="区役所 4階")
    return programme


def _apply(page, name, kana, birth, school, grade, guardian_email):
    page.goto("/workshops/r7-jhs/apply/")
    page.fill("#id_student_name", name)
    page.fill("#id_student_kana", kana)
    page.fill("#id_birth_date", birth)
    page.fill("#id_school_name", school)
    page.select_option("#id_grade", grade)
    page.check("#id_lives_in_ward")
    page.fill("#id_address", "千代田区九段南1-2-1")
    page.fill("#id_guardian_name", f"{name.split()[0]} 保護者")
    page.fill("#id_guardian_email", guardian_email)
    page.fill("#id_guardian_phone", "03-0000-0000")
    page.check("#id_privacy_ack")
    page.get_by_role("button", name="申し込む").click()
    page.wait_for_url("**/thanks/")
    # The receipt number is in the mails, not on the page (a duplicate must look the same: 13.13).
    return Application.objects.get(programme__code="r7-jhs", student_kana=kana).receipt_number


def _consent_path(mailoutbox, email):
    body = next(m.body for m in mailoutbox if m.to == [email] and "同意のお願い" in m.subject)
    return re.search(r"https?://[^/\s]+(/workshops/consent/\S+/)", body).group(1)


def _staff_login(page, staff):
    page.goto("/accounts/login/?next=/staff/workshops/")
    page.get_by_label("メールアドレス").fill(staff.user.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    if 30 - time.time() % 30 < 4:  # a code about to roll over may be refused by the server
        time.sleep(5)
    page.locator("input[name=code]").fill(pyotp.TOTP(staff.totp_secret).now())
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/staff/workshops/")


def test_three_apply_two_confirm_one_is_drawn_attends_twice_and_proposes(page, workshop, make_staff, mailoutbox):
    # The public pages.
    page.goto("/workshops/r7-jhs/")
    assert page.locator("h1").inner_text() == "令和7年度 中学生デジタルワークショップ"
    assert page.locator("ruby", has_text="定員").count() == 1
    assert_accessible(page)
    page.goto("/workshops/r7-jhs/apply/")
    assert_accessible(page)
    page.get_by_role("button", name="申し込む").click()  # empty form: errors, accessibly
    assert "入力内容を確認してください" in page.get_by_role("alert").first.inner_text()
    assert_accessible(page)

    # Three students apply.
    receipts = [_apply(page, *student) for student in STUDENTS]
    assert receipts == ["R7-JHS-0001", "R7-JHS-0002", "R7-JHS-0003"]
    assert "まだ申込みは終わっていません" in page.content()
    assert_accessible(page)

    # Two guardians follow the e-mailed link and confirm.
    for email, guardian in [("guardian-a@example.jp", "千代田 保護者"), ("guardian-b@example.jp", "神田 保護者")]:
        page.goto(_consent_path(mailoutbox, email))
        assert_accessible(page)
        page.get_by_label("保護者の方のお名前").fill(guardian)
        page.get_by_label("上の内容と個人情報の取扱いを確認し、参加に同意します").check()
        page.get_by_role("button", name="同意します").click()
        assert page.locator("h1").inner_text() == "同意を受け付けました"
    assert_accessible(page)
    assert sorted(Application.objects.counted().values_list("receipt_number", flat=True)) == receipts[:2]

    # Time passes: the window and the consent deadline are over.
    today = timezone.localdate()
    Programme.objects.filter(pk=workshop.pk).update(
        applications_open_on=today - timedelta(days=5), applications_close_on=today - timedelta(days=3),
        consent_deadline=today - timedelta(days=1))

    # Staff publish the lottery, then draw once.
    staff = make_staff(email="dx.clerk@example.jp")
    _staff_login(page, staff)
    page.get_by_role("link", name="令和7年度 中学生デジタルワークショップ").click()
    page.get_by_role("link", name="選考・抽選").click()
    page.get_by_label("公開値").fill(PUBLIC_VALUE)
    page.get_by_role("button", name="公開する").click()
    seed = page.locator("#lottery-seed").inner_text()
    assert seed == hashlib.sha256(PUBLIC_VALUE.encode()).hexdigest()
    assert_accessible(page)
    draw_request = {name: page.locator(f"main form input[name={name}]").first.input_value()
                    for name in ("csrfmiddlewaretoken", "action", "seed", "entries_digest")}
    page.get_by_role("button", name="抽選する").click()
    # the confirmation step says what the draw does before anything happens (issue 12.9)
    assert page.locator("h1").inner_text() == "確認：抽選する"
    assert "やり直せません" in page.locator("main").inner_text()
    assert "メールで知らせます" in page.locator("main").inner_text()
    assert LotteryDraw.objects.get().drawn_at is None
    assert_accessible(page)
    page.get_by_role("button", name="抽選する").click()
    page.wait_for_selector("#lottery-results")
    staff_order = page.locator("#lottery-results tbody tr td:nth-child(2)").all_inner_texts()

    # The same draw request sent again, and one with a changed seed, are refused.
    replay = page.request.post("/staff/workshops/r7-jhs/lottery/", form={**draw_request, "confirmed": "yes"})
    assert replay.status == 400 and "抽選はすでに行われています" in replay.text()
    tampered = page.request.post("/staff/workshops/r7-jhs/lottery/",
                                 form={**draw_request, "confirmed": "yes", "seed": "0" * 64})
    assert tampered.status == 400
    assert AuditEntry.objects.filter(action="workshops.lottery_draw").count() == 1

    # Anyone recomputes the order from the public page alone.
    page.goto("/workshops/r7-jhs/")
    published_seed = page.locator("#lottery-seed").inner_text()
    digest = page.locator("#lottery-digest").inner_text()
    entries = page.request.get("/workshops/r7-jhs/lottery/entries.txt").text()
    assert hashlib.sha256(entries.encode()).hexdigest() == digest
    numbers = entries.split()
    recomputed = sorted(numbers, key=lambda n: (
        hmac.new(bytes.fromhex(published_seed), n.encode(), hashlib.sha256).hexdigest(), n))
    public_order = page.locator("#lottery-results tbody tr td:nth-child(2)").all_inner_texts()
    results = page.locator("#lottery-results tbody tr td:nth-child(3)").all_inner_texts()
    assert public_order == staff_order == recomputed
    assert results == ["当選", "補欠1番"]
    _, _, again = lottery.run(PUBLIC_VALUE, entries, capacity=1, waitlist_size=1)  # the draw, run again
    assert again.order == recomputed and again.selected == [recomputed[0]]
    assert_accessible(page)
    winner = Application.objects.get(receipt_number=recomputed[0])
    assert winner.status == Application.Status.SELECTED
    assert any(m.to == [winner.guardian_email] and m.subject.startswith("【参加決定】") for m in mailoutbox)

    # Attendance on a phone, for two sessions.
    page.set_viewport_size({"width": 390, "height": 844})
    for number in (1, 2):
        page.goto(f"/staff/workshops/r7-jhs/sessions/{number}/attendance/")
        page.get_by_label(re.compile(winner.student_name)).check()
        page.get_by_role("button", name="出欠を保存").click()
        assert "出席 1名・欠席 0名" in page.get_by_role("status").inner_text()
    assert_accessible(page)
    assert sorted(Attendance.objects.filter(application=winner, present=True)
                  .values_list("session__number", flat=True)) == [1, 2]

    # The workshop's output becomes a proposal.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/staff/workshops/r7-jhs/outputs/")
    page.get_by_label("タイトル").fill("防災マップをスマホで")
    page.get_by_label("提案者の表示名").fill("Aグループ")
    page.get_by_label("課題（困っていること）").fill("災害のとき、どこに逃げればよいか分かりにくい。")
    page.get_by_label("アイデア（デジタルでどう解決するか）").fill("避難場所と安全な道をスマホの地図で見られるようにする。")
    page.get_by_label("だれのためになるか").fill("中学生とその家族")
    page.get_by_role("button", name="登録する").click()
    page.get_by_role("button", name="区への提案として提出する").click()
    assert "区への提案として提出しました" in page.get_by_role("status").inner_text()
    assert "提出済み" in page.locator(".output-status").inner_text()
    assert_accessible(page)
    workshop.refresh_from_db()
    output = workshop.outputs.get()
    assert output.proposal_id is not None and workshop.proposal_call_id is not None
    from hiroba.proposals.models import Proposal

    proposal = Proposal.objects.get(pk=output.proposal_id)
    assert proposal.call_id == workshop.proposal_call_id and proposal.title == "防災マップをスマホで"
    assert proposal.source == "workshop:r7-jhs"
