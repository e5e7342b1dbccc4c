"""Charts as inline SVG, drawn on the server: no JavaScript library, nothing to download.

The browser gives the interaction for free: each point of the scatter is a link (click opens
the article) with a ``<title>`` (hover shows the document's title); each line point has a
``<title>`` with its period and count.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import quote

__all__ = ["PALETTE", "scatter_svg", "lines_svg", "heat"]

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173"]


def _scale(values: Sequence[float], lo: float, hi: float) -> list[float]:
    vmin, vmax = min(values), max(values)
    span = (vmax - vmin) or 1.0
    return [lo + (v - vmin) / span * (hi - lo) for v in values]


def scatter_svg(points: Sequence[dict[str, Any]], dataset: str, width: int = 720, height: int = 480) -> str:
    """One circle per point, coloured by cluster, linking to its article page."""
    if not points:
        return '<p class="empty">No points to draw.</p>'
    pad = 12
    xs = _scale([p["x"] for p in points], pad, width - pad)
    ys = _scale([-p["y"] for p in points], pad, height - pad)
    parts = [f'<svg id="scatter" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="2-D projection, one point per document">',
             f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ddd"/>']
    for p, x, y in zip(points, xs, ys):
        colour = PALETTE[p["cluster"] % len(PALETTE)]
        label = f" · {p['label']}" if p.get("label") else ""
        href = f"/article?dataset={quote(dataset)}&id={quote(str(p['id']), safe='')}"
        parts.append(f'<a class="pt" href="{escape(href)}"><circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" '
                     f'fill="{colour}" fill-opacity="0.75" data-id="{escape(str(p["id"]))}">'
                     f'<title>{escape(p["title"])}{escape(label)} (cluster {p["cluster"]})</title></circle></a>')
    parts.append("</svg>")
    return "".join(parts)


def lines_svg(periods: Sequence[str], series: dict[str, Sequence[int]], width: int = 720, height: int = 300) -> str:
    """One polyline per group over the periods (its counts also in ``data-counts``), a hover marker per non-zero
    period, axes labelled by first/last period and the maximum."""
    if not periods or not series:
        return '<p class="empty">No dated documents.</p>'
    left, right, top, bottom = 40, 130, 10, 30
    n = len(periods)
    ymax = max(1, max(max(v) for v in series.values()))
    def px(i: int) -> float:
        return left + (i / max(1, n - 1)) * (width - left - right)
    def py(v: float) -> float:
        return top + (1 - v / ymax) * (height - top - bottom)
    parts = [f'<svg id="trend" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="documents mentioning the term per period">',
             f'<line x1="{left}" y1="{py(0)}" x2="{width - right}" y2="{py(0)}" stroke="#999"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{py(0)}" stroke="#999"/>',
             f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" font-size="11">{ymax}</text>',
             f'<text x="{left - 4}" y="{py(0)}" text-anchor="end" font-size="11">0</text>',
             f'<text x="{left}" y="{height - 8}" font-size="11">{escape(periods[0])}</text>',
             f'<text x="{width - right}" y="{height - 8}" text-anchor="end" font-size="11">{escape(periods[-1])}</text>']
    for g, (name, values) in enumerate(sorted(series.items())):
        colour = PALETTE[g % len(PALETTE)]
        pts = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(values))
        counts = ",".join(str(int(v)) for v in values)
        parts.append(f'<polyline class="series" data-group="{escape(name)}" data-counts="{counts}" points="{pts}" '
                     f'fill="none" stroke="{colour}" stroke-width="2"><title>{escape(name)}: {sum(values)} documents'
                     f'</title></polyline>')
        for i, v in enumerate(values):
            if v == 0:
                continue  # a marker (with its hover text) where something happened; the line shows the zeros
            parts.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(name)} {escape(periods[i])}: {v}</title></circle>')
        parts.append(f'<text x="{width - right + 6}" y="{top + 14 + 14 * g}" font-size="11" fill="{colour}">'
                     f'{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heat(value: float, vmax: float) -> str:
    """A CSS background for a confusion-matrix cell (white to blue by ``value / vmax``)."""
    a = 0.0 if vmax <= 0 else max(0.0, min(1.0, value / vmax))
    return f"background: rgba(31, 119, 180, {a * 0.85:.2f}); color: {'#fff' if a > 0.55 else '#000'}"
