"""A persisted similarity index answering queries in milliseconds, without refitting.

On disk (one folder, no pickle)::

    tfidf/vocabulary.json, tfidf/idf.npy, tfidf/tfidf.json   the fitted TokenTfidf
    matrix.npz      the L2-normalized document vectors (CSR, float32)
    postings.npz    their transpose in CSR: one posting list per term (the query path)
    index.json      document ids and the TermSpec that turns query text into terms

A query is vectorized with the stored TF-IDF, then scored by gathering the posting lists of
its terms only (``q @ postings``), so the cost grows with the query's terms, not the corpus.

>>> index = SimilarityIndex.load(path)                     # doctest: +SKIP
>>> index.by_text("a gripping thriller", k=5)               # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from nlpkit.errors import FeatureError
from nlpkit.features.query import Hit, check_format, read_stored
from nlpkit.features.similarity import prepare_matrix
from nlpkit.features.tfidf import TokenTfidf
from nlpkit.tokenize.spec import TermSpec

__all__ = ["Hit", "SimilarityIndex"]

_FORMAT = 1


def _kernel():  # type: ignore[no-untyped-def]
    """The numba kernel module when numba is installed (else queries use scipy)."""
    try:
        from nlpkit.features import _kernel as kern
    except ImportError:
        return None
    return kern


class SimilarityIndex:
    """Document vectors plus their posting lists, with the TF-IDF that made them.

    Parameters
    ----------
    tfidf : TokenTfidf
        Fitted on the corpus.
    matrix : sparse matrix
        One row per document, in the order of ``ids``.
    ids : sequence of str
        Document ids.
    spec : TermSpec
        How the corpus became terms; query text is turned into terms with exactly this spec.
    """

    def __init__(self, tfidf: TokenTfidf, matrix: sp.spmatrix, ids: Sequence[str], spec: TermSpec,
                 postings: sp.csr_matrix | None = None) -> None:
        if matrix.shape[0] != len(ids):
            raise FeatureError(f"matrix has {matrix.shape[0]} rows but {len(ids)} ids were given")
        self.tfidf = tfidf
        self.matrix = prepare_matrix(matrix)
        self.ids = [str(i) for i in ids]
        self.spec = spec
        self._row = {doc: r for r, doc in enumerate(self.ids)}
        self.postings = postings if postings is not None else self.matrix.T.tocsr()

    def __len__(self) -> int:
        return len(self.ids)

    # -- queries ---------------------------------------------------------------------------------
    def by_vector(self, q: sp.spmatrix, k: int = 10, exclude: int | None = None) -> list[Hit]:
        """Top-``k`` documents for one TF-IDF row vector (positive scores only, best first)."""
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise FeatureError(f"k must be a positive integer; got {k!r}")
        q = sp.csr_matrix(q, dtype=np.float32)
        if q.shape != (1, self.postings.shape[0]):
            raise FeatureError(f"query vector has shape {q.shape}; expected (1, {self.postings.shape[0]})")
        norm = float(np.sqrt(np.dot(q.data, q.data)))
        if norm == 0.0:
            return []  # no known term: no neighbours, never NaN
        kern = _kernel()
        if kern is not None:  # one dense accumulator over the posting lists, then a top-k scan
            q.sort_indices()
            idx = np.full((1, k), -1, np.int32)
            val = np.zeros((1, k), np.float32)
            P = self.postings
            kern.topk_rows(q.indptr, q.indices, (q.data / norm).astype(np.float32), P.indptr, P.indices, P.data,
                           P.shape[1], 0, 1, int(k), -1 if exclude is None else int(exclude), idx, val)
            return [Hit(self.ids[c], float(v), r + 1) for r, (c, v) in enumerate(zip(idx[0], val[0])) if c >= 0]
        row = (q @ self.postings).tocsr()
        cols, vals = row.indices, row.data / norm
        keep = vals > 0
        if exclude is not None:
            keep &= cols != exclude
        cols, vals = cols[keep], vals[keep]
        if cols.size > k:
            part = np.argpartition(-vals, k - 1)[:k]
            cols, vals = cols[part], vals[part]
        order = np.lexsort((cols, -vals))
        return [Hit(self.ids[c], float(v), r + 1) for r, (c, v) in enumerate(zip(cols[order], vals[order]))]

    def by_id(self, doc_id: str, k: int = 10) -> list[Hit]:
        """Neighbours of an indexed document (itself excluded)."""
        r = self._row.get(str(doc_id))
        if r is None:
            sample = ", ".join(self.ids[:3])
            raise FeatureError(f"unknown id {doc_id!r}: not among the {len(self.ids):,} indexed documents "
                               f"(ids look like: {sample}); pass --text to search by text instead")
        return self.by_vector(self.matrix[r], k, exclude=r)

    def jaccard_by_id(self, doc_id: str, k: int = 10) -> list[Hit]:
        """Neighbours by Jaccard similarity of the documents' term sets (the one non-TF-IDF measure)."""
        r = self._row.get(str(doc_id))
        if r is None:
            self.by_id(doc_id, k)  # raises the unknown-id error
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise FeatureError(f"k must be a positive integer; got {k!r}")
        row = self.matrix[r]
        if row.nnz == 0:
            return []
        sizes = np.diff(self.matrix.indptr)
        inter = np.zeros(len(self.ids), np.int64)
        for t in row.indices:  # posting lists of the document's terms
            inter[self.postings.indices[self.postings.indptr[t]:self.postings.indptr[t + 1]]] += 1
        union = sizes + row.nnz - inter
        sim = np.divide(inter, union, out=np.zeros(len(self.ids)), where=union > 0)
        sim[r] = 0.0
        cols = np.flatnonzero(sim > 0)
        if cols.size > k:
            cols = cols[np.argpartition(-sim[cols], k - 1)[:k]]
        cols = cols[np.lexsort((cols, -sim[cols]))]
        return [Hit(self.ids[c], float(sim[c]), i + 1) for i, c in enumerate(cols)]

    def by_terms(self, terms: Sequence[str], k: int = 10) -> list[Hit]:
        """Neighbours of a document given as terms (already tokenized)."""
        return self.by_vector(self.tfidf.transform([list(terms)]), k)

    def by_text(self, text: str, k: int = 10) -> list[Hit]:
        """Neighbours of free text, tokenized the way the corpus was."""
        if not isinstance(text, str):
            raise FeatureError(f"query text must be a str; got {type(text).__name__}")
        return self.by_terms(self.analyzer(text), k)

    def warm_up(self) -> None:
        """Load the tokenizer and the compiled kernel now, so the first query is not slowed by them."""
        if len(self.ids):
            self.by_vector(self.matrix[0], 1)
        self.analyzer("가나다 warm up")  # non-empty: a tokenizer may load its model on the first real text
        engine = self.spec.tokenizer()
        if hasattr(engine, "warm_up"):
            engine.warm_up()

    def analyzer(self, text: str) -> list[str]:
        """The corpus' own text -> terms function (tokenizer loaded on first use)."""
        return self.spec.analyze(text)

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.tfidf.save(d / "tfidf")
        sp.save_npz(d / "matrix.npz", self.matrix, compressed=False)
        sp.save_npz(d / "postings.npz", self.postings, compressed=False)
        meta = {"format": _FORMAT, "ids": self.ids, "spec": self.spec.to_dict()}
        (d / "index.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        return d

    @classmethod
    def load(cls, directory: str | Path) -> SimilarityIndex:
        d = Path(directory)
        meta = read_stored("the similarity index", d, lambda: json.loads((d / "index.json").read_text("utf-8")))
        # the format first: an old index is refused before its two matrices (70 MB each on IMDB) are read
        check_format(d / "index.json", meta.get("format") if "spec" in meta else "(no term spec)", (_FORMAT,))
        matrix, postings = read_stored("the similarity index", d, lambda: (
            sp.load_npz(d / "matrix.npz").tocsr(), sp.load_npz(d / "postings.npz").tocsr()))
        return cls(TokenTfidf.load(d / "tfidf"), matrix, meta["ids"], TermSpec.from_dict(meta["spec"]),
                   postings=postings)
