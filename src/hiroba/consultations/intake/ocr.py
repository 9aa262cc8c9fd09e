"""Japanese OCR of scanned letters and faxes, offline: Debian's tesseract (tesseract-ocr,
tesseract-ocr-jpn, -jpn-vert) run as a program, PDFs rasterised by Poppler's pdftoppm.

Both are called with `subprocess` (no Python wrapper is needed: tesseract's TSV output carries
every word with its confidence). Pages come back as PNG for the confirmation screen; a page with
almost no ink is blank, and blank pages — or separator sheets with a barcode (`separators`) —
separate the letters of a batch.

Speed: PDFs are rasterised once, to uncompressed greyscale (PGM); each page goes to tesseract as
PGM on its standard input (no PNG compression on the way), one tesseract per CPU at once
(`CONSULTATIONS_INTAKE_OCR_WORKERS`), each held to one OpenMP thread so they do not fight over
the cores.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from PIL import Image, ImageSequence, UnidentifiedImageError

from hiroba.consultations.intake import conf, separators

Image.MAX_IMAGE_PIXELS = 120_000_000  # a 600 dpi A3 page; larger is a decompression bomb


class OCRFailed(Exception):
    """The scan cannot be read: a Japanese reason for staff."""


def available() -> str:
    """Why OCR cannot run here (empty when it can)."""
    if not shutil.which("tesseract"):
        return _("tesseract がインストールされていません（scripts/system-packages.sh: tesseract-ocr）。")
    langs = languages()
    missing = [lang for lang in conf.get("CONSULTATIONS_INTAKE_OCR_LANG").split("+") if lang not in langs]
    if missing:
        return _("tesseract の言語データ（%(languages)s）がありません（tesseract-ocr-jpn）。") % {
            "languages": ", ".join(missing)}
    return ""


def languages() -> set[str]:
    try:
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {line.strip() for line in out.splitlines()[1:] if line.strip()}


@dataclass
class Page:
    image: Image.Image
    png: bytes = b""
    blank: bool = False
    separator: bool = False  # a separator sheet (its barcode): splits a batch, is no part of a letter


@dataclass
class Result:
    text: str
    words: list[list[Any]] = field(default_factory=list)  # [[text, confidence, line number]]
    confidence: float | None = None
    page_images: list[bytes] = field(default_factory=list)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)  # (optimize=True tries every filter: 4× slower)
    return out.getvalue()


def _pgm(image: Image.Image) -> bytes:
    """The page as tesseract reads it fastest: uncompressed 8-bit grey (PGM)."""
    out = io.BytesIO()
    image.convert("L").save(out, format="PPM")
    return out.getvalue()


def ink(image: Image.Image) -> float:
    """The share of dark pixels (a blank page: almost none)."""
    histogram = image.convert("L").histogram()
    return sum(histogram[:128]) / max(1, image.width * image.height)


def load_pages(name: str, content: bytes) -> list[Page]:
    """The pages of a scan: a PDF (rasterised at the OCR resolution), a TIFF (every frame), an image."""
    suffix = PurePath(name).suffix.lower()
    threshold = conf.get("CONSULTATIONS_INTAKE_BLANK_PAGE_INK")
    if suffix == ".pdf" or content[:4] == b"%PDF":
        images = _pdf_pages(name, content)
    else:
        try:
            source = Image.open(io.BytesIO(content))
            images = [frame.convert("L") for frame in ImageSequence.Iterator(source)]
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
            raise OCRFailed(_("「%(name)s」を画像として読めませんでした（%(error)s）。"
                              "スキャンし直すか、原本を見て入力してください。")
                            % {"name": name[:80], "error": type(exc).__name__}) from None
    if not images:
        raise OCRFailed(_("「%(name)s」にページがありません。") % {"name": name[:80]})
    accepted = separators.payloads()
    pages = []
    for img in images:
        blank = ink(img) < threshold
        pages.append(Page(image=img, blank=blank, separator=not blank and separators.is_separator(img, accepted=accepted)))
    return pages


def _pdf_pages(name: str, content: bytes) -> list[Image.Image]:
    if not shutil.which("pdftoppm"):
        raise OCRFailed(_("PDF を画像にする pdftoppm がインストールされていません（poppler-utils）。"))
    dpi = str(conf.get("CONSULTATIONS_INTAKE_OCR_DPI"))
    with tempfile.TemporaryDirectory(prefix="hiroba-ocr-") as tmp:
        source = Path(tmp) / "scan.pdf"
        source.write_bytes(content)
        try:
            # -gray without -png: PGM, uncompressed (writing PNG took pdftoppm 5× as long as the raster)
            subprocess.run(["pdftoppm", "-r", dpi, "-gray", str(source), str(Path(tmp) / "page")],
                           check=True, capture_output=True, timeout=conf.get("CONSULTATIONS_INTAKE_OCR_TIMEOUT_SECONDS"))
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise OCRFailed(_("「%(name)s」を PDF として読めませんでした（%(error)s）。"
                              "スキャンし直すか、原本を見て入力してください。")
                            % {"name": name[:80], "error": type(exc).__name__}) from None
        pages = []
        for path in sorted(Path(tmp).glob("page-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1])):
            with Image.open(path) as image:
                pages.append(image.convert("L"))
        return pages


def _is_cjk(ch: str) -> bool:
    return bool(ch) and (unicodedata.east_asian_width(ch) in ("W", "F"))


def _join(words: list[str]) -> str:
    """Words of one line: no space between Japanese characters, one between other words."""
    out = ""
    for word in words:
        if out and not (_is_cjk(out[-1]) or _is_cjk(word[0])):
            out += " "
        out += word
    return out


def recognise(image: Image.Image, *, lang: str | None = None) -> tuple[str, list[list[Any]]]:
    """(text, [[word, confidence, line]]) of one page."""
    lang = lang or conf.get("CONSULTATIONS_INTAKE_OCR_LANG")
    # 6: one block of horizontal lines (a letter); 5: the same written vertically
    psm = "5" if "vert" in lang and "jpn+" not in lang else "6"
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", lang, "--psm", psm, "-c", "preserve_interword_spaces=0", "tsv"],
            input=_pgm(image), capture_output=True, timeout=conf.get("CONSULTATIONS_INTAKE_OCR_TIMEOUT_SECONDS"),
            check=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except FileNotFoundError:
        raise OCRFailed(available() or _("tesseract を実行できません。")) from None
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise OCRFailed(_("文字を読み取れませんでした（tesseract: %(error)s）。原本を見て入力してください。")
                        % {"error": type(exc).__name__}) from None
    lines: dict[tuple[int, int, int], list[str]] = {}
    words: list[list[Any]] = []
    reader = csv.DictReader(io.StringIO(done.stdout.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        line = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        lines.setdefault(line, []).append(text)
        words.append([text, round(float(row["conf"]), 1), len(lines) - 1])
    paragraphs: list[str] = []
    last_block = None
    for (block, par, _line), parts in lines.items():
        if last_block is not None and (block, par) != last_block:
            paragraphs.append("")
        paragraphs.append(_join(parts))
        last_block = (block, par)
    return "\n".join(paragraphs).strip(), words


def workers() -> int:
    """How many pages are read at once: the setting, else one per CPU."""
    return int(conf.get("CONSULTATIONS_INTAKE_OCR_WORKERS")) or os.cpu_count() or 1


def recognise_all(images: Sequence[Image.Image], *, lang: str | None = None) -> list[tuple[str, list[list[Any]]]]:
    """`recognise` of every image, in order, with `workers()` tesseract processes at once (threads
    only wait for them: the work is in the processes)."""
    if len(images) <= 1 or workers() == 1:
        return [recognise(image, lang=lang) for image in images]
    language = translation.get_language()  # (a thread starts with none active: a reason in the caller's)

    def one(image: Image.Image) -> tuple[str, list[list[Any]]]:
        with translation.override(language):
            return recognise(image, lang=lang)

    with ThreadPoolExecutor(max_workers=min(workers(), len(images))) as pool:
        return list(pool.map(one, images))


def read_letters(pages: list[Page], letters: Sequence[tuple[int, int]], *, lang: str | None = None) -> list[Result]:
    """The Result of each letter (first, last page, 1-based) of a batch, every page read in one
    parallel pass; blank pages and separator sheets are not read."""
    wanted = sorted({n for first, last in letters for n in range(first, last + 1)
                     if not pages[n - 1].blank and not pages[n - 1].separator})
    read = dict(zip(wanted, recognise_all([pages[n - 1].image for n in wanted], lang=lang), strict=True))
    return [_result([pages[n - 1] for n in range(first, last + 1)],
                    [read.get(n) for n in range(first, last + 1)]) for first, last in letters]


def _result(pages: list[Page], recognised: list[tuple[str, list[list[Any]]] | None]) -> Result:
    texts, words, page_images = [], [], []
    offset = 0
    for page, done in zip(pages, recognised, strict=True):
        if page.separator:
            continue
        page_images.append(_png(_display(page.image)))
        if done is None:
            continue
        text, page_words = done
        texts.append(text)
        for word in page_words:
            words.append([word[0], word[1], word[2] + offset])
        offset += 1 + max((w[2] for w in page_words), default=0)
    scored = [w[1] for w in words if w[1] >= 0]
    confidence = round(sum(scored) / len(scored), 1) if scored else None
    return Result(text="\n\n".join(t for t in texts if t), words=words, confidence=confidence,
                  page_images=page_images)


def read_pages(pages: list[Page], *, lang: str | None = None) -> Result:
    """One letter made of these pages: every page read (blank pages and separator sheets not)."""
    return read_letters(pages, [(1, len(pages))], lang=lang)[0] if pages else _result([], [])


def _display(image: Image.Image) -> Image.Image:
    """A page for the screen: at most 1400 pixels wide."""
    if image.width <= 1400:
        return image
    return image.resize((1400, round(image.height * 1400 / image.width)))


def read_files(files: list[tuple[str, bytes]], *, lang: str | None = None) -> Result:
    """One letter made of these files (a fax): every page, read."""
    pages = [page for name, content in files for page in load_pages(name, content)]
    return read_pages(pages, lang=lang)


def split_letters(pages: list[Page]) -> list[tuple[int, int]]:
    """Letters of a batch as (first, last) page numbers (1-based): blank pages and separator sheets
    separate them (and are no part of them); a batch without either is one letter."""
    letters: list[tuple[int, int]] = []
    start = None
    for number, page in enumerate(pages, start=1):
        if page.blank or page.separator:
            if start is not None:
                letters.append((start, number - 1))
                start = None
        elif start is None:
            start = number
    if start is not None:
        letters.append((start, len(pages)))
    return letters


def character_accuracy(expected: str, got: str) -> float:
    """1 − (edit distance / length) of the known text, ignoring spaces and full/half-width
    differences (NFKC): how the benchmark and the tests score the OCR of rendered letters."""
    a = "".join(unicodedata.normalize("NFKC", expected).split())
    b = "".join(unicodedata.normalize("NFKC", got).split())
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1 - previous[-1] / max(1, len(a))
