"""What may cross between the internet segment and LGWAN (インターネット系 ↔ LGWAN系): the
type of a file decided by its content (magic bytes, never the name), Office macros stripped,
Office files with ActiveX, embedded objects or external links refused, PDFs with active content
re-rendered to images (pdftoppm, then Pillow) as the safe copy; `render_office` draws a checked
Office file as PDF with LibreOffice (headless, a profile of its own per run, no macros).

`check(name, data)` returns a `Verdict`; nothing here touches the database.
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.utils.translation import gettext_lazy as _

from hiroba.records import conf

PASSED, STRIPPED, RENDERED, REFUSED = "passed", "stripped", "rendered", "refused"
OOXML = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
MIME = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg", "text": "text/plain",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
EXTENSION = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "text": ".txt", "docx": ".docx", "xlsx": ".xlsx",
             "pptx": ".pptx"}
# The macro-enabled main parts and what they become once the macros are gone.
MACRO_FREE = {
    "application/vnd.ms-word.document.macroEnabled.main+xml":
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml":
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml":
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA", b"/SubmitForm",
              b"/ImportData")


@dataclass(frozen=True)
class Verdict:
    detected: str  # pdf, png, jpeg, text, docx, xlsx, pptx, exe, zip, ole, unknown
    verdict: str  # passed / stripped / rendered / refused
    reason: str
    safe: bytes | None = None  # what may cross (None when refused)

    @property
    def safe_name_suffix(self) -> str:
        return ".pdf" if self.verdict == RENDERED else EXTENSION.get(self.detected, "")


def detect(data: bytes) -> str:
    """The file's type from its first bytes (and, for a zip, its parts)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")):
        return "exe"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return "unknown"
        if "[Content_Types].xml" in names:
            for prefix, kind in OOXML.items():
                if any(n.startswith(prefix) for n in names):
                    return kind
        return "zip"
    if _text_encoding(data) is not None:
        return "text"
    return "unknown"


