"""The related-words page: a term's related words (NPMI over documents) as a table and a network graph.

The graph is inline SVG drawn on the server: the term in the middle, its related words on a circle
around it (the best first, clockwise from the top); a node's area grows with how many documents hold
the word, an edge's width and opacity with its NPMI; words that are also related to each other
(NPMI > 0.2, in at least ``min_count`` documents together) are joined too. Every node is a link to
the search for that word; the table links each word to its trend as well.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any
from urllib.parse import urlencode

import numpy as np
from starlette.requests import Request

from nlpkit.features.docterms import DocTerms
from nlpkit.features.related import STATISTIC, Related, related_words
from nlpkit.store import Store

__all__ = ["graph_svg", "related_page"]

_FILTERS = ("since", "until", "outlet", "label")


def _pair_npmi(dt: DocTerms, cols: list[int], mask: np.ndarray | None, min_count: int) -> list[tuple[int, int, float]]:
    X = dt.csc[:, cols]
    if mask is not None:
        X = X[np.flatnonzero(mask)]
    n = X.shape[0]
    co = (X.T @ X).toarray()
    df = np.diag(co).astype(float)
    out = []
    for a in range(len(cols)):
        for b in range(a + 1, len(cols)):
            c = co[a, b]
            if c >= min_count and c < n and df[a] and df[b]:
                npmi = math.log2(c * n / (df[a] * df[b])) / -math.log2(c / n)
                if npmi > 0.2:
                    out.append((a, b, npmi))
    return out


def graph_svg(term: str, term_df: int, rows: list[Related], links: list[tuple[int, int, float]], dataset: str,
              width: int = 720, height: int = 520) -> str:
    """The network graph (see the module docstring); node 0 is ``term``, node i the i-th related word."""
    if not rows:
        return '<p class="empty">No related words to draw.</p>'
    cx, cy, ring = width / 2, height / 2, min(width, height) / 2 - 70
    pos = [(cx, cy)] + [(cx + ring * math.sin(2 * math.pi * i / len(rows)), cy - ring * math.cos(2 * math.pi * i / len(rows)))
                        for i in range(len(rows))]
    dfs = [term_df] + [r.df for r in rows]
    top = max(dfs) or 1

    def radius(df: int) -> float:
        return 6 + 22 * math.sqrt(df / top)

    def href(word: str) -> str:
        return "/articles?" + urlencode({"dataset": dataset, "q": word})

    parts = [f'<svg id="related-graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="related words of {escape(term)}">',
             f'<rect width="{width}" height="{height}" fill="#fcfcfc" stroke="#ddd"/>']
    for a, b, npmi in links:  # related words related to each other: thin grey
        (x1, y1), (x2, y2) = pos[a + 1], pos[b + 1]
        parts.append(f'<line class="link" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#bbb" '
                     f'stroke-width="{1 + 3 * npmi:.1f}" stroke-opacity="0.6"/>')
    for i, r in enumerate(rows, 1):
        (x, y) = pos[i]
        parts.append(f'<line class="edge" data-npmi="{r.npmi}" x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" '
                     f'stroke="#1f77b4" stroke-width="{1 + 7 * max(r.npmi, 0):.1f}" '
                     f'stroke-opacity="{0.25 + 0.75 * max(r.npmi, 0):.2f}"><title>{escape(term)} – {escape(r.term)}: '
                     f'NPMI {r.npmi:.3f}, {r.count} documents together</title></line>')
    for i, (word, df) in enumerate([(term, term_df)] + [(r.term, r.df) for r in rows]):
        (x, y), rad = pos[i], radius(df)
        fill = "#d62728" if i == 0 else "#ff7f0e"
        bold = ' font-weight="bold"' if i == 0 else ""
        parts.append(f'<a class="node" href="{escape(href(word))}" data-term="{escape(word)}">'
                     f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{rad:.1f}" fill="{fill}" fill-opacity="0.8">'
                     f'<title>{escape(word)}: {df} documents (click: search)</title></circle>'
                     f'<text x="{x:.1f}" y="{y + rad + 13:.1f}" text-anchor="middle" font-size="{14 if i == 0 else 12}"'
                     f'{bold}>{escape(word)}</text></a>')
    parts.append("</svg>")
    return "".join(parts)


def related_page(request: Request, store: Store, cache: Any, dataset: str) -> dict[str, Any]:
    p = request.query_params
    term = p.get("q", "").strip()
    filters = {k: p.get(k, "") for k in _FILTERS if p.get(k)}
    try:
        min_count = max(1, int(p.get("min_count", "3")))
    except ValueError:
        min_count = 3
    ctx: dict[str, Any] = {"term": term, "rows": [], "graph": "", "filters": filters, "summary": "",
                           "statistic": f"{STATISTIC} (min_count={min_count})", "min_count": min_count,
                           "trend": lambda w: "/trends?" + urlencode({"dataset": dataset, "q": w}),
                           "search": lambda w: "/articles?" + urlencode({"dataset": dataset, "q": w})}
    dt = cache.get(dataset)
    ctx["outlets"] = sorted(set(dt.meta["outlet"]) - {""})
    if not term:
        top = np.argsort(-dt.df, kind="stable")[:30]
        ctx["suggest"] = [dt.terms[j] for j in top]
        return ctx
    total, n_x, rows = related_words(dt, term, n=20, min_count=min_count, **filters)
    mask = dt.mask(**filters)
    links = _pair_npmi(dt, [dt.column(r.term) for r in rows], mask, min_count) if rows else []
    ctx.update(rows=rows, graph=graph_svg(term, n_x, rows, links, dataset),
               summary=f"{term}: in {n_x:,} of {total:,} documents" + (" (filtered)" if filters else ""))
    return ctx


