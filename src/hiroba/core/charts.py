"""Server-rendered SVG charts (no JavaScript, no CDN), each drawn beside a table that carries
the same figures (a chart is never the only way to read them).

Bars carry their value as text and a pattern of their own besides colour, so no meaning
depends on colour alone (WCAG 1.4.1); colours meet 3:1 against white (1.4.11).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

#: Colours for stacked segments, darkest (best / most severe) first; white text on each ≥ 4.5:1.
PALETTE = ("#00118f", "#0031d8", "#3a55c9", "#595959", "#8a3700", "#b3261e")
FONT = 'font-family="Noto Sans CJK JP, sans-serif"'


def _svg_open(chart_id: str, title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="chart" role="img" aria-labelledby="{escape(chart_id)}-title" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]


def bar_chart(title: str, data: Sequence[tuple[str, float]], *, chart_id: str, unit: str = "",
              label_width: int = 220, chart_width: int = 360) -> str:
    """Horizontal bars, one per (label, value), the value written after each bar."""
    bar_h, gap = 24, 8
    height = max(1, len(data)) * (bar_h + gap) + 12
    top = max((v for _, v in data), default=0) or 1
    parts = _svg_open(chart_id, title, label_width + chart_width + 90, height)
    for i, (label, value) in enumerate(data):
        y = 6 + i * (bar_h + gap)
        w = round(chart_width * value / top)
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f'<text x="{label_width - 8}" y="{y + bar_h * 0.7:.0f}" text-anchor="end" font-size="13" '
                     f'fill="#1a1a1a">{escape(str(label))}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{w}" height="{bar_h}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{label_width + w + 6}" y="{y + bar_h * 0.7:.0f}" font-size="13" '
                     f'fill="#1a1a1a">{escape(shown)}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar_chart(title: str, rows: Sequence[tuple[str, Sequence[int]]], legend: Sequence[str], *,
                      chart_id: str, label_width: int = 220, chart_width: int = 420) -> str:
    """One 100 % bar per row, split into segments in `legend` order; each segment wide enough
    is labelled with its share, and a legend with numbered swatches sits above the bars."""
    bar_h, gap, legend_h = 26, 10, 26
    height = legend_h + max(1, len(rows)) * (bar_h + gap) + 12
    parts = _svg_open(chart_id, title, label_width + chart_width + 20, height)
    x = label_width
    for index, name in enumerate(legend):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="4" width="14" height="14" fill="{colour}"/>')
        parts.append(f'<text x="{x + 18}" y="16" font-size="12" fill="#1a1a1a">{index + 1}. {escape(name)}</text>')
        x += 24 + 13 * len(name) + 14
    for i, (label, counts) in enumerate(rows):
        y = legend_h + 6 + i * (bar_h + gap)
        total = sum(counts) or 1
        parts.append(f'<text x="{label_width - 8}" y="{y + bar_h * 0.7:.0f}" text-anchor="end" font-size="13" '
                     f'fill="#1a1a1a">{escape(str(label))}</text>')
        left = float(label_width)
        for index, count in enumerate(counts):
            w = chart_width * count / total
            if w <= 0:
                continue
            colour = PALETTE[index % len(PALETTE)]
            parts.append(f'<rect x="{left:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}" '
                         f'stroke="#ffffff" stroke-width="1"/>')
            if w >= 34:
                parts.append(f'<text x="{left + w / 2:.1f}" y="{y + bar_h * 0.68:.0f}" text-anchor="middle" '
                             f'font-size="12" fill="#ffffff">{round(100 * count / total)}%</text>')
            left += w
    parts.append("</svg>")
    return "".join(parts)
