"""Fax delivered as mail (FAX-to-mail) waits beside its OCR text on the channel ファクス; held mail
is decided by staff; the queue shows every channel with its counts per day."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from django.core.management import call_command

from hiroba.accounts.models import Role
from hiroba.consultations.intake import ocr
from hiroba.consultations.intake.models import Entry, Original, Source, State
from hiroba.consultations.models import Case, Channel, Submission
from hiroba.core.models import AuditEntry, Notification
from tests.consultations.conftest import JST
from tests.consultations.intake.conftest import jp_mail, pdf_of, render_letter

pytestmark = pytest.mark.django_db
FAX_TEXT = "ファクスで送ります。\n図書館の開館時間を延ばしてください。"


def run(case, path) -> str:
    out = io.StringIO()
    call_command("consultation", "mailbox", case.slug, "--maildir", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.skipif(bool(ocr.available()), reason=f"OCR not available: {ocr.available()}")
def test_a_fax_pdf_by_mail_waits_with_its_ocr_text(case, maildir, settings):
    settings.CONSULTATIONS_INTAKE_FAX_ADDRESSES = ["fax-server@city.example.jp"]
    raw = jp_mail("FAX受信のお知らせ", charset="utf-8", sender="fax-server@city.example.jp", subject="FAX 0312345678",
                  attachments=[("fax0001.pdf", pdf_of(render_letter(FAX_TEXT)), "application/pdf")])
    assert run(case, maildir(raw)).splitlines()[0] == "new 0, duplicate 0, held 1"
    entry = Entry.objects.get()
    assert entry.source == Source.FAX and entry.channel == Channel.FAX and entry.state == State.REVIEW
    assert "図書館の開館時間" in entry.ocr_text and not entry.hold_code
    kinds = sorted(entry.originals.values_list("kind", flat=True))
    assert kinds == ["attachment", "message", "page"]
    assert not Submission.objects.exists() and not Notification.objects.exists()  # no reply to the fax server


@pytest.fixture
def clerk(client, make_staff, time_machine):
    time_machine.move_to(datetime(2025, 2, 14, 10, 0, tzinfo=JST))  # roles count from the day they start
    client.force_login(make_staff(email="intake@example.jp", role=Role.HANDLE).user)
    return client


def test_staff_take_a_late_mail_by_decision_and_reject_a_robot(clerk, case, maildir):
    late = datetime(2025, 2, 11, 8, 0, tzinfo=JST)
    run(case, maildir(jp_mail("締切の翌朝に送った意見です。", at=late),
                      jp_mail(headers={"Auto-Submitted": "auto-replied"}, message_id="<auto@x>")))
    Case.objects.filter(pk=case.pk).update(state=Case.State.TALLYING)
    held = Entry.objects.get(hold_code="period")
    page = clerk.get(f"/staff/consultations/{case.slug}/channels/{held.pk}/").content.decode()
    assert "期間外ですが受け付ける" in page and "締切の翌朝に送った意見です。" in page
    data = {"channel": "email", "received_at": "2025-02-11T08:00", "text": "締切の翌朝に送った意見です。",
            "email": "hanako@example.ne.jp", "name": "山田 花子"}
    refused = clerk.post(f"/staff/consultations/{case.slug}/channels/{held.pk}/", data)
    assert refused.status_code == 400 and "募集期間" in refused.content.decode()
    response = clerk.post(f"/staff/consultations/{case.slug}/channels/{held.pk}/",
                          {**data, "accept_late": "on", "note": "課長了承（メールサーバーの遅延）"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.state == State.CONFIRMED and held.submission.channel == Channel.EMAIL
    assert held.decision_note == "課長了承（メールサーバーの遅延）"
    robot = Entry.objects.get(hold_code="automatic")
    empty = clerk.post(f"/staff/consultations/{case.slug}/channels/{robot.pk}/reject/", {"reject-reason": ""})
    assert empty.status_code == 302
    robot.refresh_from_db()
    assert robot.state == State.REVIEW
    clerk.post(f"/staff/consultations/{case.slug}/channels/{robot.pk}/reject/", {"reject-reason": "自動返信"})
    robot.refresh_from_db()
    assert robot.state == State.REJECTED and robot.decision_note == "自動返信"
    assert robot.originals.filter(kind=Original.Kind.MESSAGE).exists()
    assert AuditEntry.objects.filter(action="consultations_intake.entry_reject").count() == 1


def test_the_queue_shows_every_channel_and_counts_by_day(clerk, case, maildir, submit, time_machine):
    submit(case, "ウェブの意見です。")
    time_machine.move_to(datetime(2025, 2, 14, 10, 0, tzinfo=JST))
    run(case, maildir(jp_mail(), jp_mail(at=datetime(2025, 1, 21, 9, 0, tzinfo=JST)),
                      jp_mail(text="")))
    html = clerk.get(f"/staff/consultations/{case.slug}/channels/").content.decode()
    assert "提出方法別・日別の件数" in html and '<svg class="chart"' in html
    assert '<th scope="row">2025-01-10</th><td>0</td><td>1</td>' in html  # 電子メール, ウェブフォーム
    assert '<th scope="row">2025-01-20</th><td>2</td><td>0</td>' in html
    assert html.count("自動取込") >= 2 and "要確認" in html and "本文も添付ファイルもない" in html
    only_held = clerk.get(f"/staff/consultations/{case.slug}/channels/?state=review").content.decode()
    assert "2025-DX-0002" not in only_held
    eml = Original.objects.filter(kind=Original.Kind.MESSAGE).first()
    download = clerk.get(f"/staff/consultations/{case.slug}/channels/originals/{eml.pk}/")
    assert download["Content-Disposition"].startswith("attachment") and b"".join(download.streaming_content)


def test_other_departments_do_not_see_the_queue(client, make_staff, case):
    client.force_login(make_staff(email="care@example.jp", department="care", role=Role.HANDLE).user)
    assert client.get(f"/staff/consultations/{case.slug}/channels/").status_code == 404


def test_the_queue_is_paginated_and_keeps_its_filter_across_pages(clerk, case, maildir, monkeypatch):
    from hiroba.consultations.intake import staff_views

    monkeypatch.setattr(staff_views, "PAGE", 2)
    run(case, maildir(jp_mail(text="一通目の意見です。"), jp_mail(text="二通目の意見です。"),
                      jp_mail(text="三通目の意見です。")))
    url = f"/staff/consultations/{case.slug}/channels/"
    first = clerk.get(url + "?channel=email").content.decode()
    assert 'class="pagination"' in first and "?channel=email&amp;page=2" in first
    assert first.count("intake-state--") == 2
    second = clerk.get(url + "?channel=email&page=2").content.decode()
    assert second.count("intake-state--") == 1 and 'aria-current="page"' in second
