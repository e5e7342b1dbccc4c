"""Exact cosine top-k neighbours: all pairs of a corpus, or queries against it; and Jaccard.

Engines (``engine=``):

- ``"numba"`` (default when numba is installed): row blocks times the CSR transpose into one
  dense accumulator per thread, symmetric for all pairs (half the multiply-adds), threads
  over blocks; memory is the matrix, its transpose and ``O(n * k)`` per thread.
- ``"sparse_dot_topn"``: ``sp_matmul_topn`` on row chunks (the well-kept C++ library).
- ``"brute"``: ``cosine_similarity`` on row blocks plus ``argpartition``: the naive reference.

Every engine returns the same neighbours (ties aside): positive scores only, best first,
the document itself excluded. A zero vector (empty document, no known term) has no
neighbours: its slots hold index ``-1`` and score ``0``, never NaN.

>>> nb = topk_cosine(X, k=10)                              # doctest: +SKIP
>>> nb.indices[0], nb.scores[0]                            # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from nlpkit.errors import FeatureError

__all__ = ["Engine", "ENGINES", "Neighbours", "topk_cosine", "topk_query", "jaccard", "jaccard_topk",
           "prepare_matrix"]

Engine = Literal["auto", "numba", "sparse_dot_topn", "brute"]
ENGINES: tuple[str, ...] = ("auto", "numba", "sparse_dot_topn", "brute")
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Neighbours:
    """``indices[i, r]`` is row ``i``'s ``r``-th best neighbour (``-1``: none), ``scores`` its cosine."""

    indices: np.ndarray
    scores: np.ndarray

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])

    def to_table(self, ids: Sequence[str], neighbour_ids: Sequence[str] | None = None) -> pa.Table:
        """Long table ``doc, neighbour, score, rank`` (rank 1 = best); empty slots are left out."""
        ids_arr = np.asarray(ids, dtype=object)
        nb_arr = ids_arr if neighbour_ids is None else np.asarray(neighbour_ids, dtype=object)
        rows, ranks = np.nonzero(self.indices >= 0)
        return pa.table({
            "doc": pa.array(ids_arr[rows].tolist(), pa.string()),
            "neighbour": pa.array(nb_arr[self.indices[rows, ranks]].tolist(), pa.string()),
            "score": pa.array(self.scores[rows, ranks].astype(np.float32)),
            "rank": pa.array((ranks + 1).astype(np.int16)),
        })


def prepare_matrix(X: sp.spmatrix | np.ndarray, *, normalize: bool = True) -> sp.csr_matrix:
    """CSR float32 with sorted indices, explicit zeros dropped, rows L2-normalized (zero rows stay 0)."""
    if not sp.issparse(X):
        X = sp.csr_matrix(np.asarray(X))
    X = sp.csr_matrix(X, dtype=np.float32, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    if X.nnz and (not np.isfinite(X.data).all() or X.data.min() < 0):
        raise FeatureError("cosine top-k expects finite, non-negative weights (TF-IDF, counts); "
                           "got negative or non-finite values: use a TF-IDF matrix")
    if normalize and X.nnz:
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        X = sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ X, dtype=np.float32)
        X.sort_indices()
    return X


def _check_k(k: int, n: int) -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise FeatureError(f"k must be a positive integer; got {k!r}")
    return int(min(k, max(n, 1)))


