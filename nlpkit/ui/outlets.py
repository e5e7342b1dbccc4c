"""The outlets page: distinguishing terms per outlet or outlet group, and a term's coverage share over time."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from nlpkit.features.outlets import STATISTIC, coverage, distinguishing_terms
from nlpkit.store import Store
from nlpkit.ui.charts import lines_svg
from nlpkit.ui.corpus import UiError

__all__ = ["outlets_page"]


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
        chart = lines_svg([str(x) for x in wide.index], {str(c): [round(100 * v, 1) for v in wide[c]] for c in wide.columns},
                          x_title="period (KST)", y_title="% of the outlet's documents", svg_id="share-chart", unit="%")
        totals = frame.groupby("group")[["docs_with", "docs"]].sum()
        shares = [(g, int(r.docs_with), int(r.docs)) for g, r in totals.iterrows()]
    return {"term": term, "by": by, "groups": groups, "chart": chart, "shares": shares, "filters": filters,
            "statistic": STATISTIC + "; |z| > 1.96 distinguishes at 5%"}