def _text_encoding(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    for encoding in ("utf-8", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\r\n\f")
        return encoding if controls == 0 else None
    return None


def check(data: bytes) -> Verdict:
    """Whether `data` may cross, and the copy that does."""
    kind = detect(data)
    if len(data) > conf.get("RECORDS_TRANSFER_MAX_BYTES"):
        return Verdict(kind, REFUSED, str(_("ファイルが大きすぎます（上限 {mb} MB）。")).format(
            mb=conf.get("RECORDS_TRANSFER_MAX_BYTES") // (1024 * 1024)))
    refused = {
        "exe": _("実行ファイルは受け渡しできません。"),
        "zip": _("圧縮ファイル（zip）は受け渡しできません。展開して1件ずつ申請してください。"),
        "ole": _("旧形式のOffice文書（.doc・.xls・.ppt）はマクロを確認できないため受け渡しできません。"
                 "新形式（.docx・.xlsx・.pptx）かPDFにして申請してください。"),
        "unknown": _("ファイルの種類を判別できないため受け渡しできません。"),
    }
    if kind in refused:
        return Verdict(kind, REFUSED, str(refused[kind]))
    if kind not in conf.get("RECORDS_TRANSFER_TYPES"):
        return Verdict(kind, REFUSED, str(_("この種類のファイル（{kind}）は受け渡しを認めていません。")).format(kind=kind))
    if kind == "pdf":
        return _check_pdf(data)
    if kind in OOXML.values():
        return _check_ooxml(kind, data)
    return Verdict(kind, PASSED, str(_("内容を確認しました。")), data)


# --- PDF ----------------------------------------------------------------------------------

def _names(raw: bytes) -> bytes:
    """PDF names with their #xx escapes undone (/J#61vaScript is /JavaScript)."""
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def _streams(data: bytes, budget: int) -> Iterator[bytes | None]:
    """Each Flate stream decompressed (object streams too); None once `budget` bytes in all are
    spent (what is left is not read: the caller treats the file as not checked)."""
    view = memoryview(data)
    for m in re.finditer(rb"stream\r?\n", data):
        if budget <= 0:
            yield None
            return
        inflate = zlib.decompressobj()
        try:
            out = inflate.decompress(view[m.end():], budget)
        except zlib.error:
            continue
        budget -= len(out)
        yield out
        if inflate.unconsumed_tail and not inflate.eof and budget <= 0:
            yield None
            return


def pdf_active_content(data: bytes) -> list[str]:
    """The active-content names found in the raw bytes or the Flate streams; "unchecked" when the
    streams decompress to more than four times the size limit."""
    found: set[str] = set()
    for part in [data, *_streams(data, conf.get("RECORDS_TRANSFER_MAX_BYTES") * 4)]:
        if part is None:
            found.add("unchecked")
            break
        text = _names(part)
        for token in PDF_ACTIVE:
            if re.search(re.escape(token) + rb"(?![A-Za-z0-9])", text):
                found.add(token.decode()[1:])
    return sorted(found)


def render_pdf(data: bytes) -> bytes:
    """The PDF drawn to page images by pdftoppm and put back into a PDF of images (nothing active
    survives). Raises ValueError if poppler cannot draw it."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(data)
        try:
            subprocess.run(["pdftoppm", "-r", str(conf.get("RECORDS_TRANSFER_RENDER_DPI")), "-png",
                            "-l", str(conf.get("RECORDS_TRANSFER_RENDER_PAGES")), str(source), str(Path(tmp) / "p")],
                           check=True, capture_output=True, timeout=conf.get("RECORDS_TRANSFER_RENDER_TIMEOUT"))
        except (OSError, subprocess.SubprocessError) as exc:
            raise ValueError(str(exc)) from exc
        pages = sorted(Path(tmp).glob("p*.png"))
        if not pages:
            raise ValueError("no pages")
        images = [Image.open(p).convert("RGB") for p in pages]
        out = io.BytesIO()
        images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=72.0)
        return out.getvalue()


def render_office(data: bytes, kind: str) -> bytes:
    """The Office file (docx, xlsx or pptx; already checked, macros removed) drawn as PDF by
    LibreOffice, headless, with a throwaway profile, so that no setting, macro permission or
    recent-file list carries from one conversion to the next. Raises ValueError when it cannot."""
    program = conf.soffice()
    if program is None or kind not in OOXML.values():
        raise ValueError("no LibreOffice" if program is None else f"not an Office file: {kind}")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"in{EXTENSION[kind]}"
        source.write_bytes(data)
        try:
            subprocess.run([program, f"-env:UserInstallation={(Path(tmp) / 'profile').as_uri()}", "--headless",
                            "--norestore", "--nolockcheck", "--nodefault", "--convert-to", "pdf",
                            "--outdir", str(Path(tmp) / "out"), str(source)],
                           check=True, capture_output=True, timeout=conf.get("RECORDS_TRANSFER_SOFFICE_TIMEOUT"),
                           env={"HOME": tmp, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        except (OSError, subprocess.SubprocessError) as exc:
            raise ValueError(str(exc)) from exc
        out = Path(tmp) / "out" / "in.pdf"
        if not out.exists() or not out.read_bytes().startswith(b"%PDF-"):
            raise ValueError("LibreOffice wrote no PDF")
        return out.read_bytes()


def _check_pdf(data: bytes) -> Verdict:
    active = pdf_active_content(data)
    if not active:
        return Verdict("pdf", PASSED, str(_("内容を確認しました。")), data)
    try:
        safe = render_pdf(data)
    except ValueError:
        return Verdict("pdf", REFUSED, str(_("動的な内容（{names}）を含み、画像化もできないため受け渡しできません。")).format(
            names="・".join(active)))
    return Verdict("pdf", RENDERED, str(_("動的な内容（{names}）を含むため、画像にしたPDFを受け渡します。")).format(
        names="・".join(active)), safe)


# --- Office Open XML ----------------------------------------------------------------------

def _is_macro(name: str) -> bool:
    base = name.rsplit("/", 1)[-1].lower()
    return base.startswith(("vbaproject.bin", "vbadata.xml")) or base.endswith(".bin.rels") and "vba" in base


def _check_ooxml(kind: str, data: bytes) -> Verdict:
    try:
        return _inspect_ooxml(kind, data)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, DefusedXmlException, RuntimeError, OSError):
        return Verdict(kind, REFUSED, str(_("Office文書の構造を読み取れないため受け渡しできません。")))


def _inspect_ooxml(kind: str, data: bytes) -> Verdict:
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = archive.infolist()
    if sum(i.file_size for i in infos) > conf.get("RECORDS_TRANSFER_MAX_BYTES") * 10:
        return Verdict(kind, REFUSED, str(_("展開後の大きさが上限を超えるため受け渡しできません。")))
    names = [i.filename for i in infos]
    lowered = [n.lower() for n in names]
    if any("/activex/" in n or "/embeddings/" in n or "/externallinks/" in n or "/macrosheets/" in n
           for n in lowered):
        return Verdict(kind, REFUSED, str(_("ActiveX・埋め込みオブジェクト・外部リンク・Excel 4.0 マクロを含むため"
                                            "受け渡しできません（安全に除去できません）。PDFにして申請してください。")))
    rels = {n: archive.read(n) for n in names if n.endswith(".rels")}
    for body in rels.values():
        for rel in fromstring(body).iter(f"{{{REL_NS}}}Relationship"):
            if rel.get("TargetMode") == "External" and not rel.get("Type", "").endswith("/hyperlink"):
                return Verdict(kind, REFUSED, str(_("外部のファイルを参照する設定（テンプレート・外部データ）を含むため"
                                                    "受け渡しできません。")))
    macros = [n for n in names if _is_macro(n)]
    types = archive.read("[Content_Types].xml")
    if not macros and not any(t.encode() in types for t in MACRO_FREE):
        return Verdict(kind, PASSED, str(_("内容を確認しました。")), data)
    return Verdict(kind, STRIPPED, str(_("マクロ（{parts}）を取り除いて受け渡します。")).format(
        parts="・".join(macros) or "macroEnabled"), _without(archive, set(macros), types))


def _without(archive: zipfile.ZipFile, removed: set[str], types: bytes) -> bytes:
    """The package rewritten without the `removed` parts, their relationships and content types,
    the main part's content type made macro-free."""
    ET.register_namespace("", CT_NS)
    ct = fromstring(types)
    for el in list(ct):
        part = el.get("PartName", "").lstrip("/")
        ctype = el.get("ContentType", "")
        if part in removed or ctype == "application/vnd.ms-office.vbaProject":
            ct.remove(el)
        elif ctype in MACRO_FREE:
            el.set("ContentType", MACRO_FREE[ctype])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in archive.infolist():
            if info.filename in removed:
                continue
            body = archive.read(info.filename)
            if info.filename == "[Content_Types].xml":
                body = ET.tostring(ct, xml_declaration=True, encoding="UTF-8")
            elif info.filename.endswith(".rels"):
                body = _rels_without(body, removed)
            new.writestr(info.filename, body)
    return out.getvalue()


def _rels_without(body: bytes, removed: set[str]) -> bytes:
    ET.register_namespace("", REL_NS)
    root = fromstring(body)
    gone = {r.rsplit("/", 1)[-1] for r in removed}
    changed = False
    for rel in list(root):
        target = rel.get("Target", "").rsplit("/", 1)[-1]
        if target in gone or rel.get("Type", "").endswith("/vbaProject"):
            root.remove(rel)
            changed = True
    return ET.tostring(root, xml_declaration=True, encoding="UTF-8") if changed else body


LABELS = {"pdf": "PDF", "png": "PNG", "jpeg": "JPEG", "text": _("テキスト・CSV（UTF-8・シフトJIS）"),
          "docx": "Word (.docx)", "xlsx": "Excel (.xlsx)", "pptx": "PowerPoint (.pptx)"}


def allowed_labels() -> list[str]:
    return [str(LABELS.get(k, k)) for k in conf.get("RECORDS_TRANSFER_TYPES")]
