"""The outlets page: distinguishing terms per outlet or outlet group, and a term's coverage share over time."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from starlette.requests import Request

from nlpkit.features.outlets import STATISTIC, coverage, distinguishing_terms
from nlpkit.store import Store
from nlpkit.ui.charts import PALETTE
from nlpkit.ui.corpus import UiError

__all__ = ["outlets_page", "shares_svg"]


def shares_svg(periods: Sequence[str], shares: dict[str, Sequence[float]], width: int = 720, height: int = 320) -> str:
    """One line per outlet: the share (%) of its documents that cover the term, per period; titled axes."""
    if not periods or not shares:
        return '<p class="empty">No dated documents.</p>'
    left, right, top, bottom = 56, 130, 12, 46
    ymax = max(0.01, max(max(v) for v in shares.values()))
    n = len(periods)

    def px(i: int) -> float:
        return left + (i / max(1, n - 1)) * (width - left - right)

    def py(v: float) -> float:
        return top + (1 - v / ymax) * (height - top - bottom)

    parts = [f'<svg id="share-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="share of each outlet\'s documents per period">',
             f'<line x1="{left}" y1="{py(0)}" x2="{width - right}" y2="{py(0)}" stroke="#999"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{py(0)}" stroke="#999"/>']
    for frac in (0, 0.5, 1):
        v = ymax * frac
        parts.append(f'<text class="ytick" x="{left - 4}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="11">'
                     f'{v:.1%}</text>')
    step = max(1, n // 6)
    for i in range(0, n, step):
        parts.append(f'<text class="xtick" x="{px(i):.1f}" y="{py(0) + 14:.1f}" text-anchor="middle" font-size="10">'
                     f'{escape(periods[i])}</text>')
    parts.append(f'<text class="axis-title" x="{(left + width - right) / 2:.0f}" y="{height - 6}" text-anchor="middle" '
                 f'font-size="11">period (KST)</text>')
    parts.append(f'<text class="axis-title" x="12" y="{(top + py(0)) / 2:.0f}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 12 {(top + py(0)) / 2:.0f})">share of the outlet\'s documents</text>')
    for g, (name, values) in enumerate(sorted(shares.items())):
        colour = PALETTE[g % len(PALETTE)]
        pts = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline class="series" data-group="{escape(name)}" points="{pts}" fill="none" '
                     f'stroke="{colour}" stroke-width="2"><title>{escape(name)}</title></polyline>')
        parts.append(f'<text x="{width - right + 6}" y="{top + 14 + 14 * g}" font-size="11" fill="{colour}">'
                     f'{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def outlets_page(request: Request, store: Store, cache: Any, dataset: str) -> dict[str, Any]:
    p = request.query_params
    by = p.get("by", "outlet")
    if by not in ("outlet", "outlet_group"):
        raise UiError(f"by={by!r}: use outlet or outlet_group")
    term = p.get("q", "").strip()
    filters = {k: p.get(k, "") for k in ("since", "until") if p.get(k)}
    dt = cache.get(dataset)
    mask = dt.mask(**filters)
    rows = distinguishing_terms(dt, by=by, n=12, mask=mask).to_pylist()  # type: ignore[arg-type]
    groups = [(g, [r for r in rows if r["group"] == g]) for g in dict.fromkeys(r["group"] for r in rows)]
    chart, shares = "", []
    if term:
        frame = coverage(dt, term=term, by=by, mask=mask)  # type: ignore[arg-type]
        wide = frame.pivot(index="period", columns="group", values="share").fillna(0.0)
        chart = shares_svg([str(x) for x in wide.index], {str(c): wide[c].tolist() for c in wide.columns})
        totals = frame.groupby("group")[["docs_with", "docs"]].sum()
        shares = [(g, int(r.docs_with), int(r.docs)) for g, r in totals.iterrows()]
    return {"term": term, "by": by, "groups": groups, "chart": chart, "shares": shares, "filters": filters,
            "statistic": STATISTIC + "; |z| > 1.96 distinguishes at 5%"}