def _resolve(engine: str) -> str:
    if engine not in ENGINES:
        raise FeatureError(f"unknown similarity engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if engine != "auto":
        return engine
    try:
        import numba  # noqa: F401
    except ImportError:
        try:
            import sparse_dot_topn  # noqa: F401
        except ImportError:
            return "brute"
        return "sparse_dot_topn"
    return "numba"


def _kernel():  # type: ignore[no-untyped-def]
    try:
        from nlpkit.features import _kernel
    except ImportError:
        raise ImportError("engine 'numba' requires numba: pip install 'nlpkit[features]'") from None
    return _kernel


def _empty(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((n, k), -1, np.int32), np.zeros((n, k), np.float32)


def topk_cosine(X: sp.spmatrix, k: int = 10, *, engine: Engine = "auto", n_threads: int = 2,
                block_rows: int = 256, normalize: bool = True, progress: Progress | None = None) -> Neighbours:
    """All-pairs top-``k`` cosine neighbours of the rows of ``X`` (each row against all others).

    Parameters
    ----------
    X : sparse matrix, shape (n_docs, n_terms)
        Non-negative weights (TF-IDF); rows are L2-normalized here unless ``normalize=False``.
    k : int
        Neighbours per row; a ``k`` above ``n_docs - 1`` leaves the extra slots empty.
    engine : {"auto", "numba", "sparse_dot_topn", "brute"}
        See the module docstring; all give the same neighbours.
    n_threads : int
        Worker threads (the kernels release the GIL).
    block_rows : int
        Rows per work unit: memory is bounded by it, not by ``n_docs``.
    progress : callable, optional
        Called with the number of rows finished after each block.
    """
    n = X.shape[0]
    kk = _check_k(k, n)
    X = prepare_matrix(X, normalize=normalize)
    which = _resolve(engine)
    if which == "numba":
        idx, val = _self_numba(X, kk, n_threads, block_rows, progress)
    elif which == "sparse_dot_topn":
        idx, val = _query_sdt(X, X, kk, n_threads, max(block_rows, 1000), progress, exclude_self=True)
    else:
        idx, val = _query_brute(X, X, kk, max(block_rows, 1000), progress, exclude_self=True)
    if kk < k:  # k larger than the corpus: pad with empty slots
        pad_i, pad_v = _empty(n, k - kk)
        idx, val = np.hstack([idx, pad_i]), np.hstack([val, pad_v])
    return Neighbours(idx, val)


def topk_query(Q: sp.spmatrix, X: sp.spmatrix, k: int = 10, *, engine: Engine = "auto", n_threads: int = 1,
               block_rows: int = 256, normalize: bool = True, progress: Progress | None = None) -> Neighbours:
    """Top-``k`` rows of ``X`` for each row of ``Q`` (same columns); nothing is excluded."""
    if Q.shape[1] != X.shape[1]:
        raise FeatureError(f"query has {Q.shape[1]} columns but the corpus has {X.shape[1]}: "
                           "vectorize queries with the corpus' own fitted TF-IDF")
    kk = _check_k(k, X.shape[0])
    Q = prepare_matrix(Q, normalize=normalize)
    X = prepare_matrix(X, normalize=normalize)
    which = _resolve(engine)
    if which == "numba":
        idx, val = _query_numba(Q, X, kk, n_threads, block_rows, progress)
    elif which == "sparse_dot_topn":
        idx, val = _query_sdt(Q, X, kk, n_threads, max(block_rows, 1000), progress, exclude_self=False)
    else:
        idx, val = _query_brute(Q, X, kk, max(block_rows, 1000), progress, exclude_self=False)
    if kk < k:
        pad_i, pad_v = _empty(Q.shape[0], k - kk)
        idx, val = np.hstack([idx, pad_i]), np.hstack([val, pad_v])
    return Neighbours(idx, val)


# -- engines -------------------------------------------------------------------------------------
def _blocks(n: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, n)) for a in range(0, n, max(1, size))]


