"""PDF documents from HTML with WeasyPrint and the locally installed Noto Sans CJK JP.

Templates name the font family ``"Noto Sans CJK JP"`` (Debian's fonts-noto-cjk, found through
fontconfig: no web font download, LGWAN-safe). WeasyPrint's own chatter (font subsetting,
progress) is kept out of the logs.
"""

from __future__ import annotations

import logging
from typing import Any


def document(html: str) -> Any:
    """The laid-out WeasyPrint document (tests inspect its pages)."""
    from weasyprint import HTML

    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return HTML(string=html).render()


def to_pdf(html: str, *, uncompressed: bool = False) -> bytes:
    """The PDF bytes of an HTML document (fonts embedded as subsets)."""
    return document(html).write_pdf(uncompressed_pdf=uncompressed)
