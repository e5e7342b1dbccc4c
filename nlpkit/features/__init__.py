"""Features for analysts: TF-IDF over stored tokens, exact cosine neighbours, keywords, PCA/LDA, clusters.

>>> from nlpkit.features import TokenTfidf, topk_cosine
>>> X = TokenTfidf().fit_transform([["a", "b"], ["a", "c"], ["b", "c"]])
>>> topk_cosine(X, k=1, engine="brute").indices.ravel().tolist()
[1, 0, 0]

Heavy parts (numba kernel, tokenizers, matplotlib) load on first use.
"""

from nlpkit.features.similarity import ENGINES, Neighbours, jaccard, jaccard_topk, topk_cosine, topk_query
from nlpkit.features.tfidf import TokenTfidf, ngrams

__all__ = ["ENGINES", "Neighbours", "TokenTfidf", "jaccard", "jaccard_topk", "ngrams", "topk_cosine", "topk_query"]
