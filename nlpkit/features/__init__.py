"""Features for analysts: TF-IDF over stored tokens, exact cosine neighbours, keywords, PCA/LDA, clusters.

>>> from nlpkit.features import TokenTfidf, topk_cosine
>>> X = TokenTfidf().fit_transform([["a", "b"], ["a", "c"], ["b", "c"]])
>>> topk_cosine(X, k=1, engine="brute").indices.ravel().tolist()
[1, 0, 0]

Heavy parts (numba kernel, tokenizers, matplotlib) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ENGINES", "Neighbours", "TokenTfidf", "jaccard", "jaccard_topk", "ngrams", "topk_cosine", "topk_query"]

# Loaded on first access (PEP 562): `nlpkit.features.query` answers `similar` without scikit-learn or scipy.
_HOME = {"TokenTfidf": "tfidf", "ngrams": "tfidf"} | {n: "similarity" for n in __all__ if n not in ("TokenTfidf", "ngrams")}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"nlpkit.features.{_HOME[name]}"), name)
    raise AttributeError(f"module 'nlpkit.features' has no attribute {name!r}")
