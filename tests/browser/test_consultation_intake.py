"""The side-by-side confirmation of a scanned letter in Chromium, checked with axe: the scan on one
side, the recognised text with its low-confidence words marked and the form on the other; the
clerk corrects the text, types the postmark and confirms; the queue then shows it 確定."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hiroba.accounts.models import Role
from hiroba.consultations import services
from hiroba.consultations.intake import ocr, scans
from hiroba.consultations.intake.models import Entry, State
from hiroba.consultations.models import Case, Channel
from tests.browser.conftest import assert_accessible
from tests.browser.test_consultations import sign_in
from tests.consultations.intake.conftest import render_letter

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(bool(ocr.available()), reason=f"OCR not available: {ocr.available()}"),
]


def test_staff_confirm_a_scanned_letter_side_by_side(page, departments, make_staff):
    today = timezone.localdate()
    case = services.case_create(
        actor="test", slug="dx-paper", title="千代田区DX戦略（素案）", department=departments["digital"],
        period_start=today - timedelta(days=5), period_end=today + timedelta(days=30),
        channels=[Channel.POST, Channel.HAND, Channel.WEB], receipt_code="DX",
        submit_address="〒102-8688 千代田区九段南1-2-1 千代田区役所 デジタル政策課",
        hand_in_place="区役所4階 デジタル政策課窓口", hand_in_hours="平日 8時30分～17時15分",
    )
    services.section_add(actor="test", case=case, number="1", heading="全体", body="全体の本文です。")
    services.case_transition(actor="test", case=case, to=Case.State.OPEN)
    scans.queue_file(case, "letter.png", render_letter("図書館の開館時間を延ばしてください。\n郵送 花子"))
    entry = Entry.objects.get()
    sign_in(page, make_staff(email="paper@example.jp", role=Role.HANDLE))
    page.goto(f"/staff/consultations/{case.slug}/channels/{entry.pk}/")
    assert page.locator(".intake-compare img").count() == 1
    assert "図書館" in page.locator("#ocr-text").inner_text()
    assert_accessible(page)
    page.locator("#id_postmark_date").fill(str(today - timedelta(days=1)))
    page.locator("#id_name").fill("郵送 花子")
    page.locator("#id_text").fill("図書館の開館時間を延ばしてください。")
    page.get_by_role("button", name="確定して受け付ける").click()
    page.wait_for_url(f"**/staff/consultations/{case.slug}/channels/")
    entry.refresh_from_db()
    assert entry.state == State.CONFIRMED and entry.submission.text == "図書館の開館時間を延ばしてください。"
    assert entry.submission.receipt_number in page.content()
    assert_accessible(page)
