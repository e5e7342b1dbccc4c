"""Related words (연관어): the terms that occur in the same documents as a term more often than chance.

The statistic, over documents (optionally only those in a date range, of an outlet, a label or an
outlet group): with N documents, n_x holding the term, n_y holding the candidate and n_xy both,

    PMI(x, y)  = log2( n_xy * N / (n_x * n_y) )
    NPMI(x, y) = PMI(x, y) / -log2(n_xy / N)          in [-1, 1]; 1 = always together

Candidates need ``n_xy >= min_count`` (default 3: a pair seen once or twice says nothing) and are
ranked by NPMI (PMI alone favours rare terms), then by n_xy. The score and the minimum count are
printed with every answer. A query gathers the posting list of the term (CSC column), sums those
documents' rows, and divides: no pass over the whole corpus unless a filter needs the candidates'
frequencies inside the filter.

>>> related_words(dt, "대통령", min_count=3, n=5)               # doctest: +SKIP
[Related(term='문재인', count=41, df=77, pmi=2.1, npmi=0.42), ...]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from nlpkit.errors import FeatureError
from nlpkit.features.docterms import DocTerms

__all__ = ["RELATED_SCHEMA", "Related", "STATISTIC", "related_table", "related_words"]

STATISTIC = "NPMI over documents (PMI / -log2 p(x,y)), pairs seen in at least min_count documents"
RELATED_SCHEMA = pa.schema([("dataset", pa.string()), ("term", pa.string()), ("related", pa.string()),
                            ("rank", pa.int16()), ("count", pa.int32()), ("df", pa.int32()),
                            ("term_df", pa.int32()), ("pmi", pa.float32()), ("npmi", pa.float32())])


@dataclass(frozen=True, slots=True)
class Related:
    """One related word: documents with both (``count``), documents with it (``df``), PMI and NPMI."""

    term: str
    count: int
    df: int
    pmi: float
    npmi: float


def related_words(dt: DocTerms, term: str, *, n: int = 20, min_count: int = 3, since: str | None = None,
                  until: str | None = None, outlet: str | None = None, label: str | None = None,
                  group: str | None = None) -> tuple[int, int, list[Related]]:
    """``(documents considered, documents with term, related words best first)`` for ``term``."""
    if not isinstance(n, int) or n < 1:
        raise FeatureError(f"n must be a positive integer; got {n!r}")
    if not isinstance(min_count, int) or min_count < 1:
        raise FeatureError(f"min_count must be an integer >= 1; got {min_count!r}")
    j = dt.column(term)
    mask = dt.mask(since=since, until=until, outlet=outlet, label=label, group=group)
    rows = dt.docs_with(j)
    if mask is None:
        total, df = len(dt.ids), dt.df
    else:
        rows = rows[mask[rows]]
        total = int(mask.sum())
        df = None  # computed below, only for the candidates
    n_x = rows.size
    if n_x == 0 or total == 0:
        return total, 0, []
    co = np.asarray(dt.X[rows].sum(axis=0)).ravel().astype(np.int64)
    co[j] = 0
    cand = np.flatnonzero(co >= min_count)
    if cand.size == 0:
        return total, n_x, []
    n_xy = co[cand].astype(np.float64)
    if df is None:
        sub = dt.csc[:, cand]
        n_y = np.asarray(sub[np.flatnonzero(mask)].sum(axis=0)).ravel().astype(np.float64)
    else:
        n_y = df[cand].astype(np.float64)
    pmi = np.log2(n_xy * total / (n_x * n_y))
    p_xy = n_xy / total
    with np.errstate(divide="ignore", invalid="ignore"):
        npmi = np.where(p_xy < 1.0, pmi / -np.log2(p_xy), 1.0)
    order = np.lexsort((cand, -n_xy, -npmi))[:n]
    out = [Related(dt.terms[cand[i]], int(n_xy[i]), int(n_y[i]), round(float(pmi[i]), 4), round(float(npmi[i]), 4))
           for i in order]
    return total, n_x, out


def related_table(dt: DocTerms, *, top_terms: int = 300, n: int = 20, min_count: int = 3) -> pa.Table:
    """Related words of the ``top_terms`` most frequent terms (table ``related_words`` of ``analysis_<dataset>``)."""
    top = np.argsort(-dt.df, kind="stable")[:top_terms]
    rows: list[dict[str, object]] = []
    for j in top:
        if dt.df[j] < min_count:
            continue
        _, n_x, rel = related_words(dt, dt.terms[j], n=n, min_count=min_count)
        rows.extend({"dataset": dt.dataset, "term": dt.terms[j], "related": r.term, "rank": k, "term_df": n_x,
                     **{key: v for key, v in asdict(r).items() if key != "term"}} for k, r in enumerate(rel, 1))
    return pa.Table.from_pylist(rows, schema=RELATED_SCHEMA)
