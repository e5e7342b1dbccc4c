"""The project's one TF-IDF: scikit-learn's ``TfidfVectorizer`` fed term lists, persisted without pickle.

Tokenize once, store the tokens, vectorize from them: :class:`TokenTfidf` is a
``TfidfVectorizer`` whose analyzer takes each document as a list of terms (what
:meth:`nlpkit.tokenize.TermSpec.terms` gives), never raw text; all counting, df pruning,
idf and normalization are scikit-learn's. Persistence is ``vocabulary.json`` (terms in
column order), ``idf.npy`` and ``tfidf.json`` (parameters); :meth:`TokenTfidf.load`
transforms new documents identically. Features, KorSTS and the baseline all use it.

>>> vec = TokenTfidf(ngram_range=(1, 2), min_df=1)
>>> X = vec.fit_transform([["영화", "재밌다"], ["영화", "지루하다"]])
>>> X.shape, vec.get_feature_names_out()[:2].tolist()
((2, 5), ['영화', '영화 재밌다'])
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from nlpkit.errors import FeatureError
from nlpkit.features.query import check_format, read_stored
from nlpkit.tokenize.spec import word_ngrams

__all__ = ["TokenTfidf", "ngrams"]

_FORMAT = 2  # 2: scikit-learn's TfidfVectorizer (format 1 was the hand-written counter, same numbers)


def ngrams(terms: Sequence[str], ngram_range: tuple[int, int] = (1, 1)) -> list[str]:
    """Word n-grams of ``terms`` joined by a space, shortest first (like scikit-learn's ``_word_ngrams``)."""
    lo, hi = ngram_range
    out = word_ngrams(terms, hi)
    return out if lo == 1 else [g for g in out if g.count(" ") + 1 >= lo]


class TokenTfidf(TfidfVectorizer):
    """``TfidfVectorizer`` over term lists (``sublinear_tf`` on and float32 by default).

    Parameters are scikit-learn's: ``ngram_range`` (word n-grams formed from the given terms),
    ``min_df``/``max_df``, ``max_features``, ``sublinear_tf``, ``smooth_idf``, ``norm``,
    ``stop_words`` (terms dropped before counting), ``lowercase``.
    """

    def __init__(self, *, ngram_range: tuple[int, int] = (1, 1), min_df: float | int = 1,
                 max_df: float | int = 1.0, max_features: int | None = None, sublinear_tf: bool = True,
                 smooth_idf: bool = True, norm: Literal["l2"] | None = "l2",
                 stop_words: Iterable[str] | None = None, lowercase: bool = False) -> None:
        super().__init__(ngram_range=ngram_range, min_df=min_df, max_df=max_df, max_features=max_features,
                         sublinear_tf=sublinear_tf, smooth_idf=smooth_idf, norm=norm,
                         stop_words=list(stop_words) if stop_words is not None else None, lowercase=lowercase,
                         dtype=np.float32)

    def build_analyzer(self) -> Callable[[Any], list[str]]:
        """Term list -> (lower-cased, stopword-filtered) terms and their word n-grams."""
        stop = frozenset(self.stop_words or ())
        lower, rng = self.lowercase, tuple(self.ngram_range)

        def analyze(doc: Any) -> list[str]:
            if isinstance(doc, str):
                raise FeatureError(f"each document must be a list of terms, got a str ({doc[:40]!r}); "
                                   "tokenize it first")
            terms = [t.lower() for t in doc] if lower else list(doc)
            if stop:
                terms = [t for t in terms if t not in stop]
            return ngrams(terms, rng)  # type: ignore[arg-type]

        return analyze

    def _check(self, docs: Any) -> None:
        if isinstance(docs, str):
            raise FeatureError("Iterable over token lists expected, string object received: "
                               "tokenize first (e.g. [tok.forms for each doc]) and pass lists of strings")
        lo, hi = self.ngram_range
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
            raise FeatureError(f"ngram_range must be (min_n, max_n) with 1 <= min_n <= max_n; got {self.ngram_range!r}")

    def fit(self, docs: Iterable[Sequence[str]], y: Any = None) -> TokenTfidf:
        self.fit_transform(docs)
        return self

    def fit_transform(self, docs: Iterable[Sequence[str]], y: Any = None) -> sp.csr_matrix:
        """Learn vocabulary and idf, return the TF-IDF matrix (float32 CSR)."""
        self._check(docs)
        docs = list(docs)
        if not docs:
            raise FeatureError("no documents to fit: give at least one token list")
        try:
            X = super().fit_transform(docs)
        except ValueError as e:  # scikit-learn's "After pruning, no terms remain", bad min_df/max_df ...
            raise FeatureError(f"no term is left after min_df={self.min_df!r}, max_df={self.max_df!r} on {len(docs)} "
                               f"documents (scikit-learn: {e}): lower min_df or raise max_df") from e
        self.stop_words_ = None  # the pruned-term set is for introspection only (large; not saved)
        return X

    def transform(self, docs: Iterable[Sequence[str]]) -> sp.csr_matrix:
        """TF-IDF of token lists with the fitted vocabulary; unknown terms are ignored."""
        self._check(docs)
        return super().transform(docs)

    # -- persistence (no pickle) --------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``vocabulary.json``, ``idf.npy`` and ``tfidf.json`` into ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / "vocabulary.json").write_text(json.dumps(self.get_feature_names_out().tolist(), ensure_ascii=False),
                                           "utf-8")
        np.save(d / "idf.npy", np.asarray(self.idf_, np.float64), allow_pickle=False)
        params = {k: getattr(self, k) for k in ("min_df", "max_df", "max_features", "sublinear_tf", "smooth_idf",
                                                "norm", "lowercase")}
        params["stop_words"] = sorted(self.stop_words) if self.stop_words is not None else None
        params["ngram_range"] = list(self.ngram_range)
        meta = {"format": _FORMAT, "params": params}
        (d / "tfidf.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
        return d

    @classmethod
    def load(cls, directory: str | Path) -> TokenTfidf:
        """Re-create a fitted transformer saved by :meth:`save`."""
        d = Path(directory)
        meta, terms, idf = read_stored("TF-IDF", d, lambda: (
            json.loads((d / "tfidf.json").read_text("utf-8")),
            json.loads((d / "vocabulary.json").read_text("utf-8")),
            np.load(d / "idf.npy", allow_pickle=False)))
        check_format(d / "tfidf.json", meta.get("format"), (1, _FORMAT))
        if len(terms) != len(idf):
            raise FeatureError(f"{d}: vocabulary has {len(terms)} terms but idf.npy {len(idf)} values")
        params = dict(meta["params"])
        params["ngram_range"] = tuple(params["ngram_range"])
        vec = cls(**params)
        vec.vocabulary_ = {t: i for i, t in enumerate(terms)}
        vec.idf_ = idf
        return vec
