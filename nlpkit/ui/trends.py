"""Term trends from the similarity index: documents mentioning a term per day/week/month, and bursts.

A document "mentions" a term when the term has a non-zero TF-IDF weight in it (its stored terms,
the index's vocabulary), so counts are document frequencies: one article saying "chip" ten
times counts once. Periods come from the corpus' ``time`` column.

The axis covers the *dense* range of dates: documents more than ``3 x IQR`` (at least 7 days) outside
the quartiles of the publication dates are outliers, listed apart, when they are at most 5 % of the
documents (one 2014 article must not stretch a 2019 axis to five years). The bucket follows the dense
span unless asked for: ``day`` up to 62 days, ``week`` up to 104 weeks, else ``month``.

The burst score of a term compares the last window (``days`` days ending at the newest
document) with the window before it::

    burst = log2( ((c_last + 0.5) / (n_last + 1))  /  ((c_prev + 0.5) / (n_prev + 1)) )

``c`` is how many documents of the window mention the term and ``n`` how many documents the
window holds; the +0.5 keeps a term new in the last window finite. A burst of 1 means the
share of documents mentioning it doubled. Terms in fewer than ``min_count`` documents of the
last window are left out (one article is not a trend).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nlpkit.ui.corpus import UiError

__all__ = ["PERIODS", "Series", "Burst", "bursts", "choose_period", "dense_range", "rankable", "term_series"]

Period = Literal["auto", "day", "week", "month"]
PERIODS = ("auto", "day", "week", "month")
_FREQ = {"day": "D", "week": "7D", "month": "MS"}


@dataclass(frozen=True, slots=True)
class Series:
    """Documents mentioning the term(s) per period and group (outlet, or "all")."""

    terms: list[str]
    periods: list[str]
    counts: dict[str, list[int]]
    period: str = "day"  # the bucket used (chosen from the dense span when asked for "auto")
    outliers: list[tuple[str, int, int]] = field(default_factory=list)  # (date, documents, mentioning) off the axis


@dataclass(frozen=True, slots=True)
class Burst:
    term: str
    last: int
    previous: int
    score: float


def _period_keys(times: pd.Series, period: str) -> pd.Series:
    t = times.dt.tz_convert("UTC").dt.tz_localize(None)
    if period == "week":
        start = t.dt.to_period("W-SUN").dt.start_time
    elif period == "month":
        start = t.dt.to_period("M").dt.start_time
    else:
        start = t.dt.floor("D")
    return start.dt.strftime("%Y-%m" if period == "month" else "%Y-%m-%d")


def dense_range(times: pd.Series, max_share: float = 0.05) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last time of the dense range (see the module docstring); all of it when the tails are
    more than ``max_share`` of the documents (then they are not outliers but the data)."""
    t = times.dropna().sort_values()
    q1, q3 = t.quantile(0.25), t.quantile(0.75)
    fence = max(3 * (q3 - q1), pd.Timedelta(days=7))
    inside = t[(t >= q1 - fence) & (t <= q3 + fence)]
    if len(t) - len(inside) > max_share * len(t) or inside.empty:
        return t.iloc[0], t.iloc[-1]
    return inside.iloc[0], inside.iloc[-1]


def choose_period(first: pd.Timestamp, last: pd.Timestamp) -> str:
    """``day`` for a span up to 62 days, ``week`` up to 104 weeks, else ``month``."""
    days = (last - first).days
    return "day" if days <= 62 else "week" if days <= 7 * 104 else "month"


