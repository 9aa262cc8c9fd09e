"""Barcode separator sheets: a batch scanned in one go is split where staff put the sheet hiroba
prints; the sheet is no part of any letter, and a letter that carries another barcode stays whole."""

from __future__ import annotations

import io
import shutil

import pytest
import zxingcpp
from PIL import Image

from hiroba.accounts.models import Role
from hiroba.consultations.intake import ocr, scans, separators
from hiroba.consultations.intake.models import Entry
from tests.consultations.intake.conftest import render_letter

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) is not installed"),
]

LETTERS = [
    "千代田区DX戦略（素案）への意見\n高齢者向けの窓口支援を拡充してください。",
    "二枚目です。\n図書館の開館時間を延ばしてほしいです。\n郵送 太郎",
    "区役所の手続きをオンラインで完結できるようにしてほしいです。",
    "公園の防災設備を点検してください。\n区民 花子",
]


def printed_sheet() -> Image.Image:
    """The separator sheet as staff print it from hiroba, as the scanner sees it."""
    (page,) = ocr.load_pages("separator.pdf", separators.sheet_pdf())
    return page.image


def with_barcode(png: bytes, text: str, barcode_format: zxingcpp.BarcodeFormat, *, at: tuple[int, int] = (220, 2600),
                 scale: int = 6) -> Image.Image:
    """A letter page with a barcode printed on it (a postal code, a form number…)."""
    page = Image.open(io.BytesIO(png)).convert("L")
    page.paste(separators.barcode_image(text, barcode_format, scale), at)
    return page


def pdf(*pages: Image.Image | bytes) -> bytes:
    images = [p if isinstance(p, Image.Image) else Image.open(io.BytesIO(p)).convert("L") for p in pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=300)
    return out.getvalue()


def test_the_printed_sheet_is_a_separator_page():
    pages = ocr.load_pages("separator.pdf", separators.sheet_pdf())
    assert [(p.blank, p.separator) for p in pages] == [(False, True)]


def test_a_batch_is_split_on_separator_sheets_which_are_dropped():
    sheet = printed_sheet()
    batch = pdf(render_letter(LETTERS[0]), render_letter(LETTERS[1]), sheet, render_letter(LETTERS[2]), sheet,
                render_letter(LETTERS[3]))
    pages = ocr.load_pages("batch.pdf", batch)
    assert [p.separator for p in pages] == [False, False, True, False, True, False]
    assert ocr.split_letters(pages) == [(1, 2), (4, 4), (6, 6)]


def test_an_unrelated_barcode_does_not_split_a_letter():
    # a postal customer code and a QR code with the ward's address, printed on the letters themselves
    postal = with_barcode(render_letter(LETTERS[0]), "1028688-1-2-1", zxingcpp.BarcodeFormat.Code128)
    qr = with_barcode(render_letter(LETTERS[1]), "https://www.city.example.jp/", zxingcpp.BarcodeFormat.QRCode)
    pages = ocr.load_pages("batch.pdf", pdf(postal, qr, printed_sheet(), render_letter(LETTERS[2])))
    assert [p.separator for p in pages] == [False, False, True, False]
    assert ocr.split_letters(pages) == [(1, 2), (4, 4)]
    assert zxingcpp.read_barcodes(pages[0].image)[0].text == "1028688-1-2-1"  # the barcode was there to be read


def test_the_payloads_are_a_setting(settings):
    patch_t = with_barcode(render_letter("区切り"), "PATCHT", zxingcpp.BarcodeFormat.Code39, at=(300, 1200))
    content = pdf(render_letter(LETTERS[0]), patch_t, render_letter(LETTERS[2]))
    assert ocr.split_letters(ocr.load_pages("batch.pdf", content)) == [(1, 3)]  # not ours by default
    settings.CONSULTATIONS_INTAKE_SEPARATOR_BARCODE = ["HIROBA-SEP", "patcht"]  # another capture program's sheets
    assert ocr.split_letters(ocr.load_pages("batch.pdf", content)) == [(1, 1), (3, 3)]
    settings.CONSULTATIONS_INTAKE_SEPARATOR_BARCODE = ""
    assert [p.separator for p in ocr.load_pages("separator.pdf", separators.sheet_pdf())] == [False]


@pytest.mark.skipif(bool(ocr.available()), reason=f"OCR not available: {ocr.available()}")
def test_the_letters_of_a_separated_batch_are_queued_without_the_sheets(case):
    sheet = printed_sheet()
    content = pdf(render_letter(LETTERS[0]), render_letter(LETTERS[1]), sheet, render_letter(LETTERS[2]))
    batch = scans.queue_file(case, "batch.pdf", content)
    assert batch.letters == 2 and len(batch.queued) == 2 and not batch.held
    first, second = Entry.objects.order_by("pages")
    assert (first.pages, second.pages) == ("1-2", "4")
    assert ocr.character_accuracy(LETTERS[0] + LETTERS[1], first.ocr_text) >= 0.95, first.ocr_text
    assert ocr.character_accuracy(LETTERS[2], second.ocr_text) >= 0.95, second.ocr_text
    assert "HIROBA" not in first.ocr_text + second.ocr_text
    assert [o.name for o in first.originals.filter(kind="page").order_by("name")] == ["page-1.png", "page-2.png"]
    again = scans.queue_file(case, "batch.pdf", content)
    assert (again.letters, len(again.queued), again.duplicate) == (2, 0, 2)


def test_staff_print_the_sheet_from_the_upload_page(client, make_staff, case):
    client.force_login(make_staff(email="intake@example.jp", role=Role.HANDLE).user)
    page = client.get(f"/staff/consultations/{case.slug}/channels/scans/").content.decode()
    assert f"/staff/consultations/{case.slug}/channels/scans/separator-sheet.pdf" in page
    response = client.get(f"/staff/consultations/{case.slug}/channels/scans/separator-sheet.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert [p.separator for p in ocr.load_pages("sheet.pdf", response.content)] == [True]


def test_the_command_writes_the_sheet(tmp_path):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("consultation", "separator-sheet", "--out", str(tmp_path / "sheet.pdf"), stdout=out)
    assert out.getvalue().strip() == str(tmp_path / "sheet.pdf")
    assert [p.separator for p in ocr.load_pages("sheet.pdf", (tmp_path / "sheet.pdf").read_bytes())] == [True]
