"""Attachment checks: the type is read from the file's first bytes (magic), never its name.

Only PDF, PNG and JPEG are accepted. A PDF that can run or launch something (JavaScript,
launch actions, embedded files, XFA forms, rich media) is refused: reviewers open these files.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

MAX_BYTES = 5 * 1024 * 1024
MAX_FILES = 3

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
# PDF names that make a document active. Names may be written with #xx escapes (/J#61vaScript).
_ACTIVE_PDF = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA|AA|OpenAction|SubmitForm|ImportData)\b")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


class AttachmentRefused(ValueError):
    pass


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str


def sniff(head: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def check(data: bytes, name: str = "") -> CheckedFile:
    """Accept `data` or raise AttachmentRefused with a message for the resident."""
    label = format_lazy(_("「{name}」"), name=name) if name else _("ファイル")
    if len(data) == 0:
        raise AttachmentRefused(format_lazy(_("{label}は空のファイルです。"), label=label))
    if len(data) > MAX_BYTES:
        raise AttachmentRefused(format_lazy(_("{label}は大きすぎます（1ファイル {mb}MB まで）。"), label=label,
                                            mb=MAX_BYTES // (1024 * 1024)))
    content_type = sniff(data[:16])
    if content_type is None:
        raise AttachmentRefused(
            format_lazy(_("{label}は受け付けられない形式です。PDF・PNG・JPEG のファイルを添付してください"
                          "（拡張子ではなくファイルの中身で判定しています）。"), label=label)
        )
    if content_type == "application/pdf":
        plain = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
        if _ACTIVE_PDF.search(plain):
            raise AttachmentRefused(
                format_lazy(_("{label}にはプログラム（JavaScript 等）や埋め込みファイルが含まれているため、"
                              "安全のため受け付けられません。"), label=label)
            )
    return CheckedFile(content_type, len(data), hashlib.sha256(data).hexdigest())
