"""Answer `similar` queries from a persisted index with numpy alone: milliseconds after a light start-up.

:class:`~nlpkit.features.index.SimilarityIndex` needs scikit-learn (its TF-IDF is a
``TfidfVectorizer``), scipy and, for speed, numba: seconds of imports and JIT before the first
answer from a fresh process. A query touches a few posting lists only, so :class:`QueryIndex` reads
the same files (``index.json``, ``tfidf/``, ``postings.npz``; ``matrix.npz`` only for ``by_id``)
with numpy and scores exactly as the full index does: the query's TF-IDF (counts of its terms and
their n-grams, sublinear tf, the stored idf, L2 norm), then a dense accumulator over the posting
lists of its terms, then the top ``k`` positive scores (ties by document order).

>>> index = QueryIndex.load(path)                  # doctest: +SKIP
>>> index.by_text("반도체 수출", k=5)               # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from nlpkit.errors import DatasetNotFoundError, FeatureError
from nlpkit.store import Store
from nlpkit.suggest import missing_hint
from nlpkit.tokenize.spec import TermSpec, word_ngrams

__all__ = ["Hit", "QueryIndex", "check_format", "index_name", "index_path", "load_query_index", "read_stored"]

_INDEX_FORMAT = 1
_TFIDF_FORMATS = (1, 2)
_REBUILD = "rebuild it with `nlpkit features build DATASET`"
T = TypeVar("T")


def read_stored(what: str, directory: Path, read: Callable[[], T]) -> T:
    """``read()`` of a stored TF-IDF or index folder; a missing, unreadable or malformed file is one error.

    The one place the three readers of ``features build`` output (:class:`QueryIndex`, the full
    :class:`~nlpkit.features.index.SimilarityIndex` and :class:`~nlpkit.features.tfidf.TokenTfidf`) turn
    a bad file into a :class:`FeatureError` that names the folder and the fix.
    """
    try:
        return read()
    except (OSError, ValueError, KeyError) as e:
        raise FeatureError(f"cannot load {what} in {directory}: {e}; {_REBUILD}") from e


def check_format(file: Path, found: Any, accepted: Collection[int]) -> None:
    """Refuse a stored file whose ``format`` this version does not read, naming the fix."""
    if found not in accepted:
        raise FeatureError(f"{file} has format {found!r}; this nlpkit reads format "
                           f"{' or '.join(map(str, accepted))}; {_REBUILD}")


@dataclass(frozen=True, slots=True)
class Hit:
    """One neighbour: its id, cosine score and rank (1 = best)."""

    id: str
    score: float
    rank: int


def _csr(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """(indptr, indices, data, shape) of a CSR matrix written by ``scipy.sparse.save_npz``."""
    with np.load(path, allow_pickle=False) as z:
        fmt = z["format"].item()
        fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
        if fmt != "csr":
            raise FeatureError(f"{path}: a {fmt} matrix; the index stores CSR (rebuild it with `nlpkit features build`)")
        shape = tuple(int(s) for s in z["shape"])
        return z["indptr"], z["indices"], z["data"], (shape[0], shape[1])


class QueryIndex:
    """The query side of a persisted similarity index (see the module docstring)."""

    def __init__(self, directory: Path, ids: list[str], spec: TermSpec, vocabulary: dict[str, int], idf: np.ndarray,
                 params: dict[str, Any], postings: tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]) -> None:
        self.directory = directory
        self.ids = ids
        self.spec = spec
        self.vocabulary = vocabulary
        self.idf = idf
        self.params = params
        self.postings = postings
        self._matrix: tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]] | None = None
        self._row: dict[str, int] | None = None

    @classmethod
    def load(cls, directory: str | Path) -> QueryIndex:
        """Read the index folder written by :meth:`SimilarityIndex.save` (no pickle, no scipy)."""
        d = Path(directory)
        meta, tfidf, terms, idf, postings = read_stored("the similarity index", d, lambda: (
            json.loads((d / "index.json").read_text("utf-8")),
            json.loads((d / "tfidf" / "tfidf.json").read_text("utf-8")),
            json.loads((d / "tfidf" / "vocabulary.json").read_text("utf-8")),
            np.load(d / "tfidf" / "idf.npy", allow_pickle=False),
            _csr(d / "postings.npz")))
        check_format(d / "index.json", meta.get("format") if "spec" in meta else "(no term spec)", (_INDEX_FORMAT,))
        if tfidf.get("format") not in _TFIDF_FORMATS or len(terms) != len(idf) or postings[3][0] != len(terms):
            raise FeatureError(f"{d}: TF-IDF files do not match the posting lists ({len(terms)} terms, {len(idf)} "
                               f"idf values, {postings[3][0]} posting lists); rebuild the features")
        return cls(d, [str(i) for i in meta["ids"]], TermSpec.from_dict(meta["spec"]),
                   {t: i for i, t in enumerate(terms)}, np.asarray(idf, np.float64), dict(tfidf["params"]), postings)

    def __len__(self) -> int:
        return len(self.ids)

    # -- the query's TF-IDF ---------------------------------------------------------------------
    def vector(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(term columns, weights) of the L2-normalized TF-IDF of one term list (unknown terms ignored)."""
        p = self.params
        words = [t.lower() for t in terms] if p.get("lowercase") else list(terms)
        stop = frozenset(p.get("stop_words") or ())
        if stop:
            words = [t for t in words if t not in stop]
        lo, hi = p.get("ngram_range", (1, 1))
        grams = word_ngrams(words, int(hi))
        if int(lo) > 1:
            grams = [g for g in grams if g.count(" ") + 1 >= int(lo)]
        counts = Counter(self.vocabulary[g] for g in grams if g in self.vocabulary)
        if not counts:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        cols = np.fromiter(sorted(counts), np.int64, len(counts))
        tf = np.array([counts[c] for c in cols], np.float64)
        if p.get("sublinear_tf", True):
            tf = np.log(tf) + 1.0
        w = tf * self.idf[cols]
        if p.get("norm", "l2") == "l2":
            w /= math.sqrt(float(w @ w))
        return cols, w

    # -- queries ----------------------------------------------------------------------------------
    def by_vector(self, cols: np.ndarray, weights: np.ndarray, k: int = 10, exclude: int | None = None) -> list[Hit]:
        """Top-``k`` documents for a sparse query (positive cosine only, best first, ties by document order)."""
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise FeatureError(f"k must be a positive integer; got {k!r}")
        norm = math.sqrt(float(weights @ weights)) if len(weights) else 0.0
        if norm == 0.0:
            return []
        indptr, indices, data, _ = self.postings
        scores = np.zeros(len(self.ids), np.float64)
        for c, w in zip(cols.tolist(), (weights / norm).tolist()):
            lo, hi = indptr[c], indptr[c + 1]
            scores[indices[lo:hi]] += w * data[lo:hi]
        if exclude is not None:
            scores[exclude] = 0.0
        docs = np.flatnonzero(scores > 0)
        if docs.size > k:
            docs = docs[np.argpartition(-scores[docs], k - 1)[:k]]
        docs = docs[np.lexsort((docs, -scores[docs]))]
        return [Hit(self.ids[d], float(scores[d]), r + 1) for r, d in enumerate(docs.tolist())]

    def by_terms(self, terms: Sequence[str], k: int = 10) -> list[Hit]:
        """Neighbours of a document given as terms (already tokenized)."""
        return self.by_vector(*self.vector(terms), k=k)

    def by_text(self, text: str, k: int = 10) -> list[Hit]:
        """Neighbours of free text, tokenized with the corpus' own term spec."""
        if not isinstance(text, str):
            raise FeatureError(f"query text must be a str; got {type(text).__name__}")
        return self.by_terms(self.spec.analyze(text), k)

    def by_id(self, doc_id: str, k: int = 10) -> list[Hit]:
        """Neighbours of an indexed document (itself excluded); reads ``matrix.npz`` on first use."""
        if self._row is None:
            self._row = {doc: r for r, doc in enumerate(self.ids)}
        r = self._row.get(str(doc_id))
        if r is None:
            sample = ", ".join(self.ids[:3])
            raise FeatureError(f"unknown id {doc_id!r}: not among the {len(self.ids):,} indexed documents "
                               f"(ids look like: {sample}); pass --text to search by text instead")
        indptr, indices, data, _ = self.load_matrix()
        lo, hi = indptr[r], indptr[r + 1]
        return self.by_vector(indices[lo:hi].astype(np.int64), data[lo:hi].astype(np.float64), k=k, exclude=r)

    def load_matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
        """The document vectors (``matrix.npz``, CSR arrays), read once; ``by_id`` needs them."""
        if self._matrix is None:
            self._matrix = _csr(self.directory / "matrix.npz")
        return self._matrix

    def warm_up(self) -> None:
        """Load the tokenizer (and its model) now, so that the first query does not pay for it."""
        self.spec.analyze("가나다 warm up")


def index_name(dataset: str) -> str:
    """The store dataset that holds ``dataset``'s features and index."""
    return f"features_{dataset}"[:63]


def index_path(store: Store, dataset: str) -> Path:
    """The index folder of ``dataset``'s latest features build; a mistyped name gets "did you mean"."""
    try:
        info = store.latest(index_name(dataset))
    except DatasetNotFoundError as e:
        names = store.datasets()
        built = [d.removeprefix("features_") for d in names if d.startswith("features_")]
        hint, target = missing_hint(dataset, built, [d for d in names if not d.startswith("features_")],
                                    "datasets with features")
        if target in built:
            raise FeatureError(f"no similarity index for dataset {dataset!r}; {hint}") from e
        raise FeatureError(f"no similarity index for dataset {dataset!r}; {hint + ' ' if hint else ''}run "
                           f"`nlpkit features build {target}` first") from e
    return Path(info.path) / "index"


def load_query_index(store: Store, dataset: str) -> QueryIndex:
    """The query side of ``dataset``'s latest similarity index (numpy only; see :class:`QueryIndex`)."""
    return QueryIndex.load(index_path(store, dataset))
