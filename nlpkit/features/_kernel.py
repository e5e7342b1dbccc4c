"""Numba kernels of the exact top-k cosine search (imported lazily; compiled on first use, cached).

Both kernels multiply sparse rows by a CSR *transpose* (one posting list per term) into one
dense float32 accumulator per worker, then keep the ``k`` best columns with an insertion
list: no branch in the multiply-add loop, no dense score block in memory.

``topk_self_block`` exploits symmetry for all pairs of one matrix: a block of rows
``[a, b)`` only visits columns ``j >= a``; scores for ``j >= b`` are also offered to row
``j``'s own top-k through per-worker *column lists*, merged at the end. That halves the
multiply-adds against computing ``X @ X.T`` in full.

Weights must be non-negative (TF-IDF): an accumulator entry of 0 means "no shared term".
Ties are broken towards the smaller column index.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["topk_rows", "topk_self_block", "merge_lists"]


@numba.njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _offer(vals, idx, r, k, v, j):  # pragma: no cover - compiled
    """Insert (v, j) into row ``r`` of the descending lists ``vals``/``idx`` if it ranks in the top k."""
    last_v = vals[r, k - 1]
    last_i = idx[r, k - 1]
    if v < last_v or (v == last_v and last_i != -1 and j > last_i):
        return
    pos = k - 1
    while pos > 0:
        pv = vals[r, pos - 1]
        pi = idx[r, pos - 1]
        if pv > v or (pv == v and pi != -1 and pi < j):
            break
        vals[r, pos] = pv
        idx[r, pos] = pi
        pos -= 1
    vals[r, pos] = v
    idx[r, pos] = j


@numba.njit(nogil=True, cache=True, boundscheck=False)
def topk_rows(a_indptr, a_indices, a_data, bt_indptr, bt_indices, bt_data, n_cols,
              row0, row1, k, self_offset, out_idx, out_val):  # pragma: no cover - compiled
    """Top-``k`` columns of ``A[row0:row1] @ B.T`` per row into ``out_*[i - row0]`` (pre-filled -1 / 0).

    Column ``i + self_offset`` is skipped for row ``i`` when ``self_offset >= 0``.
    """
    acc = np.zeros(n_cols, np.float32)
    for i in range(row0, row1):
        for p in range(a_indptr[i], a_indptr[i + 1]):
            t = a_indices[p]
            w = a_data[p]
            for q in range(bt_indptr[t], bt_indptr[t + 1]):
                acc[bt_indices[q]] += w * bt_data[q]
        me = i + self_offset if self_offset >= 0 else -1
        r = i - row0
        for j in range(n_cols):
            v = acc[j]
            if v == 0.0:
                continue
            acc[j] = 0.0
            if j != me and v > 0.0:
                _offer(out_val, out_idx, r, k, v, j)


@numba.njit(nogil=True, cache=True, boundscheck=False)
def topk_self_block(indptr, indices, data, t_indptr, t_indices, t_data, n, a, b, k,
                    row_idx, row_val, col_idx, col_val, col_min):  # pragma: no cover - compiled
    """Rows ``[a, b)`` of the all-pairs top-k of ``X`` against columns ``j >= a`` (see module doc).

    ``row_*`` (``b - a`` rows) receive each row's best among ``j >= a``; ``col_*`` (``n`` rows,
    this worker's own) receive, for every ``j >= b``, its best among the rows of this block.
    ``col_min[j]`` mirrors ``col_val[j, k - 1]`` in one contiguous array, so the scan over
    columns reads 4 bytes per column instead of a strided row of the lists.
    """
    acc = np.zeros(n, np.float32)
    for i in range(a, b):
        for p in range(indptr[i], indptr[i + 1]):
            t = indices[p]
            w = data[p]
            lo = t_indptr[t]
            hi = t_indptr[t + 1]
            end = hi
            while lo < hi:  # first posting with column >= a (posting lists are sorted)
                mid = (lo + hi) >> 1
                if t_indices[mid] < a:
                    lo = mid + 1
                else:
                    hi = mid
            for q in range(lo, end):
                acc[t_indices[q]] += w * t_data[q]
        r = i - a
        for j in range(a, n):
            v = acc[j]
            if v == 0.0:
                continue
            acc[j] = 0.0
            if j == i or v < 0.0:
                continue
            if v >= row_val[r, k - 1]:
                _offer(row_val, row_idx, r, k, v, j)
            if j >= b and v >= col_min[j]:
                _offer(col_val, col_idx, j, k, v, i)
                col_min[j] = col_val[j, k - 1]


@numba.njit(nogil=True, cache=True, boundscheck=False)
def merge_lists(cand_idx, cand_val, k, out_idx, out_val):  # pragma: no cover - compiled
    """Per row, the ``k`` best of several candidate lists laid side by side (``-1`` = empty)."""
    for r in range(cand_idx.shape[0]):
        for c in range(cand_idx.shape[1]):
            j = cand_idx[r, c]
            if j != -1:
                _offer(out_val, out_idx, r, k, cand_val[r, c], j)