def term_series(matrix: sp.csr_matrix, columns: list[int], terms: list[str], times: pd.Series,
                groups: pd.Series | None, period: Period = "auto") -> Series:
    """Per period (and group), how many documents mention any of the term columns ``columns``, over the dense
    range of dates; the documents outside it are counted per date in ``outliers``."""
    if period not in PERIODS:
        raise UiError(f"period {str(period)[:20]!r}: use {', '.join(PERIODS)}")
    has_time = times.notna().to_numpy()
    if not has_time.any():
        raise UiError("this dataset has no publication times, so it has no trends; pick one with dates "
                      "(the scraped 'articles')")
    if columns:
        hit = np.asarray((matrix[:, columns] > 0).sum(axis=1)).ravel() > 0
    else:
        hit = np.zeros(matrix.shape[0], bool)
    first_t, last_t = dense_range(times[has_time])
    inside = has_time & (times >= first_t).to_numpy() & (times <= last_t).to_numpy()
    off = has_time & ~inside
    outliers = []
    if off.any():
        days = times[off].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d").to_numpy()
        for day in sorted(set(days)):
            at = days == day
            outliers.append((str(day), int(at.sum()), int(hit[off][at].sum())))
    has_time = inside
    if period == "auto":
        period = choose_period(first_t, last_t)  # type: ignore[assignment]
    keys = _period_keys(times[has_time], period)
    frame = pd.DataFrame({"period": keys.to_numpy(), "hit": hit[has_time].astype(int),
                          "group": (groups[has_time].replace("", "(unknown)") if groups is not None
                                    else pd.Series("all", index=keys.index)).to_numpy()})
    first, last = pd.Timestamp(min(frame["period"])), pd.Timestamp(max(frame["period"]))
    fmt = "%Y-%m" if period == "month" else "%Y-%m-%d"
    periods = [d.strftime(fmt) for d in pd.date_range(first, last, freq=_FREQ[period])]
    table = frame.pivot_table(index="period", columns="group", values="hit", aggfunc="sum", fill_value=0)
    table = table.reindex(periods, fill_value=0)
    counts = {str(g): [int(v) for v in table[g].tolist()] for g in table.columns}
    return Series(list(terms), periods, counts, str(period), outliers)


def rankable(term: str) -> bool:
    """The interim term view for "rising" terms until the terms spec's content-word view is passed as
    ``keep_term``: a word of two or more characters with a letter, not an English clitic (``'s``, ``n't``).

    >>> [t for t in ["'s", "n't", "—", "x", "chip", "반도체", "2024"] if rankable(t)]
    ['chip', '반도체']
    """
    word = term.strip()
    return (len(word) >= 2 and any(ch.isalpha() for ch in word) and not word.startswith("'")
            and not word.endswith("n't") and not word.isdigit())


def bursts(matrix: sp.csr_matrix, vocabulary: list[str], times: pd.Series, days: int = 7, top: int = 20,
           min_count: int = 2, keep_term: Callable[[str], bool] | None = None) -> tuple[list[Burst], str]:
    """Terms rising fastest in the last ``days`` against the ``days`` before (see the module docstring).

    ``keep_term`` is the hook for the analyst's term view (content words only: nouns, names, numbers): terms
    it refuses are never ranked. Returns the terms and a sentence saying which windows were compared.
    """
    if days < 1:
        raise UiError(f"window of {days} days: use 1 or more")
    t = times.to_numpy(dtype="datetime64[ns]") if times.notna().any() else None
    if t is None:
        raise UiError("this dataset has no publication times, so it has no bursts")
    end = pd.Timestamp(dense_range(times)[1])  # the newest date of the dense range: a mis-dated 2030 page is no "now"
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
    if keep_term is not None:
        keep = keep[np.fromiter((keep_term(vocabulary[i]) for i in keep), bool, keep.size)]
    order = keep[np.lexsort((keep, -c_last[keep], -score[keep]))][:top]
    note = (f"last {days} days ({last_start:%Y-%m-%d} to {end:%Y-%m-%d}, {n_last} documents) against the "
            f"{days} days before ({n_prev} documents); terms in at least {min_count} documents of the last window")
    return [Burst(vocabulary[i], int(c_last[i]), int(c_prev[i]), round(float(score[i]), 2)) for i in order], note
