"""Keywords: the top TF-IDF terms of each document and of each group (label, cluster).

>>> table = doc_keywords(X, terms, ids, n=5)        # doctest: +SKIP
>>> table.column_names
['scope', 'key', 'term', 'weight', 'rank']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from nlpkit.errors import FeatureError

__all__ = ["KEYWORD_SCHEMA", "doc_keywords", "group_keywords", "top_terms"]

KEYWORD_SCHEMA = pa.schema([("scope", pa.string()), ("key", pa.string()), ("term", pa.string()),
                            ("weight", pa.float32()), ("rank", pa.int16())])


def _check_n(n: int) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise FeatureError(f"number of keywords must be a positive integer; got {n!r}")


def top_terms(weights: np.ndarray, terms: np.ndarray, n: int) -> list[tuple[str, float]]:
    """The ``n`` largest positive entries of a dense weight vector as ``(term, weight)``, best first."""
    _check_n(n)
    pos = np.flatnonzero(weights > 0)
    if pos.size > n:
        pos = pos[np.argpartition(-weights[pos], n - 1)[:n]]
    pos = pos[np.lexsort((pos, -weights[pos]))]
    return [(str(terms[j]), float(weights[j])) for j in pos]


def doc_keywords(X: sp.spmatrix, terms: Sequence[str], ids: Sequence[str], n: int = 10) -> pa.Table:
    """Top-``n`` terms of every row of ``X`` (``scope="doc"``); documents without terms give no rows."""
    _check_n(n)
    X = sp.csr_matrix(X)
    if X.shape != (len(ids), len(terms)):
        raise FeatureError(f"matrix shape {X.shape} does not match {len(ids)} ids x {len(terms)} terms")
    term_arr = np.asarray(terms, dtype=object)
    keys: list[str] = []
    out_terms: list[str] = []
    weights: list[float] = []
    ranks: list[int] = []
    for r in range(X.shape[0]):
        lo, hi = X.indptr[r], X.indptr[r + 1]
        if lo == hi:
            continue
        cols, vals = X.indices[lo:hi], X.data[lo:hi]
        order = np.lexsort((cols, -vals))[:n]
        keys.extend([ids[r]] * order.size)
        out_terms.extend(term_arr[cols[order]].tolist())
        weights.extend(vals[order].tolist())
        ranks.extend(range(1, order.size + 1))
    return pa.table({"scope": ["doc"] * len(keys), "key": keys, "term": out_terms,
                     "weight": np.asarray(weights, np.float32), "rank": np.asarray(ranks, np.int16)},
                    schema=KEYWORD_SCHEMA)


def group_keywords(X: sp.spmatrix, terms: Sequence[str], groups: Sequence[object], scope: str,
                   n: int = 10) -> pa.Table:
    """Top-``n`` terms of each group's mean TF-IDF vector (``scope`` names the grouping: label, cluster)."""
    _check_n(n)
    X = sp.csr_matrix(X)
    groups_arr = np.asarray([str(g) for g in groups], dtype=object)
    if groups_arr.shape[0] != X.shape[0]:
        raise FeatureError(f"{len(groups_arr)} group values for {X.shape[0]} documents")
    term_arr = np.asarray(terms, dtype=object)
    rows = []
    for g in sorted(set(groups_arr.tolist())):
        mask = groups_arr == g
        mean = np.asarray(X[mask].mean(axis=0)).ravel()
        for rank, (term, w) in enumerate(top_terms(mean, term_arr, n), start=1):
            rows.append({"scope": scope, "key": g, "term": term, "weight": w, "rank": rank})
    return pa.Table.from_pylist(rows, schema=KEYWORD_SCHEMA)
