"""Term trends from the similarity index: documents mentioning a term per day/week, and bursts.

A document "mentions" a term when the term has a non-zero TF-IDF weight in it (its stored terms,
the index's vocabulary), so counts are document frequencies: one article saying "chip" ten
times counts once. Periods come from the corpus' ``time`` column.

The burst score of a term compares the last window (``days`` days ending at the newest
document) with the window before it::

    burst = log2( ((c_last + 0.5) / (n_last + 1))  /  ((c_prev + 0.5) / (n_prev + 1)) )

``c`` is how many documents of the window mention the term and ``n`` how many documents the
window holds; the +0.5 keeps a term new in the last window finite. A burst of 1 means the
share of documents mentioning it doubled. Terms in fewer than ``min_count`` documents of the
last window are left out (one article is not a trend).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nlpkit.ui.corpus import UiError

__all__ = ["Series", "Burst", "term_series", "bursts"]

Period = Literal["day", "week"]


@dataclass(frozen=True, slots=True)
class Series:
    """Documents mentioning the term(s) per period and group (outlet, or "all")."""

    terms: list[str]
    periods: list[str]
    counts: dict[str, list[int]]


@dataclass(frozen=True, slots=True)
class Burst:
    term: str
    last: int
    previous: int
    score: float


def _period_keys(times: pd.Series, period: Period) -> pd.Series:
    if period not in ("day", "week"):
        raise UiError(f"period {period!r}: use day or week")
    t = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return (t.dt.to_period("W-SUN").dt.start_time if period == "week" else t.dt.floor("D")).dt.strftime("%Y-%m-%d")


def term_series(matrix: sp.csr_matrix, columns: list[int], terms: list[str], times: pd.Series,
                groups: pd.Series | None, period: Period = "day") -> Series:
    """Per period (and group), how many documents mention any of the term columns ``columns``."""
    has_time = times.notna().to_numpy()
    if not has_time.any():
        raise UiError("this dataset has no publication times, so it has no trends; pick one with dates "
                      "(the scraped 'articles')")
    if columns:
        hit = np.asarray((matrix[:, columns] > 0).sum(axis=1)).ravel() > 0
    else:
        hit = np.zeros(matrix.shape[0], bool)
    keys = _period_keys(times[has_time], period)
    frame = pd.DataFrame({"period": keys.to_numpy(), "hit": hit[has_time].astype(int),
                          "group": (groups[has_time].replace("", "(unknown)") if groups is not None
                                    else pd.Series("all", index=keys.index)).to_numpy()})
    first, last = pd.Timestamp(min(frame["period"])), pd.Timestamp(max(frame["period"]))
    periods = [d.strftime("%Y-%m-%d") for d in pd.date_range(first, last, freq="7D" if period == "week" else "D")]
    table = frame.pivot_table(index="period", columns="group", values="hit", aggfunc="sum", fill_value=0)
    table = table.reindex(periods, fill_value=0)
    counts = {str(g): [int(v) for v in table[g].tolist()] for g in table.columns}
    return Series(list(terms), periods, counts)


def bursts(matrix: sp.csr_matrix, vocabulary: list[str], times: pd.Series, days: int = 7, top: int = 20,
           min_count: int = 2) -> tuple[list[Burst], str]:
    """Terms rising fastest in the last ``days`` against the ``days`` before (see the module docstring).

    Returns the terms and a sentence saying which windows were compared.
    """
    if days < 1:
        raise UiError(f"window of {days} days: use 1 or more")
    t = times.to_numpy(dtype="datetime64[ns]") if times.notna().any() else None
    if t is None:
        raise UiError("this dataset has no publication times, so it has no bursts")
    end = pd.Timestamp(times.max())
    last_start = end - pd.Timedelta(days=days)
    prev_start = last_start - pd.Timedelta(days=days)
    tt = times
    last = (tt > last_start) & (tt <= end)
    prev = (tt > prev_start) & (tt <= last_start)
    n_last, n_prev = int(last.sum()), int(prev.sum())
    if n_prev == 0 or n_last == 0:
        raise UiError(f"no documents in the {'previous' if n_last else 'last'} {days} days before "
                      f"{end:%Y-%m-%d}: choose a longer window")
    X = (matrix > 0).astype(np.int32).tocsr()
    c_last = np.asarray(X[last.to_numpy()].sum(axis=0)).ravel()
    c_prev = np.asarray(X[prev.to_numpy()].sum(axis=0)).ravel()
    score = np.log2((c_last + 0.5) / (n_last + 1)) - np.log2((c_prev + 0.5) / (n_prev + 1))
    keep = np.flatnonzero(c_last >= min_count)
    order = keep[np.lexsort((keep, -c_last[keep], -score[keep]))][:top]
    note = (f"last {days} days ({last_start:%Y-%m-%d} to {end:%Y-%m-%d}, {n_last} documents) against the "
            f"{days} days before ({n_prev} documents)")
    return [Burst(vocabulary[i], int(c_last[i]), int(c_prev[i]), round(float(score[i]), 2)) for i in order], note
