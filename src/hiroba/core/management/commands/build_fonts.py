"""Subset Debian's Noto Sans CJK JP into local WOFF2 web fonts (no CDN, LGWAN-safe).

Covers ASCII, Latin-1, Japanese punctuation, kana, full-width forms and the JIS X 0208
kanji (levels 1 and 2). Does nothing when the fonts already exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

SOURCES = {
    "NotoSansJP-Regular.woff2": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "NotoSansJP-Bold.woff2": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
}
OUT_DIR = Path(__file__).resolve().parents[2] / "static" / "fonts"


def jis_x_0208_characters() -> str:
    chars: set[str] = set()
    for hi in range(0xA1, 0xFF):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("euc_jp"))
            except UnicodeDecodeError:
                continue
    chars.update(chr(c) for c in range(0x20, 0x7F))
    chars.update(chr(c) for c in range(0xA0, 0x100))
    chars.update(chr(c) for c in range(0x3000, 0x3100))   # punctuation, kana
    chars.update(chr(c) for c in range(0xFF00, 0xFFF0))   # full-width forms
    chars.update("〒①②③④⑤⑥⑦⑧⑨⑩※～－―‐")
    return "".join(sorted(chars))


class Command(BaseCommand):
    help = "Debian の fonts-noto-cjk から Web フォント（WOFF2）を作る"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        import logging

        from fontTools import subset

        logging.getLogger("fontTools").setLevel(logging.WARNING)

        OUT_DIR.mkdir(parents=True, exist_ok=True)
        text = None
        for name, source in SOURCES.items():
            target = OUT_DIR / name
            if target.exists() and not options["force"]:
                continue
            if not Path(source).exists():
                self.stderr.write(f"{source} がありません（apt-get install fonts-noto-cjk）。{name} は作りません。")
                continue
            text = text or jis_x_0208_characters()
            opts = subset.Options()
            opts.flavor = "woff2"
            opts.font_number = 0  # Noto Sans CJK JP inside the collection
            opts.layout_features = ["kern", "liga", "palt", "vert", "vrt2", "ccmp", "locl"]
            opts.name_IDs = ["*"]
            opts.hinting = False
            font = subset.load_font(source, opts)
            subsetter = subset.Subsetter(opts)
            subsetter.populate(text=text)
            subsetter.subset(font)
            subset.save_font(font, str(target), opts)
            self.stdout.write(f"{target.name}: {target.stat().st_size // 1024} KiB")
