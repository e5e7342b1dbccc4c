from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

from nlpkit.errors import FeatureError
from nlpkit.features.similarity import jaccard, jaccard_topk, topk_cosine, topk_query
from nlpkit.features.tfidf import TokenTfidf

WORD = re.compile(r"(?u)\b\w\w+\b")


@pytest.fixture(scope="module")
def X(imdb_texts):
    tokens = [WORD.findall(t.lower()) for t in imdb_texts]
    tokens[5] = []                      # an empty document
    tokens[9] = ["zzzunknownzzz"]       # only out-of-vocabulary terms
    tokens[20] = list(tokens[21])       # an exact duplicate: score 1.0
    return TokenTfidf(min_df=2).fit_transform(tokens)


def brute(X, k):
    """Dense float64 reference: every pair, self excluded."""
    S = (X @ X.T).toarray().astype(np.float64)
    np.fill_diagonal(S, 0.0)
    return S


def assert_exact(nb, S, tol=1e-5):
    k = nb.k
    for r in range(S.shape[0]):
        ref = np.sort(S[r][S[r] > 0])[::-1][:k]
        got = nb.scores[r][nb.indices[r] >= 0]
        np.testing.assert_allclose(got, ref, atol=tol)
        # every returned neighbour really has that score, and none better was left out (ties aside)
        np.testing.assert_allclose(S[r, nb.indices[r][nb.indices[r] >= 0]], got, atol=tol)


@pytest.mark.parametrize("engine", ["numba", "sparse_dot_topn", "brute"])
@pytest.mark.parametrize("threads,block", [(1, 64), (2, 100)])
def test_engines_match_brute_force_on_real_reviews(X, engine, threads, block):
    nb = topk_cosine(X, k=10, engine=engine, n_threads=threads, block_rows=block)
    assert nb.indices.shape == (X.shape[0], 10)
    assert np.isfinite(nb.scores).all()
    assert_exact(nb, brute(X, 10))
    assert (nb.indices[np.arange(X.shape[0])] != np.arange(X.shape[0])[:, None]).all()  # never itself
    assert nb.indices[20, 0] == 21 and nb.scores[20, 0] == pytest.approx(1.0, abs=1e-5)


def test_zero_vectors_have_no_neighbours_and_no_nan(X):
    nb = topk_cosine(X, k=5)
    for r in (5, 9):
        assert (nb.indices[r] == -1).all() and (nb.scores[r] == 0).all()
    table = nb.to_table([f"d{i}" for i in range(X.shape[0])])
    assert table.column_names == ["doc", "neighbour", "score", "rank"]
    assert "d5" not in set(table.column("doc").to_pylist())
    assert not np.isnan(table.column("score").to_numpy()).any()


def test_k_larger_than_corpus_pads_with_empty_slots():
    X = TokenTfidf().fit_transform([["a", "b"], ["a", "c"], ["b", "c"]])
    for engine in ("numba", "brute", "sparse_dot_topn"):
        nb = topk_cosine(X, k=10, engine=engine)
        assert nb.indices.shape == (3, 10)
        assert (nb.indices[:, 2:] == -1).all() and (nb.indices[:, :2] >= 0).all()


def test_query_engine_matches_brute(X):
    Q, C = X[:50], X[50:]
    ref = topk_query(Q, C, k=7, engine="brute")
    for engine in ("numba", "sparse_dot_topn"):
        got = topk_query(Q, C, k=7, engine=engine, n_threads=2)
        np.testing.assert_allclose(got.scores, ref.scores, atol=1e-5)


@pytest.mark.parametrize("bad,match", [
    ({"k": 0}, "k must be a positive integer"),
    ({"engine": "faiss"}, "unknown similarity engine 'faiss'"),
    ({"n_threads": 0}, "n_threads must be >= 1"),
])
def test_bad_arguments(X, bad, match):
    with pytest.raises(FeatureError, match=match):
        topk_cosine(X[:20], **{"k": 3, "engine": "numba", **bad})


def test_negative_weights_are_refused():
    with pytest.raises(FeatureError, match="non-negative"):
        topk_cosine(sp.csr_matrix(np.array([[1.0, -1.0], [1.0, 1.0]])), k=1)


def test_jaccard(X):
    assert jaccard(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)
    assert jaccard([], []) == 0.0
    nb = jaccard_topk(X[:200], k=3)
    B = (X[:200] > 0).astype(np.float64)
    inter = (B @ B.T).toarray()
    sizes = np.asarray(B.sum(axis=1)).ravel()
    union = sizes[:, None] + sizes[None, :] - inter
    S = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    np.fill_diagonal(S, 0)
    np.testing.assert_allclose(nb.scores[:, 0], S.max(axis=1), atol=1e-6)
    assert np.isfinite(nb.scores).all()
