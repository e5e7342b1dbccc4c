from __future__ import annotations

import numpy as np
import pytest

from nlpkit.errors import FeatureError
from nlpkit.features.index import SimilarityIndex
from nlpkit.features.similarity import topk_cosine
from nlpkit.features.tfidf import TokenTfidf
from nlpkit.tokenize import TermSpec


@pytest.fixture(scope="module")
def built(imdb_texts, tmp_path_factory):
    cfg = TermSpec(backend="regex", stopwords="en", lowercase=True)
    terms = list(cfg.analyze_batch(imdb_texts[:800]))
    vec = TokenTfidf(min_df=2, max_df=0.5)
    X = vec.fit_transform(terms)
    ids = [f"r{i}" for i in range(X.shape[0])]
    path = tmp_path_factory.mktemp("index")
    SimilarityIndex(vec, X, ids, cfg).save(path)
    return SimilarityIndex.load(path), X, ids


def test_by_id_matches_all_pairs_search(built):
    index, X, ids = built
    nb = topk_cosine(X, k=5, engine="brute")
    for r in (0, 17, 400):
        hits = index.by_id(ids[r], k=5)
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        np.testing.assert_allclose([h.score for h in hits], nb.scores[r][: len(hits)], atol=1e-5)
        assert ids[r] not in {h.id for h in hits}


def test_by_text_of_an_indexed_review_finds_it_first(built, imdb_texts):
    index, _, ids = built
    hits = index.by_text(imdb_texts[42], k=3)
    assert hits[0].id == ids[42] and hits[0].score == pytest.approx(1.0, abs=1e-5)


def test_queries_without_known_terms_return_nothing(built):
    index, _, _ = built
    assert index.by_text("", k=3) == []
    assert index.by_text("qqqzzz xxyyzz", k=3) == []


def test_bad_queries(built):
    index, _, _ = built
    with pytest.raises(FeatureError, match="unknown id 'nope'.*--text"):
        index.by_id("nope")
    with pytest.raises(FeatureError, match="k must be a positive integer"):
        index.by_id("r1", k=0)
    with pytest.raises(FeatureError, match="cannot load the similarity index"):
        SimilarityIndex.load("/nonexistent/index")


def test_reload_answers_identically(built, tmp_path):
    index, _, ids = built
    index.save(tmp_path / "again")
    again = SimilarityIndex.load(tmp_path / "again")
    assert again.by_id(ids[3], 7) == index.by_id(ids[3], 7)


def test_jaccard_by_id_matches_brute_force(built):
    index, X, ids = built
    from nlpkit.features.similarity import jaccard_topk

    ref = jaccard_topk(X, k=4)
    for r in (2, 99):
        hits = index.jaccard_by_id(ids[r], k=4)
        np.testing.assert_allclose([h.score for h in hits], ref.scores[r], atol=1e-6)
