"""TF-IDF over already tokenized documents, persisted without pickle.

Tokenize once, store the tokens, vectorize from them: :class:`TokenTfidf` takes each
document as a list of terms (strings), never raw text. Word n-grams are formed from those
terms. Persistence is ``vocabulary.json`` (terms in column order), ``idf.npy`` and
``tfidf.json`` (parameters); :meth:`TokenTfidf.load` transforms new documents identically.

>>> vec = TokenTfidf(ngram_range=(1, 2), min_df=1)
>>> X = vec.fit_transform([["영화", "재밌다"], ["영화", "지루하다"]])
>>> X.shape, vec.get_feature_names_out()[:2].tolist()
((2, 5), ['영화', '영화 재밌다'])
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from nlpkit.errors import FeatureError

__all__ = ["TokenTfidf", "ngrams"]

_FORMAT = 1


def ngrams(terms: Sequence[str], ngram_range: tuple[int, int] = (1, 1)) -> list[str]:
    """Word n-grams of ``terms`` joined by a space, shortest first (like scikit-learn's ``_word_ngrams``)."""
    lo, hi = ngram_range
    if lo == hi == 1:
        return list(terms)
    out: list[str] = list(terms) if lo == 1 else []
    n = len(terms)
    for size in range(max(lo, 2), hi + 1):
        out.extend(" ".join(terms[i: i + size]) for i in range(n - size + 1))
    return out


def _check_docs(docs: Any) -> None:
    if isinstance(docs, str):
        raise FeatureError("Iterable over token lists expected, string object received: "
                           "tokenize first (e.g. [tok.forms for each doc]) and pass lists of strings")


class TokenTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF from token lists: a scikit-learn transformer with pickle-free persistence.

    Parameters
    ----------
    ngram_range : (int, int)
        Word n-gram sizes formed from the given terms.
    min_df, max_df : int or float
        Keep terms with document frequency in ``[min_df, max_df]`` (floats are proportions).
    max_features : int or None
        Keep only the most frequent terms (by corpus count) after the df limits.
    sublinear_tf : bool
        Use ``1 + log(tf)`` instead of ``tf``.
    smooth_idf : bool
        ``idf = ln((1 + n) / (1 + df)) + 1`` (else ``ln(n / df) + 1``), as scikit-learn.
    norm : {"l2", None}
        Normalize each row to unit length (rows with no known term stay zero).
    stop_words : iterable of str or None
        Terms dropped before counting.
    lowercase : bool
        Lower-case terms before counting (English).
    """

    def __init__(self, *, ngram_range: tuple[int, int] = (1, 1), min_df: float | int = 1,
                 max_df: float | int = 1.0, max_features: int | None = None, sublinear_tf: bool = True,
                 smooth_idf: bool = True, norm: Literal["l2"] | None = "l2",
                 stop_words: Iterable[str] | None = None, lowercase: bool = False) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.smooth_idf = smooth_idf
        self.norm = norm
        self.stop_words = stop_words
        self.lowercase = lowercase

    # -- validation ---------------------------------------------------------------------------
    def _validate(self) -> None:
        lo, hi = self.ngram_range
        if not (isinstance(lo, Integral) and isinstance(hi, Integral) and 1 <= lo <= hi):
            raise FeatureError(f"ngram_range must be (min_n, max_n) with 1 <= min_n <= max_n; got {self.ngram_range!r}")
        for name in ("min_df", "max_df"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, Real) or v < 0 or (isinstance(v, float) and v > 1.0):
                raise FeatureError(f"{name} must be an int >= 0 or a float in [0, 1]; got {v!r}")
        if self.max_features is not None and (not isinstance(self.max_features, Integral) or self.max_features < 1):
            raise FeatureError(f"max_features must be a positive int or None; got {self.max_features!r}")
        if self.norm not in ("l2", None):
            raise FeatureError(f"norm must be 'l2' or None; got {self.norm!r}")

    def _terms(self, doc: Sequence[str], stop: frozenset[str]) -> list[str]:
        if isinstance(doc, str):
            raise FeatureError(f"each document must be a list of terms, got a str ({doc[:40]!r}); tokenize it first")
        terms = [t.lower() for t in doc] if self.lowercase else list(doc)
        if stop:
            terms = [t for t in terms if t not in stop]
        return ngrams(terms, tuple(self.ngram_range))  # type: ignore[arg-type]

    # -- fitting -------------------------------------------------------------------------------
    def _count(self, docs: Iterable[Sequence[str]], vocab: dict[str, int] | None) -> sp.csr_matrix:
        """Term counts; a ``None`` vocabulary grows as terms are met (fit), a dict is fixed (transform)."""
        stop = frozenset(self.stop_words or ())
        growing = vocab is None
        table: dict[str, int] = {} if vocab is None else vocab
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for doc in docs:
            counts = Counter(self._terms(doc, stop))
            if growing:
                for term, c in counts.items():
                    j = table.get(term)
                    if j is None:
                        j = table[term] = len(table)
                    indices.append(j)
                    values.append(c)
            else:
                for term, c in counts.items():
                    j = table.get(term)
                    if j is not None:
                        indices.append(j)
                        values.append(c)
            indptr.append(len(indices))
        X = sp.csr_matrix((np.asarray(values, np.float32), np.asarray(indices, np.int32), np.asarray(indptr, np.int64)),
                          shape=(len(indptr) - 1, len(table)))
        if growing:
            self._grown = table
        return X

    def fit(self, docs: Iterable[Sequence[str]], y: Any = None) -> TokenTfidf:
        """Learn vocabulary and idf from token lists."""
        self.fit_transform(docs)
        return self

    def fit_transform(self, docs: Iterable[Sequence[str]], y: Any = None) -> sp.csr_matrix:
        """Learn vocabulary and idf, return the TF-IDF matrix (float32 CSR)."""
        self._validate()
        _check_docs(docs)
        counts = self._count(docs, None)
        terms = np.array(list(self._grown), dtype=object)
        del self._grown
        n = counts.shape[0]
        if n == 0:
            raise FeatureError("no documents to fit: give at least one token list")
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        lo = self.min_df if isinstance(self.min_df, Integral) else self.min_df * n
        hi = self.max_df if isinstance(self.max_df, Integral) else self.max_df * n
        keep = (df >= lo) & (df <= hi)
        if self.max_features is not None and keep.sum() > self.max_features:
            totals = np.asarray(counts.sum(axis=0)).ravel()
            cand = np.flatnonzero(keep)
            order = np.lexsort((terms[cand].astype(str), -totals[cand]))[: self.max_features]
            keep = np.zeros_like(keep)
            keep[cand[order]] = True
        if not keep.any():
            raise FeatureError(f"no term is left after min_df={self.min_df!r}, max_df={self.max_df!r} "
                               f"on {n} documents ({len(terms)} distinct terms): lower min_df or raise max_df")
        kept = np.flatnonzero(keep)
        order = kept[np.argsort(terms[kept].astype(str), kind="stable")]  # columns in term order
        self.vocabulary_ = {str(terms[j]): i for i, j in enumerate(order)}
        self.n_docs_ = int(n)
        dfk = df[order].astype(np.float64)
        self.idf_ = (np.log((1.0 + n) / (1.0 + dfk)) + 1.0 if self.smooth_idf else np.log(n / dfk) + 1.0)
        return self._weight(counts[:, order])

    # -- transforming -----------------------------------------------------------------------------
    def transform(self, docs: Iterable[Sequence[str]]) -> sp.csr_matrix:
        """TF-IDF of token lists with the fitted vocabulary; unknown terms are ignored."""
        check_is_fitted(self, ["vocabulary_", "idf_"])
        _check_docs(docs)
        return self._weight(self._count(docs, self.vocabulary_))

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        X = sp.csr_matrix(counts, dtype=np.float32)
        X.sort_indices()
        if self.sublinear_tf:
            np.log(X.data, out=X.data)
            X.data += 1.0
        X.data *= self.idf_.astype(np.float32)[X.indices]
        if self.norm == "l2" and X.nnz:
            sq = np.add.reduceat(np.square(X.data, dtype=np.float64), X.indptr[:-1][np.diff(X.indptr) > 0])
            norms = np.zeros(X.shape[0])
            norms[np.diff(X.indptr) > 0] = np.sqrt(sq)
            X.data /= np.repeat(norms, np.diff(X.indptr)).astype(np.float32)
        return X

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, ["vocabulary_"])
        names = np.empty(len(self.vocabulary_), dtype=object)
        for term, j in self.vocabulary_.items():
            names[j] = term
        return names

    # -- persistence (no pickle) --------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``vocabulary.json``, ``idf.npy`` and ``tfidf.json`` into ``directory``."""
        check_is_fitted(self, ["vocabulary_", "idf_"])
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / "vocabulary.json").write_text(json.dumps(self.get_feature_names_out().tolist(), ensure_ascii=False),
                                           "utf-8")
        np.save(d / "idf.npy", self.idf_, allow_pickle=False)
        params = self.get_params()
        params["stop_words"] = sorted(params["stop_words"]) if params["stop_words"] is not None else None
        params["ngram_range"] = list(params["ngram_range"])
        meta = {"format": _FORMAT, "params": params, "n_docs": self.n_docs_}
        (d / "tfidf.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
        return d

    @classmethod
    def load(cls, directory: str | Path) -> TokenTfidf:
        """Re-create a fitted transformer saved by :meth:`save`."""
        d = Path(directory)
        try:
            meta = json.loads((d / "tfidf.json").read_text("utf-8"))
            terms = json.loads((d / "vocabulary.json").read_text("utf-8"))
            idf = np.load(d / "idf.npy", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise FeatureError(f"cannot load TF-IDF from {d}: {e}; rebuild it with `nlpkit features build`") from e
        if meta.get("format") != _FORMAT:
            raise FeatureError(f"{d}/tfidf.json has format {meta.get('format')!r}; this nlpkit reads {_FORMAT}")
        if len(terms) != len(idf):
            raise FeatureError(f"{d}: vocabulary has {len(terms)} terms but idf.npy {len(idf)} values")
        params = dict(meta["params"])
        params["ngram_range"] = tuple(params["ngram_range"])
        vec = cls(**params)
        vec.vocabulary_ = {t: i for i, t in enumerate(terms)}
        vec.idf_ = idf
        vec.n_docs_ = int(meta["n_docs"])
        return vec
