"""The staff back office: intake on paper, itemising, answers, routing, approval, masks, publishing,
and who may see or change what."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hiroba.accounts.models import Role
from hiroba.consultations.models import Case, Item, Mask, Routing, Submission
from hiroba.core import paging
from hiroba.core.models import AuditEntry
from tests.consultations.conftest import DURING

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def signed_in(client, make_staff):
    def sign_in(email="h@example.jp", department="digital", role=Role.HANDLE):
        client.force_login(make_staff(email=email, department=department, role=role).user)
        return client
    return sign_in


def intake(client, case, **extra):
    data = {"channel": "post", "received_at": "2025-01-10T09:00", "postmark_date": "2025-01-09",
            "name": "郵送 次郎", "address": "", "category": "", "text": "紙で届いた意見です。\n二つ目の意見。",
            "idempotency_key": uuid.uuid4().hex,
            "attachment": SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf"), **extra}
    return client.post(f"/staff/consultations/{case.slug}/intake/", data)


def test_the_case_list_shows_my_departments_cases_in_few_queries(signed_in, make_case):
    client = signed_in()
    for i in range(5):
        make_case(slug=f"c{i}")
    make_case(slug="care-case", department="care")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/staff/consultations/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('/staff/consultations/c') == 5 and "care-case" not in html
    assert len(ctx.captured_queries) <= 20


def test_other_departments_cases_are_404_and_read_role_cannot_change(signed_in, make_case, time_machine):
    time_machine.move_to(DURING)
    care_case = make_case(slug="care-case", department="care")
    client = signed_in()
    assert client.get(f"/staff/consultations/{care_case.slug}/").status_code == 404
    mine = make_case(slug="mine")
    reader = signed_in(email="r@example.jp", role=Role.READ)
    assert reader.get(f"/staff/consultations/{mine.slug}/").status_code == 200
    assert intake(reader, mine).status_code == 403
    assert Submission.objects.count() == 0


def test_paper_intake_uses_the_same_numbers_and_checks(signed_in, case, time_machine, submit):
    submit(case)  # a web submission takes 0001
    client = signed_in()
    time_machine.move_to(DURING)
    response = intake(client, case)
    assert response.status_code == 302, response.content.decode()[-3000:]
    letter = Submission.objects.get(channel="post")
    assert letter.receipt_number == "2025-DX-0002" and letter.postmark_date == date(2025, 1, 9)
    assert letter.original_file.read() == PDF and letter.entered_by is not None
    no_scan = intake(client, case, attachment="")
    assert no_scan.status_code == 400 and "原本のスキャン" in no_scan.content.decode()
    exe = intake(client, case, attachment=SimpleUploadedFile("scan.pdf", b"MZ" + b"\0" * 50))
    assert exe.status_code == 400
    empty = intake(client, case, text="　　")
    assert empty.status_code == 400
    assert Submission.objects.count() == 2


def test_a_clerk_itemises_answers_routes_and_an_approver_publishes(signed_in, case, time_machine, submit,
                                                                    departments, client, make_staff, standard_answer):
    time_machine.move_to(DURING)
    submission = submit(case, text="一つ目の意見。二つ目の意見。")
    clerk = signed_in()
    section = case.sections.get(heading="全体")
    base = f"/staff/consultations/{case.slug}"
    r = clerk.post(f"{base}/submissions/{submission.receipt_number}/",
                   {"span_start": 0, "span_end": 7, "sections": [section.pk]})
    assert r.status_code == 302
    r = clerk.post(f"{base}/submissions/{submission.receipt_number}/", {"text": "二つ目（要約）", "sections": [section.pk]})
    assert r.status_code == 302
    page = clerk.get(f"{base}/submissions/{submission.receipt_number}/")
    assert "一つ目の意見。二つ目の意見。" in page.content.decode()  # the original beside the items
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    standard = standard_answer
    inserted = clerk.post(f"{base}/items/1/", {"action": "insert_standard", "standard": standard.pk, "text": ""})
    assert inserted.status_code == 200 and standard.text in inserted.content.decode()
    item2 = Item.objects.get(case=case, number=2)
    r = clerk.post(f"{base}/items/1/", {"action": "save_answer", "text": standard.text, "also_items": [item2.pk]})
    assert r.status_code == 302
    assert Item.objects.get(number=1, case=case).answer_id == Item.objects.get(number=2, case=case).answer_id
    r = clerk.post(f"{base}/items/1/", {"action": "route", "department": departments["care"].pk,
                                         "due_date": "2025-02-20", "note": "介護の部分をご確認ください"})
    assert r.status_code == 302
    care = make_staff(email="care@example.jp", department="care", role=Role.HANDLE).user
    client.force_login(care)
    queue = client.get("/staff/consultations/routing/")
    assert "介護の部分をご確認ください" in queue.content.decode()
    routing = Routing.objects.get()
    assert client.post(f"/staff/consultations/routing/{routing.pk}/", {"response": "了解しました"}).status_code == 302
    assert Routing.objects.get().state == Routing.State.DONE
    clerk = signed_in(email="h2@example.jp")
    assert clerk.post(f"{base}/approval/", {"action": "request", "confirmed": "yes"}).status_code == 302
    assert clerk.post(f"{base}/approval/", {"action": "decide", "decision": "approve"}).status_code == 403
    approver = signed_in(email="a@example.jp", role=Role.APPROVE)
    assert approver.post(f"{base}/approval/", {"action": "decide", "decision": "approve"}).status_code == 302
    locked = approver.post(f"{base}/items/1/", {"action": "save_answer", "text": "変更"})
    assert locked.status_code == 409
    assert approver.post(f"{base}/publish/", {"confirmed": "yes"}).status_code == 302
    assert Case.objects.get(pk=case.pk).state == Case.State.PUBLISHED
    results = client.get(f"/consultations/{case.slug}/results/")
    assert results.status_code == 200 and "提出者数</dt><dd>1名" in results.content.decode()
    assert client.get(f"/consultations/{case.slug}/results.csv").content.startswith(b"\xef\xbb\xbf")
    assert AuditEntry.objects.filter(action="consultations.case_publish").exists()


def test_masks_are_reviewed_and_added_by_staff(signed_in, case, submit):
    submission = submit(case, text="区立昌平小学校の件。電話は03-1234-5678です。")
    from hiroba.consultations import services
    item = services.item_create(actor="test", submission=submission, text=submission.text)
    client = signed_in()
    page = client.get(f"/staff/consultations/{case.slug}/masks/")
    assert "学校・施設名" in page.content.decode() and "電話番号" in page.content.decode()
    school = item.masks.get(kind="school")
    assert client.post(f"/staff/consultations/{case.slug}/masks/",
                       {"mask": school.pk, "decision": "keep"}).status_code == 302
    assert Mask.objects.get(pk=school.pk).decision == Mask.Decision.KEEP
    assert client.post(f"/staff/consultations/{case.slug}/masks/",
                       {"action": "add", "item": item.pk, "phrase": "の件"}).status_code == 302
    assert "の件" not in services.masked_text(Item.objects.get(pk=item.pk))


def test_the_case_list_is_paginated(signed_in, make_case, monkeypatch):
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    client = signed_in()
    for i in range(3):
        make_case(slug=f"c{i}")
    first = client.get("/staff/consultations/").content.decode()
    assert first.count("/staff/consultations/c") == 2 and 'class="pagination"' in first and "?page=2" in first
    second = client.get("/staff/consultations/?page=2").content.decode()
    assert second.count("/staff/consultations/c") == 1


def test_the_routing_queue_is_paginated(signed_in, case, submit, departments, monkeypatch):
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    submission = submit(case, text="三つの意見。")
    for n in range(1, 4):
        item = Item.objects.create(case=case, submission=submission, number=n, text=f"意見{n}")
        Routing.objects.create(item=item, department=departments["care"], due_date=date(2025, 2, 20))
    client = signed_in(email="care@example.jp", department="care")
    first = client.get("/staff/consultations/routing/").content.decode()
    assert first.count('aria-labelledby="routing-') == 2 and 'class="pagination"' in first and "?page=2" in first
    second = client.get("/staff/consultations/routing/?page=2").content.decode()
    assert second.count('aria-labelledby="routing-') == 1
