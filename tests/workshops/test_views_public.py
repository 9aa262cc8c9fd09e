"""Public pages: recruitment, the application form, the guardian's consent page, the lottery list."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.test import Client

from hiroba.core.models import AuditEntry
from hiroba.workshops import services
from hiroba.workshops.models import Application
from tests.workshops.conftest import AFTER_CONSENT, JST, OPEN_DAY, PUBLIC_VALUE, at, consent_link

pytestmark = pytest.mark.django_db

FORM = {
    "student_name": "千代田 花子", "student_kana": "ちよだ はなこ", "birth_date": "2012-05-01",
    "school_name": "千代田区立麹町中学校", "grade": "8", "lives_in_ward": "on", "address": "千代田区九段南1-2-1",
    "student_email": "", "guardian_name": "千代田 母", "guardian_relationship": "母",
    "guardian_email": "Mother@Example.jp", "guardian_phone": "03-0000-0000", "privacy_ack": "on",
}


def test_the_list_and_detail_pages_show_the_programme(client, programme, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        listing = client.get("/workshops/")
    assert "令和7年度 中学生デジタルワークショップ" in listing.content.decode()
    with at(OPEN_DAY):
        body = client.get("/workshops/r7-jhs/").content.decode()
    assert "<ruby>定員<rp>（</rp><rt>ていいん</rt>" in body and "15名" in body
    assert "中学1年〜中学3年" in body and "令和7年6月15日" in body and 'href="/workshops/r7-jhs/apply/"' in body


def test_an_unpublished_programme_is_not_found(client, make_programme):
    make_programme(code="draft", is_published=False)
    assert client.get("/workshops/draft/").status_code == 404


def test_a_student_applies_and_the_guardian_confirms(client, programme, mailoutbox,
                                                    django_capture_on_commit_callbacks):
    with at(OPEN_DAY):
        form = client.get("/workshops/r7-jhs/apply/").content.decode()
        assert "<ruby>保護者<rp>（</rp><rt>ほごしゃ</rt>" in form and "<ruby>学年" in form
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/workshops/r7-jhs/apply/", FORM)
        assert response.status_code == 302
        thanks = client.get(response["Location"]).content.decode()
    assert "まだ申込みは終わっていません" in thanks and "R7-JHS-0001" in mailoutbox[0].subject
    link = consent_link(mailoutbox[0].body)
    assert mailoutbox[0].to == ["mother@example.jp"]
    with at(OPEN_DAY):
        page = client.get(link).content.decode()
        assert "千代田 花子" in page and "同意します" in page
        assert Application.objects.get().consented_at is None  # opening the link is not consenting
        bad = client.post(link, {"guardian_name": "千代田 母"})
        assert bad.status_code == 400 and "入力内容を確認してください" in bad.content.decode()
        done = client.post(link, {"guardian_name": "千代田 母", "agree": "on"})
    assert "同意を受け付けました" in done.content.decode()
    assert Application.objects.get().status == Application.Status.CONFIRMED


def test_an_ineligible_grade_is_refused_in_plain_japanese(client, programme):
    with at(OPEN_DAY):
        response = client.post("/workshops/r7-jhs/apply/", {**FORM, "grade": "6"})
    assert response.status_code == 400
    assert "この募集の対象は中学1年〜中学3年です。小学6年の人は申し込めません。" in response.content.decode()
    assert not Application.objects.exists()


def test_a_duplicate_is_not_stored_and_the_page_reveals_nothing(client, programme, mailoutbox,
                                                                django_capture_on_commit_callbacks):
    """13.13: a stranger who types a child's name and birth date learns nothing; the guardian on
    record is told by mail."""
    with at(OPEN_DAY), django_capture_on_commit_callbacks(execute=True):
        first = client.post("/workshops/r7-jhs/apply/", FORM)
        first_page = client.get(first["Location"]).content.decode()
        stranger = Client()
        again = stranger.post("/workshops/r7-jhs/apply/", {**FORM, "student_kana": "チヨダ ハナコ",
                                                           "guardian_email": "stranger@example.jp"})
        again_page = stranger.get(again["Location"]).content.decode()
    assert (again.status_code, again["Location"]) == (first.status_code, first["Location"])
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
    assert token.sub("", again_page) == token.sub("", first_page)  # the very same page
    assert "申込みは1人1回" not in again_page and "すでに" not in again_page
    assert Application.objects.count() == 1
    assert [m.to for m in mailoutbox] == [["mother@example.jp"], ["mother@example.jp"]]  # consent, then the notice
    notice = mailoutbox[-1]
    assert "同じお子さまの申込みがもう一度ありました" in notice.subject and "R7-JHS-0001" in notice.body
    assert "stranger@example.jp" not in notice.body
    assert AuditEntry.objects.filter(action="workshops.application_duplicate").count() == 1


def test_kana_must_be_kana(client, programme):
    with at(OPEN_DAY):
        response = client.post("/workshops/r7-jhs/apply/", {**FORM, "student_kana": "Hanako"})
    assert "ふりがなは、ひらがなで書いてください。" in response.content.decode()


def test_outside_the_window_there_is_no_form_and_posts_are_refused(client, programme):
    with at(datetime(2025, 7, 16, 9, tzinfo=JST)):
        page = client.get("/workshops/r7-jhs/apply/").content.decode()
        assert "今は申込みの期間ではありません" in page and "<form method=\"post\" class=\"form\"" not in page
        client.post("/workshops/r7-jhs/apply/", FORM)
    assert not Application.objects.exists()


def test_a_broken_consent_link_says_so(client):
    response = client.get("/workshops/consent/not-a-token/")
    assert response.status_code == 400 and "この確認用リンクは正しくありません" in response.content.decode()


def test_a_late_consent_changes_nothing(client, programme, submit):
    app = submit(programme, 0, consent=False)
    link = f"/workshops/consent/{services.consent_token(app)}/"
    with at(datetime(2025, 7, 23, 9, tzinfo=JST)):
        page = client.get(link).content.decode()
        assert "同意の期限（令和7年7月22日" in page
        response = client.post(link, {"guardian_name": "A", "agree": "on"})
    assert response.status_code == 400 and "受け付けられません" in response.content.decode()
    app.refresh_from_db()
    assert app.consented_at is None


def test_the_published_lottery_is_on_the_page_and_the_list_is_byte_exact(client, programme, submit, make_staff):
    for i in range(3):
        submit(programme, i)
    with at(AFTER_CONSENT):
        lottery = services.lottery_publish(actor=make_staff().user, programme=programme, public_value=PUBLIC_VALUE)
    body = client.get("/workshops/r7-jhs/").content.decode()
    assert lottery.seed in body and lottery.entries_digest in body and PUBLIC_VALUE in body
    listing = client.get("/workshops/r7-jhs/lottery/entries.txt")
    assert listing.content == lottery.entries_text.encode() and re.match(rb"R7-JHS-0001\n", listing.content)
