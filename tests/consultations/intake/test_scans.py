"""Scanned paper: a batch rendered in Japanese print goes through tesseract, waits on the
side-by-side screen, and becomes a submission only when staff confirm it; the scan stays."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from hiroba.accounts.models import Role
from hiroba.consultations.intake import ocr, scans
from hiroba.consultations.intake.models import Entry, Original, State
from hiroba.consultations.models import Case, Channel, Submission
from hiroba.core.models import AuditEntry
from tests.consultations.conftest import JST
from tests.consultations.intake.conftest import pdf_of, render_letter

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(bool(ocr.available()), reason=f"OCR not available: {ocr.available()}"),
]

LETTERS = [
    "千代田区DX戦略（素案）への意見\n高齢者向けの窓口支援を拡充してください。\n郵送 太郎",
    "区役所の手続きをオンラインで完結できるようにしてほしいです。\n子育て中の世帯には特に必要です。",
]


accuracy = ocr.character_accuracy


def test_a_batch_is_split_on_blank_pages_and_read(case):
    pdf = pdf_of(*[render_letter(t) for t in LETTERS], blank_after={1})
    out = io.StringIO()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.pdf"
        path.write_bytes(pdf)
        call_command("consultation", "ocr", case.slug, str(path), stdout=out)
        assert out.getvalue().splitlines()[0] == "letters 2"
        out2 = io.StringIO()
        call_command("consultation", "ocr", case.slug, str(path), stdout=out2)  # queued twice: nothing new
        assert out2.getvalue().splitlines() == ["letters 2", "queued 0, duplicate 2, held 0"]
    entries = list(Entry.objects.order_by("pages"))
    assert [e.pages for e in entries] == ["1", "3"] and all(e.state == State.REVIEW for e in entries)
    assert not Submission.objects.exists()  # nothing counts until staff confirm
    for entry, text in zip(entries, LETTERS, strict=True):
        assert accuracy(text, entry.ocr_text) >= 0.95, entry.ocr_text
        assert entry.ocr_words and entry.ocr_confidence > 50
    scan = Original.objects.get(kind=Original.Kind.SCAN)  # stored once, linked to both letters
    assert scan.file.read() == pdf and set(scan.entries.all()) == set(entries)


def test_an_unreadable_scan_is_held(case):
    batch = scans.queue_file(case, "letter.png", b"\x89PNG not really")
    assert batch.letters == 0 and len(batch.held) == 1
    entry = Entry.objects.get()
    assert entry.hold_code == "ocr" and "画像として読めませんでした" in entry.hold_reason
    assert entry.originals.get().kind == Original.Kind.SCAN


@pytest.fixture
def clerk(client, make_staff, time_machine):
    time_machine.move_to(datetime(2025, 2, 14, 10, 0, tzinfo=JST))
    client.force_login(make_staff(email="intake@example.jp", role=Role.HANDLE).user)
    return client


def test_staff_confirm_a_letter_beside_its_scan(clerk, case):
    Case.objects.filter(pk=case.pk).update(state=Case.State.TALLYING)
    upload = SimpleUploadedFile("letter.png", render_letter(LETTERS[0]), content_type="image/png")
    response = clerk.post(f"/staff/consultations/{case.slug}/channels/scans/", {"channel": "post", "files": [upload]})
    assert response.status_code == 302
    entry = Entry.objects.get()
    page = clerk.get(f"/staff/consultations/{case.slug}/channels/{entry.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and 'class="intake-compare"' in html and "<img src=" in html
    assert "読み取った文字（OCR）" in html and "確定して受け付ける" in html
    image = entry.originals.get(kind=Original.Kind.PAGE)
    shown = clerk.get(f"/staff/consultations/{case.slug}/channels/originals/{image.pk}/")
    assert shown["Content-Type"] == "image/png" and shown["X-Content-Type-Options"] == "nosniff"
    corrected = "千代田区DX戦略（素案）への意見\n高齢者向けの窓口支援を拡充してください。"
    response = clerk.post(f"/staff/consultations/{case.slug}/channels/{entry.pk}/", {
        "channel": "post", "received_at": "2025-02-13T09:00", "postmark_date": "2025-02-10", "name": "郵送 太郎",
        "address": "千代田区九段南1-2-1", "category": "resident", "email": "", "phone": "", "section": "",
        "text": corrected, "note": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry.refresh_from_db()
    submission = entry.submission
    assert entry.state == State.CONFIRMED and entry.decided_by.email == "intake@example.jp"
    assert submission.channel == Channel.POST and submission.text == corrected
    assert submission.receipt_number == "2025-DX-0001" and submission.entered_by.email == "intake@example.jp"
    assert entry.ocr_text and entry.ocr_text != corrected  # the OCR text is kept beside the confirmed one
    assert AuditEntry.objects.filter(action="consultations_intake.entry_confirm").count() == 1
    # confirming twice (a double click) makes nothing more
    again = clerk.post(f"/staff/consultations/{case.slug}/channels/{entry.pk}/", {
        "channel": "post", "received_at": "2025-02-13T09:00", "postmark_date": "2025-02-10", "text": corrected})
    assert again.status_code in (200, 400) and Submission.objects.count() == 1


def test_a_late_postmark_is_refused_on_the_confirmation_screen(clerk, case):
    Case.objects.filter(pk=case.pk).update(state=Case.State.TALLYING)
    scans.queue_file(case, "letter.png", render_letter(LETTERS[1]))
    entry = Entry.objects.get()
    response = clerk.post(f"/staff/consultations/{case.slug}/channels/{entry.pk}/", {
        "channel": "post", "received_at": "2025-02-13T09:00", "postmark_date": "2025-02-11", "text": LETTERS[1]})
    assert response.status_code == 400
    assert "消印日（令和7年2月11日 (2025年2月11日)）が募集期間" in response.content.decode()
    entry.refresh_from_db()
    assert entry.state == State.REVIEW and not Submission.objects.exists()


def test_a_reader_may_look_but_not_confirm(client, make_staff, case):
    client.force_login(make_staff(email="reader@example.jp", role=Role.READ).user)
    scans.queue_file(case, "letter.png", render_letter(LETTERS[1]))
    entry = Entry.objects.get()
    assert client.get(f"/staff/consultations/{case.slug}/channels/{entry.pk}/").status_code == 200
    assert client.post(f"/staff/consultations/{case.slug}/channels/{entry.pk}/", {"text": "x"}).status_code == 403
    assert client.post(f"/staff/consultations/{case.slug}/channels/{entry.pk}/reject/",
                       {"reject-reason": "x"}).status_code == 403


def test_a_folder_of_images_is_one_letter_per_file(case, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    for i, text in enumerate(LETTERS):
        (folder / f"{i:03d}.png").write_bytes(render_letter(text))
    out = io.StringIO()
    call_command("consultation", "ocr", case.slug, str(folder), "--channel", "hand", stdout=out)
    assert out.getvalue().splitlines() == ["letters 2", "queued 2, duplicate 0, held 0"]
    assert set(Entry.objects.values_list("channel", flat=True)) == {Channel.HAND}
