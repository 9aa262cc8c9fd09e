"""Real-looking Japanese mail (ISO-2022-JP, Shift_JIS, UTF-8, attachments) in a Maildir, and scans
rendered with the Noto font hiroba ships."""

from __future__ import annotations

import io
import mailbox
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from tests.consultations.conftest import JST

FONT = Path(__file__).resolve().parents[3] / "src" / "hiroba" / "core" / "static" / "fonts" / "NotoSansJP-Regular.woff2"
RECEIVED = datetime(2025, 1, 20, 9, 30, tzinfo=JST)  # inside the test cases' period
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def received(at: datetime) -> str:
    return f"from mx.example.jp by mail.city.example.jp; {format_datetime(at)}"


def jp_mail(text: str = "DX戦略の素案について、高齢者向けの窓口支援を拡充してください。", *, charset: str = "iso-2022-jp",
            subject: str = "DX戦略（素案）への意見", sender: str = "山田 花子 <hanako@example.ne.jp>",
            to: str = "dx-comment@example.jp", at: datetime = RECEIVED, message_id: str | None = None,
            attachments: list[tuple[str, bytes, str]] = (), headers: dict[str, str] | None = None) -> bytes:
    """A message as a Japanese mailer writes it: the body in `charset`, encoded-word headers."""
    body = MIMEText(text, "plain", charset)
    if attachments:
        message = MIMEMultipart()
        message.attach(body)
        for name, content, ctype in attachments:
            part = MIMEApplication(content, _subtype=ctype.split("/")[1])
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
            message.attach(part)
    else:
        message = body
    from email.header import Header

    message["Subject"] = Header(subject, charset).encode()
    from email.utils import formataddr, parseaddr

    message["From"] = formataddr(parseaddr(sender), charset="utf-8")
    message["To"] = to
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id or make_msgid(domain="example.ne.jp")
    message["Received"] = received(at)
    for name, value in (headers or {}).items():
        message[name] = value
    return message.as_bytes()


@pytest.fixture
def maildir(tmp_path) -> Callable[..., Path]:
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(str(path), create=True)

    def add(*messages: bytes) -> Path:
        for raw in messages:
            box.add(raw)
        return path

    add.path = path  # type: ignore[attr-defined]
    return add


def render_letter(text: str, *, size: int = 40, width: int = 2480, height: int = 3508) -> bytes:
    """An A4 page at 300 dpi with the text printed in Noto Sans JP (PNG bytes)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), size)
    y = 250
    for line in text.splitlines():
        draw.text((220, y), line, font=font, fill=0)
        y += int(size * 1.8)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def blank_page(width: int = 2480, height: int = 3508) -> object:
    from PIL import Image

    return Image.new("L", (width, height), 255)


def pdf_of(*pngs: bytes, blank_after: set[int] = frozenset()) -> bytes:
    """A multi-page PDF of page images (a blank page after the pages numbered in `blank_after`)."""
    from PIL import Image

    pages = []
    for index, png in enumerate(pngs, start=1):
        pages.append(Image.open(io.BytesIO(png)).convert("L"))
        if index in blank_after:
            pages.append(blank_page())
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=300)
    return out.getvalue()


def message(raw: bytes) -> EmailMessage:
    import email
    import email.policy

    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]
