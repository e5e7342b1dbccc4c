from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from nlpkit.errors import FeatureError
from nlpkit.features.tfidf import TokenTfidf, ngrams

WORD = re.compile(r"(?u)\b\w\w+\b")


@pytest.mark.parametrize("params", [
    {"min_df": 2, "sublinear_tf": True},
    {"min_df": 1, "max_df": 0.5, "sublinear_tf": False},
    {"min_df": 2, "ngram_range": (1, 2), "sublinear_tf": True},
])
def test_matches_scikit_learn_on_real_reviews(imdb_texts, params):
    tokens = [WORD.findall(t.lower()) for t in imdb_texts[:600]]
    ours = TokenTfidf(**params).fit_transform(tokens)
    ref = TfidfVectorizer(dtype=np.float32, **params)
    theirs = ref.fit_transform(imdb_texts[:600])
    assert ours.shape == theirs.shape
    assert abs(ours - theirs).max() < 1e-6


def test_max_features_keeps_the_most_frequent_terms(imdb_texts):
    tokens = [WORD.findall(t.lower()) for t in imdb_texts[:300]]
    vec = TokenTfidf(max_features=500).fit(tokens)
    full = TokenTfidf().fit(tokens)
    counts: dict[str, int] = {}
    for doc in tokens:
        for w in doc:
            counts[w] = counts.get(w, 0) + 1
    kept = set(vec.vocabulary_)
    assert len(kept) == 500 and kept <= set(full.vocabulary_)
    assert min(counts[w] for w in kept) >= max(counts[w] for w in set(full.vocabulary_) - kept)


def test_save_load_transforms_identically(imdb_texts, tmp_path):
    tokens = [WORD.findall(t.lower()) for t in imdb_texts[:400]]
    vec = TokenTfidf(min_df=2, ngram_range=(1, 2), stop_words=["the", "a"]).fit(tokens)
    vec.save(tmp_path / "tfidf")
    assert sorted(p.name for p in (tmp_path / "tfidf").iterdir()) == ["idf.npy", "tfidf.json", "vocabulary.json"]
    back = TokenTfidf.load(tmp_path / "tfidf")
    new = [WORD.findall(t.lower()) for t in imdb_texts[400:500]]
    assert abs(vec.transform(new) - back.transform(new)).max() == 0
    assert back.get_params() == {**vec.get_params(), "stop_words": ["a", "the"]}


def test_empty_and_unknown_documents_give_zero_rows_not_nan():
    vec = TokenTfidf().fit([["영화", "재밌다"], ["영화", "지루하다"]])
    X = vec.transform([[], ["없는", "단어"], ["영화"]])
    assert np.isfinite(X.toarray()).all()
    assert X[0].nnz == 0 and X[1].nnz == 0 and X[2].nnz == 1


def test_bad_input_messages(tmp_path):
    with pytest.raises(FeatureError, match="Iterable over token lists expected, string object received"):
        TokenTfidf().fit("one string")
    with pytest.raises(FeatureError, match="must be a list of terms, got a str"):
        TokenTfidf().fit(["a b c", "d e"])
    with pytest.raises(FeatureError, match="no term is left after min_df=5"):
        TokenTfidf(min_df=5).fit([["a"], ["b"]])
    with pytest.raises(FeatureError, match="ngram_range"):
        TokenTfidf(ngram_range=(2, 1)).fit([["a"]])
    with pytest.raises(FeatureError, match="cannot load TF-IDF"):
        TokenTfidf.load(tmp_path / "missing")


def test_ngrams():
    assert ngrams(["a", "b", "c"], (1, 2)) == ["a", "b", "c", "a b", "b c"]
    assert ngrams(["a", "b"], (2, 3)) == ["a b"]


def test_a_generator_is_read_once_and_gives_the_list_result(imdb_texts):
    """The baseline streams each document's terms from the stored tokens: a one-pass generator must give exactly
    what the list gives, and an empty one the 'no documents' error."""
    tokens = [WORD.findall(t.lower()) for t in imdb_texts[:300]]
    reads = []

    def stream():
        for doc in tokens:
            reads.append(1)
            yield doc

    vec = TokenTfidf(min_df=2, ngram_range=(1, 2))
    X = vec.fit_transform(stream())
    ref = TokenTfidf(min_df=2, ngram_range=(1, 2))
    assert len(reads) == len(tokens) and abs(X - ref.fit_transform(tokens)).max() == 0
    assert vec.vocabulary_ == ref.vocabulary_
    assert abs(vec.transform(iter(tokens[:50])) - ref.transform(tokens[:50])).max() == 0
    with pytest.raises(FeatureError, match="no documents to fit"):
        TokenTfidf().fit_transform(iter([]))
    with pytest.raises(FeatureError, match=r"no term is left after min_df=5, max_df=1.0 on 2 documents"):
        TokenTfidf(min_df=5).fit(iter([["a"], ["b"]]))
