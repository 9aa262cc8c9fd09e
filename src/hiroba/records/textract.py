"""The text of a document for the records search: PDF (Poppler's `pdftotext`, a subprocess with
a time limit), Word .docx and Excel .xlsx (the zip's XML read with defusedxml, each member's size
checked first), and .txt / .csv (UTF-8, or Shift_JIS as Windows writes it, cp932).

Pure Python (no Django): `extract(path, limits)` returns the text or raises `Unreadable` with a
short reason (`too_large`, `timeout`, `broken_pdf`, `broken_zip`, `broken_xml`, `unreadable`,
`no_pdftotext`), which the index keeps per file; one bad file never stops an index run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess  # nosec B404
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from hiroba.core.text import decode_japanese

KINDS = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".xlsm": "xlsx", ".txt": "txt", ".csv": "csv"}
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * 1024 * 1024  # a larger file is not read (`too_large`)
    max_chars: int = 1_000_000  # the text kept per file
    timeout: float = 30.0  # seconds pdftotext may take
    max_member: int = 100 * 1024 * 1024  # the largest XML part of a .docx / .xlsx, unpacked


class Unreadable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def kind_of(name: str) -> str | None:
    """The document kind the index reads for this file name, or None."""
    if name.startswith("~$"):
        return None  # Office lock files
    return KINDS.get(os.path.splitext(name)[1].lower())


def extract(path: str, limits: Limits = Limits()) -> str:
    kind = kind_of(os.path.basename(path))
    if kind is None:
        raise Unreadable("unsupported")
    try:
        if os.path.getsize(path) > limits.max_bytes:
            raise Unreadable("too_large")
        text = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "txt": _plain, "csv": _plain}[kind](path, limits)
    except FileNotFoundError as exc:
        raise Unreadable("vanished") from exc
    except OSError as exc:
        raise Unreadable("unreadable") from exc
    return normalise(text)[:limits.max_chars]


def normalise(text: str) -> str:
    """Runs of blanks made one space, lines kept, NUL and form feeds dropped."""
    text = text.replace("\x00", "").replace("\f", "\n")
    return "\n".join(line for line in (re.sub(r"[ \t\u3000]+", " ", raw).strip() for raw in text.splitlines())
                     if line)


def decode(raw: bytes) -> str:
    """UTF-16 with a BOM, UTF-8 (with or without a BOM), else cp932 (Shift_JIS with the Windows
    characters); what neither reads is read as UTF-8 with replacement characters. (EUC-JP is not
    tried: almost any EUC-JP text also decodes as cp932, as half-width katakana.)"""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", "replace")
    text = decode_japanese(raw)
    return text if text is not None else raw.decode("utf-8", "replace")


def _plain(path: str, limits: Limits) -> str:
    with open(path, "rb") as f:
        return decode(f.read(limits.max_bytes))


def _pdf(path: str, limits: Limits) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        raise Unreadable("no_pdftotext")
    try:
        # pdftotext only, an argument list, no shell
        done = subprocess.run([exe, "-q", "-enc", "UTF-8", path, "-"], capture_output=True,  # nosec B603
                              timeout=limits.timeout, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise Unreadable("timeout") from exc
    if done.returncode != 0:
        raise Unreadable("broken_pdf")
    return done.stdout[:limits.max_chars * 4].decode("utf-8", "replace")


def _members(path: str, names: Iterable[str], limits: Limits) -> list[bytes]:
    """The named parts of an Office file (those that exist), each refused when it unpacks larger
    than the limit (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = []
            for name in names:
                try:
                    info = z.getinfo(name)
                except KeyError:
                    continue
                if info.file_size > limits.max_member:
                    raise Unreadable("too_large")
                parts.append(z.read(info))
            return parts
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise Unreadable("broken_zip") from exc


def _xml_texts(data: bytes, block: str, text_tag: str) -> list[str]:
    """The text of each `block` element (a paragraph, a shared string): its `text_tag` children joined."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data)
    except (DefusedXmlException, SyntaxError) as exc:  # ParseError is a SyntaxError
        raise Unreadable("broken_xml") from exc
    return ["".join(t.text or "" for t in el.iter(text_tag)) for el in root.iter(block)]


def _names(path: str, pattern: str) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            return sorted(n for n in z.namelist() if re.fullmatch(pattern, n))
    except zipfile.BadZipFile as exc:
        raise Unreadable("broken_zip") from exc


def _docx(path: str, limits: Limits) -> str:
    names = _names(path, r"word/(document|header\d*|footer\d*|footnotes)\.xml")
    return "\n".join(p for data in _members(path, names, limits) for p in _xml_texts(data, W + "p", W + "t"))


def _xlsx(path: str, limits: Limits) -> str:
    sheets = _names(path, r"xl/worksheets/sheet\d+\.xml")
    texts = [t for data in _members(path, ["xl/sharedStrings.xml"], limits) for t in _xml_texts(data, S + "si", S + "t")]
    for data in _members(path, sheets, limits):  # strings typed into a cell without the shared table
        texts.extend(t for t in _xml_texts(data, S + "is", S + "t") if t)
    return "\n".join(texts)
