"""Charts as inline SVG, drawn on the server: no JavaScript library, nothing to download.

The browser gives the interaction for free: each point of the scatter is a link (click opens
the article) with a ``<title>`` (hover shows the document's title); each line point has a
``<title>`` with its period and count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import quote

__all__ = ["PALETTE", "heat", "lines_svg", "nice_ticks", "scatter_svg"]

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173"]


def _scale(values: Sequence[float], lo: float, hi: float) -> list[float]:
    vmin, vmax = min(values), max(values)
    span = (vmax - vmin) or 1.0
    return [lo + (v - vmin) / span * (hi - lo) for v in values]


def _even_ticks(lo: float, hi: float, most: int = 5) -> list[float]:
    """Round tick values between ``lo`` and ``hi`` (steps of 1, 2 or 5 x 10^k)."""
    span = (hi - lo) or 1.0
    raw = span / most
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if span / (m * mag) <= most)
    first = math.ceil(lo / step) * step
    return [round(first + k * step, 10) for k in range(int((hi - first) / step) + 1)]


def scatter_svg(points: Sequence[dict[str, Any]], dataset: str, width: int = 760, height: int = 500,
                axis: str = "component", legend: Sequence[tuple[int, str]] = ()) -> str:
    """One circle per point, coloured by cluster, linking to its article page; axes with tick values and
    titles (``{axis} 1`` and ``{axis} 2``) and a legend of the clusters (``legend``: cluster, its words)."""
    if not points:
        return '<p class="empty">No points to draw.</p>'
    left, right, top, bottom = 52, 190, 12, 46
    x_raw, y_raw = [p["x"] for p in points], [p["y"] for p in points]
    x0, x1, y0, y1 = min(x_raw), max(x_raw), min(y_raw), max(y_raw)
    xspan, yspan = (x1 - x0) or 1.0, (y1 - y0) or 1.0

    def px(v: float) -> float:
        return left + (v - x0) / xspan * (width - left - right)

    def py(v: float) -> float:
        return top + (1 - (v - y0) / yspan) * (height - top - bottom)

    bottom_y, right_x = height - bottom, width - right
    parts = [f'<svg id="scatter" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="2-D projection, one point per document">',
             f'<rect x="{left}" y="{top}" width="{right_x - left}" height="{bottom_y - top}" fill="#fafafa" '
             f'stroke="#999"/>']
    for v in _even_ticks(x0, x1):
        parts.append(f'<text class="tick x" x="{px(v):.1f}" y="{bottom_y + 15}" text-anchor="middle" '
                     f'font-size="11">{v:g}</text>')
    for v in _even_ticks(y0, y1):
        parts.append(f'<text class="tick y" x="{left - 5}" y="{py(v) + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{v:g}</text>')
    mid_x, mid_y = (left + right_x) / 2, (top + bottom_y) / 2
    parts.append(f'<text class="axis-title x" x="{mid_x:.0f}" y="{height - 10}" text-anchor="middle" '
                 f'font-size="12">{escape(axis)} 1</text>')
    parts.append(f'<text class="axis-title y" x="14" y="{mid_y:.0f}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 14 {mid_y:.0f})">{escape(axis)} 2</text>')
    for p in points:
        colour = PALETTE[p["cluster"] % len(PALETTE)]
        label = f" · {p['label']}" if p.get("label") else ""
        href = f"/article?dataset={quote(dataset)}&id={quote(str(p['id']), safe='')}"
        parts.append(f'<a class="pt" href="{escape(href)}"><circle cx="{px(p["x"]):.1f}" cy="{py(p["y"]):.1f}" '
                     f'r="3.5" fill="{colour}" fill-opacity="0.75" data-id="{escape(str(p["id"]))}">'
                     f'<title>{escape(p["title"])}{escape(label)} (cluster {p["cluster"]})</title></circle></a>')
    shown = list(legend) or [(c, "") for c in sorted({int(p["cluster"]) for p in points})]
    parts.append(f'<g class="legend"><text x="{right_x + 12}" y="{top + 10}" font-size="12">colour = cluster</text>')
    for k, (cluster, words) in enumerate(shown[:24]):
        y = top + 28 + 16 * k
        text = f"{cluster}" + (f" {words}" if words else "")
        parts.append(f'<circle cx="{right_x + 17}" cy="{y - 4}" r="5" fill="{PALETTE[cluster % len(PALETTE)]}"/>'
                     f'<text class="legend-item" x="{right_x + 27}" y="{y}" font-size="11">'
                     f'{escape(text[:26])}</text>')
    parts.append("</g></svg>")
    return "".join(parts)


def nice_ticks(vmax: float, most: int = 5) -> list[int]:
    """0 and round steps (1, 2, 5 x 10^k) up to at least ``vmax``: the y axis' tick values.

    >>> nice_ticks(37)
    [0, 10, 20, 30, 40]
    """
    vmax = max(1.0, float(vmax))
    step = next(s for s in _steps() if vmax / s <= most)
    top = -(-int(math.ceil(vmax)) // step) * step
    return list(range(0, top + 1, step))


def _steps() -> list[int]:
    return [m * 10 ** k for k in range(0, 9) for m in (1, 2, 5)]


def _x_ticks(periods: Sequence[str], most: int = 8) -> list[int]:
    """Indices of the periods that get a tick label: evenly spaced, the first and last always."""
    n = len(periods)
    if n <= most:
        return list(range(n))
    step = -(-(n - 1) // (most - 1))
    ticks = list(range(0, n - 1, step))
    if n - 1 - ticks[-1] < step / 2:
        ticks.pop()
    return [*ticks, n - 1]


def lines_svg(periods: Sequence[str], series: dict[str, Sequence[float]], width: int = 720, height: int = 320,
              x_title: str = "period", y_title: str = "documents", *, svg_id: str = "trend", unit: str = "") -> str:
    """One polyline per group over the periods (its values also in ``data-counts``), a hover marker per non-zero
    period, tick labels on both axes (``class="tick"``), axis titles (``class="axis-title"``) and a legend.

    Values are document counts by default; with ``unit`` (e.g. ``"%"``) they are any non-negative figures
    (shares), shown with that unit on the ticks and in the hover texts.
    """
    if not periods or not series:
        return '<p class="empty">No dated documents.</p>'
    left, right, top, bottom = 56, 140, 12, 58
    n = len(periods)
    ticks_y = nice_ticks(max(max(v) for v in series.values()))
    ymax = ticks_y[-1]

    def px(i: int) -> float:
        return left + (i / max(1, n - 1)) * (width - left - right)

    def py(v: float) -> float:
        return top + (1 - v / ymax) * (height - top - bottom)

    parts = [f'<svg id="{escape(svg_id)}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(y_title)} per {escape(x_title)}">',
             f'<line x1="{left}" y1="{py(0)}" x2="{width - right}" y2="{py(0)}" stroke="#999"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{py(0)}" stroke="#999"/>']
    for v in ticks_y:
        parts.append(f'<line x1="{left - 4}" y1="{py(v):.1f}" x2="{width - right}" y2="{py(v):.1f}" stroke="#eee"/>'
                     f'<text class="tick y" x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="11">{v}{unit}</text>')
    for i in _x_ticks(periods):
        parts.append(f'<line x1="{px(i):.1f}" y1="{py(0)}" x2="{px(i):.1f}" y2="{py(0) + 4}" stroke="#999"/>'
                     f'<text class="tick x" x="{px(i):.1f}" y="{py(0) + 16}" text-anchor="middle" font-size="11">'
                     f'{escape(periods[i])}</text>')
    parts.append(f'<text class="axis-title x" x="{(left + width - right) / 2:.0f}" y="{height - 8}" '
                 f'text-anchor="middle" font-size="12">{escape(x_title)}</text>')
    mid = (top + py(0)) / 2
    parts.append(f'<text class="axis-title y" x="14" y="{mid:.0f}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 14 {mid:.0f})">{escape(y_title)}</text>')
    for g, (name, values) in enumerate(sorted(series.items())):
        colour = PALETTE[g % len(PALETTE)]
        pts = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(values))
        counts = ",".join(f"{v:g}" for v in values)
        total = "" if unit else f": {sum(values):g} documents"
        parts.append(f'<polyline class="series" data-group="{escape(name)}" data-counts="{counts}" points="{pts}" '
                     f'fill="none" stroke="{colour}" stroke-width="2"><title>{escape(name)}{total}'
                     f'</title></polyline>')
        for i, v in enumerate(values):
            if v == 0:
                continue  # a marker (with its hover text) where something happened; the line shows the zeros
            parts.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(name)} {escape(periods[i])}: {v:g}{unit}</title></circle>')
        parts.append(f'<text class="legend" x="{width - right + 8}" y="{top + 14 + 14 * g}" font-size="11" '
                     f'fill="{colour}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heat(value: float, vmax: float) -> str:
    """A CSS background for a confusion-matrix cell (white to blue by ``value / vmax``)."""
    a = 0.0 if vmax <= 0 else max(0.0, min(1.0, value / vmax))
    return f"background: rgba(31, 119, 180, {a * 0.85:.2f}); color: {'#fff' if a > 0.55 else '#000'}"
