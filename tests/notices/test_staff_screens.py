"""Staff screens: notice types and versioned templates, the preview of any row of a batch, and
the recipient list's import preview (nothing written before 反映する)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hiroba.accounts.models import Role
from hiroba.core import paging
from hiroba.core.actors import Actor
from hiroba.core.models import AuditEntry
from hiroba.notices import audit_actions, batches
from hiroba.notices.models import Batch, NoticeTemplate, NoticeType, PrintRun, Recipient, RecipientUpload

from .conftest import HEADER, batch_csv, make_recipients

pytestmark = pytest.mark.django_db


def test_an_approver_creates_a_type_a_clerk_may_not(client, make_staff, departments, approver, clerk):
    client.force_login(clerk)
    assert client.get("/staff/notices/types/new/").status_code == 403
    client.force_login(approver)
    page = client.get("/staff/notices/types/new/")
    assert page.status_code == 200 and "高齢介護課" in page.content.decode()
    assert "デジタル政策課" not in page.content.decode()  # only departments where they hold 承認
    response = client.post("/staff/notices/types/new/", {
        "slug": "jido-teate", "name": "児童手当のお知らせ", "department": departments["care"].pk,
        "needs_acknowledgement": "on", "retention_days": 365, "mail_retention_days": 7, "deadline_wording": ""})
    assert response.status_code == 302 and response["Location"] == "/staff/notices/types/jido-teate/"
    kind = NoticeType.objects.get(slug="jido-teate")
    assert (kind.reminder_days, kind.fallback_days) == (3, 7) and kind.consent_text
    assert AuditEntry.objects.filter(action=audit_actions.TYPE_CREATE, object_id=str(kind.pk)).exists()
    again = client.post("/staff/notices/types/new/", {
        "slug": "jido-teate", "name": "x", "department": departments["care"].pk, "retention_days": 365,
        "mail_retention_days": 7})
    assert again.status_code == 400 and "使われています" in again.content.decode()
    outside = client.post("/staff/notices/types/new/", {
        "slug": "other", "name": "x", "department": departments["digital"].pk, "retention_days": 365,
        "mail_retention_days": 7})
    assert outside.status_code == 400 and not NoticeType.objects.filter(slug="other").exists()


def test_template_versions_from_the_type_page_and_preview(client, notice_type, clerk, approver):
    client.force_login(clerk)
    page = client.get(f"/staff/notices/types/{notice_type.slug}/").content.decode()
    assert "［保険料］" in page and "年度、保険料、納期限" in page
    people = make_recipients(2)
    batch = batches.batch_create(actor=Actor.staff(clerk), check=batches.batch_check(notice_type=notice_type,
                                                                                  raw=batch_csv(people)))
    bad = client.post(f"/staff/notices/types/{notice_type.slug}/", {"title": "表題", "body": "{{ 保険料 円"})
    assert bad.status_code == 400 and "括弧が閉じていません" in bad.content.decode()
    response = client.post(f"/staff/notices/types/{notice_type.slug}/", {
        "title": "{{ 年度 }}年度 介護保険料のお知らせ", "body": "{{ 氏名 }} 様\n\n保険料は {{ 保険料 }} 円です。"})
    assert response.status_code == 302
    assert list(NoticeTemplate.objects.filter(notice_type=notice_type).values_list("version", flat=True)) == [2, 1]
    # a batch made from version 1 must be remade: approval is refused
    client.force_login(approver)
    client.post(f"/staff/notices/batches/{batch.pk}/approve/")
    batch.refresh_from_db()
    assert batch.approved_by is None


def test_a_viewer_of_another_department_cannot_see_or_change_the_type(client, make_staff, notice_type):
    other = make_staff(email="other@example.jp", department="digital", role=Role.APPROVE)
    client.force_login(other.user)
    assert client.get(f"/staff/notices/types/{notice_type.slug}/").status_code == 404
    assert client.post(f"/staff/notices/types/{notice_type.slug}/", {"title": "t", "body": "b"}).status_code == 404


def test_preview_any_row_of_a_batch(client, notice_type, clerk):
    people = make_recipients(3)
    batch = batches.batch_create(actor=Actor.staff(clerk), check=batches.batch_check(notice_type=notice_type,
                                                                                  raw=batch_csv(people)))
    client.force_login(clerk)
    page = client.get(f"/staff/notices/batches/{batch.pk}/?row=4").content.decode()
    assert "区民 3" in page and "48002" in page  # the file's 4th line is the third person
    missing = client.get(f"/staff/notices/batches/{batch.pk}/?row=99").content.decode()
    assert "その行番号の書面はこのバッチにありません" in missing


def test_recipient_import_preview_then_apply_or_discard(client, clerk, notice_type):
    Recipient.objects.create(atena_number="0000000002", name="神田 太郎", postal_code="102-8688",
                             address="東京都千代田区神田1-1", birth_date="1975-12-31")
    text = HEADER + ("0000000001,千代田 花子,1028688,東京都千代田区九段南1-2-1,1980/4/1,hanako@example.jp\n"
                     "0000000002,神田 太郎,102-8688,東京都千代田区神田2-2,1975-12-31,\n"
                     "0000000003,日付 悪子,102-8688,東京都千代田区,昭和50年,\n")
    client.force_login(clerk)
    response = client.post("/staff/notices/recipients/import/", {
        "file": SimpleUploadedFile("atena.csv", text.encode("cp932"))})
    assert response.status_code == 302
    upload = RecipientUpload.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "新規 1 件" in page and "更新 1 件" in page and "取り込めない行 1 件" in page
    assert "4行目" in page and "昭和50年" in page and "千代田 花子" in page and "住所" in page
    assert Recipient.objects.count() == 1  # nothing written yet
    client.post(response["Location"], {"apply": "1"})
    upload.refresh_from_db()
    assert upload.state == RecipientUpload.State.APPLIED and bytes(upload.content) == b""
    assert upload.summary == {"created": 1, "updated": 1, "unchanged": 0, "refused": 1}
    assert Recipient.objects.get(atena_number="0000000002").address == "東京都千代田区神田2-2"
    assert AuditEntry.objects.filter(action=audit_actions.RECIPIENTS_IMPORT).count() == 1
    client.post(response["Location"], {"apply": "1"})  # applying twice: refused, nothing more
    assert AuditEntry.objects.filter(action=audit_actions.RECIPIENTS_IMPORT).count() == 1
    second = client.post("/staff/notices/recipients/import/", {
        "file": SimpleUploadedFile("atena2.csv", (HEADER + "0000000009,新人,1028688,東京都千代田区,1990-1-1,\n")
                                   .encode("utf-8"))})
    client.post(second["Location"], {"discard": "1"})
    assert not Recipient.objects.filter(atena_number="0000000009").exists()
    assert RecipientUpload.objects.get(pk=int(second["Location"].rstrip("/").rsplit("/", 1)[-1])).state == "discarded"
    broken = client.post("/staff/notices/recipients/import/", {
        "file": SimpleUploadedFile("x.csv", "氏名\n花子\n".encode())})
    assert broken.status_code == 400 and "見出しに次の列がありません" in broken.content.decode()


def test_recipient_import_needs_a_notice_role(client, make_staff, notice_type):
    nobody = make_staff(email="n@example.jp", department=None)
    client.force_login(nobody.user)
    assert client.get("/staff/notices/recipients/import/").status_code == 403


def test_the_home_pages_the_batches_and_the_runs_have_their_own_paged_list(client, notice_type, clerk, monkeypatch):
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    template = NoticeTemplate.objects.filter(notice_type=notice_type).first()
    for i in range(3):
        Batch.objects.create(notice_type=notice_type, template=template, file_sha256=f"{i:064d}", row_count=100 + i)
        PrintRun.objects.create(letter_count=200 + i)
    client.force_login(clerk)
    first = client.get("/staff/notices/").content.decode()
    assert first.count("/staff/notices/batches/") - first.count("/staff/notices/batches/new/") == 2
    assert 'class="pagination"' in first and "?page=2" in first and "全 3 件" in first
    second = client.get("/staff/notices/?page=2").content.decode()
    assert second.count("/staff/notices/batches/") - second.count("/staff/notices/batches/new/") == 1
    first = client.get("/staff/notices/runs/").content.decode()
    assert first.count("/print.pdf") == 2 and 'class="pagination"' in first and "?page=2" in first and "全 3 件" in first
    assert client.get("/staff/notices/runs/?page=2").content.decode().count("/print.pdf") == 1


def test_the_run_list_needs_the_print_role(client, make_staff, notice_type):
    client.force_login(make_staff(email="reader@example.jp", department="care", role=Role.READ).user)
    assert client.get("/staff/notices/runs/").status_code == 403
