"""PDF documents from HTML with WeasyPrint and the locally installed Noto Sans CJK JP.

Templates name the font family ``"Noto Sans CJK JP"`` (Debian's fonts-noto-cjk, found through
fontconfig: no web font download, LGWAN-safe). WeasyPrint's own chatter (font subsetting,
progress) is kept out of the logs. Documents laid out apart (a long print run, in chunks) are
joined into one file by Poppler's ``pdfunite`` (poppler-utils, installed with the OCR's
``pdftoppm``: ADR 0014).
"""

from __future__ import annotations

import logging
import shutil
import subprocess  # nosec B404: pdfunite, a fixed program on files of our own
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def load() -> Any:
    """WeasyPrint's HTML class, imported (about 2 s the first time: worth doing before forking
    workers, which then share it) with its logging quietened."""
    from weasyprint import HTML

    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return HTML


def document(html: str) -> Any:
    """The laid-out WeasyPrint document (tests inspect its pages)."""
    return load()(string=html).render()


def can_join() -> bool:
    return shutil.which("pdfunite") is not None


def join(parts: Sequence[bytes]) -> bytes:
    """One PDF of the pages of ``parts``, in order (each part keeps its own embedded fonts)."""
    if len(parts) == 1:
        return parts[0]
    exe = shutil.which("pdfunite")
    if exe is None:
        raise RuntimeError("pdfunite (poppler-utils) is not installed")
    with tempfile.TemporaryDirectory(prefix="hiroba-pdf-") as tmp:
        names = []
        for number, part in enumerate(parts):
            path = Path(tmp, f"{number:05d}.pdf")
            path.write_bytes(part)
            names.append(str(path))
        out = Path(tmp, "joined.pdf")
        subprocess.run([exe, *names, str(out)], check=True, capture_output=True)  # nosec B603
        return out.read_bytes()


def to_pdf(html: str, *, uncompressed: bool = False) -> bytes:
    """The PDF bytes of an HTML document (fonts embedded as subsets)."""
    return document(html).write_pdf(uncompressed_pdf=uncompressed)
