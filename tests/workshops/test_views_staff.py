"""Staff pages: department scoping (404), applicant data for the organising department only, actions."""

from __future__ import annotations

from datetime import datetime

import pytest

from hiroba.accounts.models import Role
from hiroba.core import paging
from hiroba.core.models import AuditEntry
from hiroba.workshops import services
from hiroba.workshops.models import Attendance, LotteryDraw, Programme
from tests.workshops.conftest import AFTER_CONSENT, JST, PUBLIC_VALUE, at, backdate_memberships

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_applicants(programme, submit):
    for i in range(3):
        submit(programme, i)
    return programme


def _client_for(client, make_staff, **kwargs):
    staff = make_staff(**kwargs)
    client.force_login(staff.user)
    return client


def test_staff_of_another_department_get_404(client, make_staff, with_applicants):
    c = _client_for(client, make_staff, email="care@example.jp", department="care")
    assert "中学生デジタル" not in c.get("/staff/workshops/").content.decode()
    for url in ["/staff/workshops/r7-jhs/", "/staff/workshops/r7-jhs/applications/R7-JHS-0001/",
                "/staff/workshops/r7-jhs/lottery/", "/staff/workshops/r7-jhs/export/"]:
        assert c.get(url).status_code == 404, url


def test_a_system_administrator_sees_the_programme_but_not_the_children(client, make_staff, with_applicants):
    c = _client_for(client, make_staff, email="admin@example.jp", department="systems", role=Role.ADMIN)
    page = c.get("/staff/workshops/r7-jhs/")
    assert page.status_code == 200 and "千代田 花子" not in page.content.decode()
    assert "担当所属の職員だけが見られます" in page.content.decode()
    assert c.get("/staff/workshops/r7-jhs/applications/R7-JHS-0001/").status_code == 404
    assert c.get("/staff/workshops/r7-jhs/export/").status_code == 404


def test_a_parent_department_role_covers_the_programme(client, make_staff, with_applicants):
    c = _client_for(client, make_staff, email="bucho@example.jp", department="policy", role=Role.READ)
    assert "千代田 花子" in c.get("/staff/workshops/r7-jhs/").content.decode()


