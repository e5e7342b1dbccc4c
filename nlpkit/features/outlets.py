"""Outlet comparison: who covers a term (or a story) how much, and which terms set an outlet apart.

- :func:`coverage`: per period (day/week/month) and outlet (or outlet group), the documents that hold
  the term (or belong to the story), the outlet's documents in that period, and the share
  ``docs_with / docs`` -- a share, so that an outlet that posts more does not look more interested.
- :func:`distinguishing_terms`: the log-odds ratio with an informative Dirichlet prior (Monroe,
  Colaresi & Quinn 2008, "Fightin' Words", eq. 16-22) of each term in one group against all
  other groups, over document counts (how many of the group's documents hold the term). The prior
  is the whole corpus's counts (alpha_w = the term's document count in all groups, alpha_0 their
  sum), which shrinks rare terms towards zero; terms are ranked by the z-score
  ``delta / sqrt(var)``, and |z| > 1.96 is the usual "distinguishes at 5%" reading.

>>> distinguishing_terms(dt, by="outlet_group", n=5)        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from nlpkit.errors import FeatureError
from nlpkit.features.docterms import DocTerms

__all__ = ["OUTLET_TERMS_SCHEMA", "STATISTIC", "coverage", "distinguishing_terms", "pick_freq"]

By = Literal["outlet", "outlet_group"]
STATISTIC = ("log-odds ratio with an informative Dirichlet prior (Monroe et al. 2008), z-score, over document "
             "counts; prior = the whole corpus's counts")
OUTLET_TERMS_SCHEMA = pa.schema([("by", pa.string()), ("group", pa.string()), ("term", pa.string()),
                                 ("rank", pa.int16()), ("z", pa.float32()), ("delta", pa.float32()),
                                 ("count", pa.int32()), ("count_rest", pa.int32())])
_BY = ("outlet", "outlet_group")


def _check_by(dt: DocTerms, by: str) -> np.ndarray:
    if by not in _BY:
        raise FeatureError(f"by must be one of {', '.join(_BY)}; got {by!r}")
    groups = dt.meta[by].to_numpy(dtype=object)
    if not any(groups):
        raise FeatureError(f"{dt.dataset} has no {by} column values; outlet comparison needs a dataset with "
                           "outlets (korean_press, articles)")
    return groups


def pick_freq(times: pd.Series) -> str:
    """``D``, ``W`` or ``M`` for a span of up to 60 days, 1 year, or more."""
    t = times.dropna()
    if t.empty:
        return "D"
    days = (t.max() - t.min()).days
    return "D" if days <= 60 else "W" if days <= 366 else "M"


def coverage(dt: DocTerms, *, term: str | None = None, members: Sequence[str] | None = None, by: By = "outlet",
             freq: str | None = None, mask: np.ndarray | None = None) -> pd.DataFrame:
    """Rows ``period, group, docs_with, docs, share`` for a ``term`` or a story's ``members`` (ids)."""
    groups = _check_by(dt, by)
    if (term is None) == (members is None):
        raise FeatureError("give either a term or a story's members")
    hit = np.zeros(len(dt.ids), bool)
    if term is not None:
        hit[dt.docs_with(dt.column(term))] = True
    else:
        row = {doc: i for i, doc in enumerate(dt.ids)}
        hit[[row[m] for m in members or () if m in row]] = True
    keep = dt.meta["time"].notna().to_numpy() & (groups != "")
    if mask is not None:
        keep &= mask
    if not keep.any():
        raise FeatureError(f"no dated documents with an {by} in {dt.dataset} (after the filters)")
    freq = freq or pick_freq(dt.meta["time"][keep])
    period = dt.meta["time"][keep].dt.tz_convert("Asia/Seoul").dt.tz_localize(None).dt.to_period(freq)
    frame = pd.DataFrame({"period": period.astype(str).to_numpy(), "group": groups[keep], "hit": hit[keep]})
    out = frame.groupby(["period", "group"], sort=True).agg(docs_with=("hit", "sum"), docs=("hit", "size"))
    out = out.reset_index()
    out["docs_with"] = out["docs_with"].astype(int)
    out["share"] = (out["docs_with"] / out["docs"]).round(4)
    return out


def distinguishing_terms(dt: DocTerms, *, by: By = "outlet", n: int = 15, min_count: int = 3,
                         mask: np.ndarray | None = None) -> pa.Table:
    """The ``n`` terms with the highest z-score for each group against the rest (see the module docstring)."""
    if not isinstance(n, int) or n < 1:
        raise FeatureError(f"n must be a positive integer; got {n!r}")
    groups = _check_by(dt, by)
    keep = groups != ""
    if mask is not None:
        keep &= mask
    names = sorted(set(groups[keep].tolist()))
    if len(names) < 2:
        raise FeatureError(f"outlet comparison needs at least two {by} values; found {names or 'none'}")
    X = dt.X.tocsr()
    counts = np.vstack([np.asarray(X[np.flatnonzero(keep & (groups == g))].sum(axis=0)).ravel() for g in names])
    total = counts.sum(axis=0)
    alpha = total.astype(np.float64)          # informative prior: the corpus's own counts
    a0 = alpha.sum()
    rows: list[dict[str, object]] = []
    for gi, g in enumerate(names):
        y_i = counts[gi].astype(np.float64)
        y_j = (total - counts[gi]).astype(np.float64)
        n_i, n_j = y_i.sum(), y_j.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = (np.log((y_i + alpha) / (n_i + a0 - y_i - alpha))
                     - np.log((y_j + alpha) / (n_j + a0 - y_j - alpha)))
            z = delta / np.sqrt(1.0 / (y_i + alpha) + 1.0 / (y_j + alpha))
        z = np.where((y_i >= min_count) & np.isfinite(z), z, -np.inf)
        top = np.argsort(-z, kind="stable")[:n]
        rows.extend({"by": by, "group": g, "term": dt.terms[j], "rank": r, "z": float(z[j]),
                     "delta": float(delta[j]), "count": int(y_i[j]), "count_rest": int(y_j[j])}
                    for r, j in enumerate((j for j in top if np.isfinite(z[j])), 1))
    return pa.Table.from_pylist(rows, schema=OUTLET_TERMS_SCHEMA)
