"""Barcode separator sheets between the letters of a scanned batch (ADR 0016).

Staff put a printed separator sheet — a page with a barcode whose payload is one of
``CONSULTATIONS_INTAKE_SEPARATOR_BARCODE`` (default ``HIROBA-SEP``) — between letters before
scanning them in one go; such a page splits the batch and is dropped from the letters. Any other
barcode on a page (a postal customer code, a QR code with the ward's address, a form's own number)
is part of a letter. Barcodes are read and written by zxing-cpp (Code 128, Code 39, QR code).
"""

from __future__ import annotations

import io
from pathlib import Path

import zxingcpp
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from hiroba.consultations.intake import conf

FORMATS = zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.Code39,
                                    zxingcpp.BarcodeFormat.QRCode])
A4_300_DPI = (2480, 3508)
FONT = Path(__file__).resolve().parents[2] / "core" / "static" / "fonts" / "NotoSansJP-Regular.woff2"


def configured() -> list[str]:
    """The separator payloads configured (the setting is a string, or a list of them)."""
    value = conf.get("CONSULTATIONS_INTAKE_SEPARATOR_BARCODE")
    values = [value] if isinstance(value, str) else list(value or [])
    return [str(v).strip() for v in values if str(v).strip()]


def payloads() -> set[str]:
    """The configured payloads as compared (without case)."""
    return {v.upper() for v in configured()}


def is_separator(image: Image.Image, *, accepted: set[str] | None = None) -> bool:
    """Whether a page carries a separator barcode (an unrelated barcode does not count)."""
    accepted = payloads() if accepted is None else accepted
    if not accepted:
        return False
    found = zxingcpp.read_barcodes(image, formats=FORMATS)
    return any(code.valid and code.text.strip().upper() in accepted for code in found)


def barcode_image(text: str, barcode_format: zxingcpp.BarcodeFormat, scale: int) -> Image.Image:
    """A barcode drawn black on white, `scale` pixels a module, with its quiet zone."""
    return Image.fromarray(zxingcpp.create_barcode(text, barcode_format).to_image(scale=scale)).convert("L")


def sheet_pdf() -> bytes:
    """An A4 separator sheet (PDF at 300 dpi): the Code 128 and QR barcode of the first
    configured payload, with what the sheet is for."""
    payload = (configured() or [conf.DEFAULTS["CONSULTATIONS_INTAKE_SEPARATOR_BARCODE"]])[0]
    page = Image.new("L", A4_300_DPI, 255)
    draw = ImageDraw.Draw(page)
    title, body = ImageFont.truetype(str(FONT), 90), ImageFont.truetype(str(FONT), 48)
    draw.text((A4_300_DPI[0] // 2, 320), _("区切りシート（意見書の区切り）"), font=title, fill=0, anchor="mm")
    for k, line in enumerate([_("スキャンするとき、意見書と意見書の間にこの紙を1枚はさんでください。"),
                              _("この紙の前と後は別の意見書として読み取られ、この紙は取り込まれません。"),
                              _("コピーしても使えます。汚れや折れのないものを使ってください。")]):
        draw.text((A4_300_DPI[0] // 2, 560 + k * 90), line, font=body, fill=0, anchor="mm")
    linear = barcode_image(payload, zxingcpp.BarcodeFormat.Code128, 8)
    linear = linear.resize((linear.width, 600), Image.Resampling.NEAREST)
    page.paste(linear, ((A4_300_DPI[0] - linear.width) // 2, 1050))
    draw.text((A4_300_DPI[0] // 2, 1050 + linear.height + 70), payload, font=body, fill=0, anchor="mm")
    square = barcode_image(payload, zxingcpp.BarcodeFormat.QRCode, 30)
    page.paste(square, ((A4_300_DPI[0] - square.width) // 2, 2000))
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=300, title=_("区切りシート"))
    return out.getvalue()