def test_the_organising_department_sees_applicants_with_few_queries(staff_client, with_applicants,
                                                                    django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        body = staff_client.get("/staff/workshops/r7-jhs/").content.decode()
    assert "千代田 花子" in body and "R7-JHS-0003" in body


def test_a_read_only_role_cannot_record_attendance(client, make_staff, with_applicants):
    session = services.session_create(actor="test", programme=with_applicants, number=1, title="第1回",
                                      starts_at=datetime(2025, 8, 23, 14, tzinfo=JST),
                                      ends_at=datetime(2025, 8, 23, 16, tzinfo=JST), place="区役所")
    c = _client_for(client, make_staff, email="viewer@example.jp", role=Role.READ)
    assert c.get(f"/staff/workshops/r7-jhs/sessions/{session.number}/attendance/").status_code == 200
    assert c.post(f"/staff/workshops/r7-jhs/sessions/{session.number}/attendance/", {}).status_code == 403


def test_lottery_publish_draw_and_a_tampered_or_repeated_draw(staff_client, with_applicants):
    backdate_memberships()
    with at(AFTER_CONSENT):
        response = staff_client.post("/staff/workshops/r7-jhs/lottery/", {"action": "publish",
                                                                          "public_value": PUBLIC_VALUE})
        assert response.status_code == 302
        lottery = LotteryDraw.objects.get()
        tampered = staff_client.post("/staff/workshops/r7-jhs/lottery/", {
            "action": "draw", "seed": "a" * 64, "entries_digest": lottery.entries_digest, "confirmed": "yes"})
        assert tampered.status_code == 400
        assert "送信されたシードが、公開したシードと一致しません" in tampered.content.decode()
        lottery.refresh_from_db()
        assert lottery.drawn_at is None
        assert AuditEntry.objects.filter(action="workshops.lottery_refused").count() == 1
        ok = staff_client.post("/staff/workshops/r7-jhs/lottery/", {
            "action": "draw", "seed": lottery.seed, "entries_digest": lottery.entries_digest, "confirmed": "yes"})
        assert ok.status_code == 302
        again = staff_client.post("/staff/workshops/r7-jhs/lottery/", {
            "action": "draw", "seed": lottery.seed, "entries_digest": lottery.entries_digest, "confirmed": "yes"})
    assert again.status_code == 400 and "抽選はすでに行われています" in again.content.decode()
    assert with_applicants.applications.filter(status="selected").count() == 3


def test_attendance_is_ticked_on_the_checklist(staff_client, make_programme, submit):
    programme = make_programme(selection_method="first_come", capacity=2, waitlist_size=0)
    apps = [submit(programme, i) for i in range(2)]
    with at(AFTER_CONSENT):
        services.selection_first_come(actor="test", programme=programme)
    services.session_create(actor="test", programme=programme, number=1, title="第1回",
                            starts_at=datetime(2025, 8, 23, 14, tzinfo=JST),
                            ends_at=datetime(2025, 8, 23, 16, tzinfo=JST), place="区役所")
    page = staff_client.get("/staff/workshops/r7-jhs/sessions/1/attendance/").content.decode()
    assert 'class="checklist"' in page and "千代田 花子" in page
    response = staff_client.post("/staff/workshops/r7-jhs/sessions/1/attendance/", {"present": [apps[1].pk]})
    assert response.status_code == 302
    assert list(Attendance.objects.filter(present=True).values_list("application_id", flat=True)) == [apps[1].pk]


def test_an_export_with_contacts_needs_a_reason(staff_client, with_applicants):
    refused = staff_client.post("/staff/workshops/r7-jhs/export/", {"include_contacts": "on", "reason": ""})
    assert refused.status_code == 400 and "理由を書いてください" in refused.content.decode()
    plain = staff_client.post("/staff/workshops/r7-jhs/export/", {})
    assert plain["Content-Type"].startswith("text/csv") and b"guardian0@example.jp" not in plain.content
    full = staff_client.post("/staff/workshops/r7-jhs/export/", {"include_contacts": "on", "reason": "郵送のため"})
    assert b"guardian0@example.jp" in full.content


def test_staff_create_a_programme_and_a_session(staff_client, departments):
    response = staff_client.post("/staff/workshops/new/", {
        "department": departments["digital"].pk, "code": "r8-jhs", "title": "令和8年度 中学生デジタルワークショップ",
        "purpose": "目的", "audience": "区内在住の中学生", "residency_required": "on", "grade_min": "7",
        "grade_max": "9", "capacity": "15", "waitlist_size": "5", "applications_open_on": "2026-06-15",
        "applications_close_on": "2026-07-15", "consent_deadline": "2026-07-22", "selection_method": "lottery",
        "lottery_seed_rule": "抽選日の公開番号", "quota_kind": "", "privacy_notice": "個人情報の取扱い",
        "starts_on": "2026-08-01", "ends_on": "2027-03-31", "purge_on": "2027-06-30", "is_published": "on",
    })
    assert response.status_code == 302, response.content.decode()
    programme = Programme.objects.get(code="r8-jhs")
    assert AuditEntry.objects.filter(action="workshops.programme_create", object_id=str(programme.pk)).exists()
    response = staff_client.post("/staff/workshops/r8-jhs/sessions/new/", {
        "number": "1", "title": "オリエンテーション", "starts_at": "2026-08-22T14:00", "ends_at": "2026-08-22T16:00",
        "place": "", "online_url": "", "agenda": "", "materials": "", "notes": ""})
    assert response.status_code == 200 and "会場かオンライン参加のURL" in response.content.decode()
    response = staff_client.post("/staff/workshops/r8-jhs/sessions/new/", {
        "number": "1", "title": "オリエンテーション", "starts_at": "2026-08-22T14:00", "ends_at": "2026-08-22T16:00",
        "place": "区役所", "online_url": "", "agenda": "", "materials": "", "notes": ""})
    assert response.status_code == 302 and programme.sessions.count() == 1


def test_creating_a_programme_for_another_department_is_not_offered(staff_client, departments):
    response = staff_client.post("/staff/workshops/new/", {"department": departments["care"].pk, "code": "x"})
    assert "正しく選択してください" in response.content.decode() or response.status_code == 200
    assert not Programme.objects.filter(code="x").exists()


def test_the_draw_sends_no_mail_in_the_request_and_a_mail_server_that_is_down_is_no_error(
        staff_client, with_applicants, settings, django_capture_on_commit_callbacks):
    from hiroba.core import notify
    from hiroba.core.models import Notification
    from tests.consultations.test_receipt_mail import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", free_port(), False  # nobody listens
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # the worker, not yet run
    backdate_memberships()
    Notification.objects.all().delete()
    with at(AFTER_CONSENT):
        staff_client.post("/staff/workshops/r7-jhs/lottery/", {"action": "publish", "public_value": PUBLIC_VALUE})
        lottery = LotteryDraw.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            ok = staff_client.post("/staff/workshops/r7-jhs/lottery/", {
                "action": "draw", "seed": lottery.seed, "entries_digest": lottery.entries_digest, "confirmed": "yes"})
    assert ok.status_code == 302  # a mail server that is down is not the request's concern
    outbox = list(Notification.objects.filter(template__startswith="workshops/mail/result_"))
    assert len(outbox) == 6 and {n.state for n in outbox} == {"queued"}  # each student and guardian
    for note in outbox:  # the worker runs: the server refuses, the message waits for its retry
        notify.deliver.call(note.pk)
    assert set(Notification.objects.filter(pk__in=[n.pk for n in outbox]).values_list("state", flat=True)) == {"retry"}
    assert with_applicants.applications.filter(status="selected").count() == 3


def test_the_staff_list_is_paginated(client, make_staff, make_programme, monkeypatch):
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    for i in range(3):
        make_programme(code=f"r7-w{i}")
    c = _client_for(client, make_staff)
    first = c.get("/staff/workshops/").content.decode()
    assert first.count("/staff/workshops/r7-w") == 2 and 'class="pagination"' in first and "?page=2" in first
    assert c.get("/staff/workshops/?page=2").content.decode().count("/staff/workshops/r7-w") == 1


def test_the_applications_of_a_programme_are_paginated(staff_client, with_applicants, monkeypatch):
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    first = staff_client.get("/staff/workshops/r7-jhs/").content.decode()
    assert first.count("/staff/workshops/r7-jhs/applications/R7-JHS-") == 2 and "?page=2" in first
    second = staff_client.get("/staff/workshops/r7-jhs/?page=2").content.decode()
    assert second.count("/staff/workshops/r7-jhs/applications/R7-JHS-") == 1