def _self_numba(X: sp.csr_matrix, k: int, n_threads: int, block_rows: int,
                progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    kern = _kernel()
    n = X.shape[0]
    XT = X.T.tocsr()
    XT.sort_indices()
    row_idx, row_val = _empty(n, k)
    local = threading.local()
    columns: list[tuple[np.ndarray, np.ndarray]] = []
    lock = threading.Lock()

    def work(block: tuple[int, int]) -> int:
        a, b = block
        if not hasattr(local, "cols"):
            local.cols = (*_empty(n, k), np.zeros(n, np.float32))
            with lock:
                columns.append(local.cols)
        kern.topk_self_block(X.indptr, X.indices, X.data, XT.indptr, XT.indices, XT.data, n, a, b, k,
                             row_idx[a:b], row_val[a:b], *local.cols)
        return b - a

    _run_blocks(work, _blocks(n, block_rows), n_threads, progress)
    cand_idx = np.hstack([row_idx, *(c[0] for c in columns)])
    cand_val = np.hstack([row_val, *(c[1] for c in columns)])
    out_idx, out_val = _empty(n, k)
    kern.merge_lists(cand_idx, cand_val, k, out_idx, out_val)
    return out_idx, out_val


def _query_numba(Q: sp.csr_matrix, X: sp.csr_matrix, k: int, n_threads: int, block_rows: int,
                 progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    kern = _kernel()
    XT = X.T.tocsr()
    XT.sort_indices()
    idx, val = _empty(Q.shape[0], k)

    def work(block: tuple[int, int]) -> int:
        a, b = block
        kern.topk_rows(Q.indptr, Q.indices, Q.data, XT.indptr, XT.indices, XT.data, X.shape[0],
                       a, b, k, -1, idx[a:b], val[a:b])
        return b - a

    _run_blocks(work, _blocks(Q.shape[0], block_rows), n_threads, progress)
    return idx, val


def _run_blocks(work: Callable[[tuple[int, int]], int], blocks: list[tuple[int, int]], n_threads: int,
                progress: Progress | None) -> None:
    if n_threads < 1:
        raise FeatureError(f"n_threads must be >= 1; got {n_threads!r}")
    if n_threads == 1:
        for blk in blocks:
            done = work(blk)
            if progress:
                progress(done)
        return
    with ThreadPoolExecutor(n_threads) as ex:
        for done in ex.map(work, blocks):
            if progress:
                progress(done)


def _select(block: np.ndarray, k: int, offset: int, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of a dense score block by argpartition, then sorted (score desc, index asc)."""
    rows = block.shape[0]
    if exclude_self:
        block[np.arange(rows), np.arange(offset, offset + rows)] = 0.0
    kk = min(k, block.shape[1])
    part = np.argpartition(-block, kk - 1, axis=1)[:, :kk] if kk < block.shape[1] else \
        np.tile(np.arange(block.shape[1]), (rows, 1))
    vals = np.take_along_axis(block, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    part = np.take_along_axis(part, order, axis=1).astype(np.int32)
    vals = np.take_along_axis(vals, order, axis=1).astype(np.float32)
    part[vals <= 0] = -1
    vals[vals <= 0] = 0.0
    idx, val = _empty(rows, k)
    idx[:, :kk], val[:, :kk] = part, vals
    return idx, val


def _query_brute(Q: sp.csr_matrix, X: sp.csr_matrix, k: int, block_rows: int, progress: Progress | None,
                 *, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.metrics.pairwise import cosine_similarity

    parts = []
    for a, b in _blocks(Q.shape[0], block_rows):
        block = cosine_similarity(Q[a:b], X, dense_output=True).astype(np.float32)
        parts.append(_select(block, k, a, exclude_self))
        if progress:
            progress(b - a)
    return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])


def _query_sdt(Q: sp.csr_matrix, X: sp.csr_matrix, k: int, n_threads: int, block_rows: int,
               progress: Progress | None, *, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    try:
        from sparse_dot_topn import sp_matmul_topn
    except ImportError:
        raise ImportError("engine 'sparse_dot_topn' requires sparse_dot_topn: pip install 'nlpkit[features]'") from None
    XT = X.T.tocsr()
    idx, val = _empty(Q.shape[0], k)
    extra = 1 if exclude_self else 0
    for a, b in _blocks(Q.shape[0], block_rows):
        C = sp_matmul_topn(Q[a:b], XT, top_n=k + extra, n_threads=n_threads, sort=True)
        C = C.tocsr()
        for r in range(b - a):
            lo, hi = C.indptr[r], C.indptr[r + 1]
            cols, vals = C.indices[lo:hi], C.data[lo:hi]
            keep = (vals > 0) & ((cols != a + r) if exclude_self else True)
            cols, vals = cols[keep], vals[keep]
            order = np.lexsort((cols, -vals))[:k]
            idx[a + r, : order.size] = cols[order]
            val[a + r, : order.size] = vals[order]
        if progress:
            progress(b - a)
    return idx, val


# -- Jaccard -----------------------------------------------------------------------------------
def jaccard(a: Sequence[str] | set[str], b: Sequence[str] | set[str]) -> float:
    """|A ∩ B| / |A ∪ B| of two token sets; two empty sets give 0.0 (not NaN)."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return len(sa & sb) / union if union else 0.0


def jaccard_topk(X: sp.spmatrix, k: int = 10) -> Neighbours:
    """All-pairs top-``k`` Jaccard similarity of the *binary* rows of ``X`` (token sets), brute force by blocks."""
    B = sp.csr_matrix(X, dtype=np.float32, copy=True)
    B.eliminate_zeros()
    B.data[:] = 1.0
    n = B.shape[0]
    kk = _check_k(k, n)
    sizes = np.asarray(B.sum(axis=1)).ravel()
    parts = []
    for a, b in _blocks(n, 1000):
        inter = (B[a:b] @ B.T).toarray()
        union = sizes[a:b, None] + sizes[None, :] - inter
        sim = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0).astype(np.float32)
        parts.append(_select(sim, kk, a, True))
    idx, val = np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])
    if kk < k:
        pad_i, pad_v = _empty(n, k - kk)
        idx, val = np.hstack([idx, pad_i]), np.hstack([val, pad_v])
    return Neighbours(idx, val)
