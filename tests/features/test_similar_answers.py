"""`nlpkit features similar`: readable answers (titles, label names, 3-digit scores) from the numpy query path.

One store per module: 15 real Korean news articles of each of the 8 topics as the ``korean_news``
dataset (its own builder: title, category), features built with the defaults (Kiwi, the news
dictionary, the Korean stopwords).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlpkit.datasets.korean import build_korean_news
from nlpkit.errors import FeatureError
from nlpkit.features.build import BuildOptions, build_features, load_index
from nlpkit.datasets.labels import parse_label_names
from nlpkit.features.hits import describe_hits, first_words
from nlpkit.features.index import SimilarityIndex
from nlpkit.features.query import Hit, QueryIndex, load_query_index
from nlpkit.features.tfidf import TokenTfidf
from nlpkit.store import Store
from nlpkit.tokenize.spec import TermSpec
from tests.cli_harness import cli_invoker
from tests.features.conftest import write_articles_subset


@pytest.fixture(scope="module")
def news_store(news_rows: list[dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("similar")
    subset = write_articles_subset(news_rows, root / "articles.jsonl", 15)
    store = Store(root / "data")
    build_korean_news(store, subset)
    build_features(store, "korean_news", BuildOptions(k=5, lda=False, k_values=(2, 3)))
    return root


@pytest.fixture(scope="module")
def docs(news_store: Path) -> list[dict]:
    return Store(news_store / "data").read("korean_news", columns=["id", "title", "category", "label"]).to_pylist()


def test_query_index_answers_exactly_like_the_full_index(news_store, docs):
    store = Store(news_store / "data")
    fast, full = load_query_index(store, "korean_news"), load_index(store, "korean_news")
    assert len(fast) == len(full) == 120
    for d in docs:  # every document's neighbours
        a, b = full.by_id(d["id"], 5), fast.by_id(d["id"], 5)
        assert [h.id for h in a] == [h.id for h in b]
        assert np.allclose([h.score for h in a], [h.score for h in b], atol=1e-5)
    for d in docs[::7]:  # real titles as free-text queries
        a, b = full.by_text(d["title"], 5), fast.by_text(d["title"], 5)
        assert [h.id for h in a] == [h.id for h in b] and a, d["title"]
        assert np.allclose([h.score for h in a], [h.score for h in b], atol=1e-5)
    assert fast.by_text("반도체 수출", 3)[0].score > 0  # the query finds something on 120 articles too
    assert fast.by_text("", 3) == [] and fast.by_text("zzzqqq", 3) == []
    with pytest.raises(FeatureError, match="k must be a positive integer"):
        fast.by_text("반도체", 0)
    with pytest.raises(FeatureError, match="unknown id 'nope'"):
        fast.by_id("nope")


_TERMS = ["영화", "재밌다", "지루하다", "배우", "연기", "the", "A", "Plot", "좋다", "최고"]


@pytest.fixture(scope="module")
def ngram_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[TokenTfidf, QueryIndex]:
    """An index whose TF-IDF has bigrams, stopwords and lower-casing: the query vector must follow all three."""
    rng = np.random.default_rng(0)
    docs = [list(rng.choice(_TERMS, size=rng.integers(1, 12))) for _ in range(60)]
    vec = TokenTfidf(ngram_range=(1, 2), min_df=1, stop_words=["the"], lowercase=True)
    X = vec.fit_transform(docs)
    d = tmp_path_factory.mktemp("ngram") / "index"
    SimilarityIndex(vec, X, [f"d{i}" for i in range(60)], TermSpec(backend="whitespace")).save(d)
    return TokenTfidf.load(d / "tfidf"), QueryIndex.load(d)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([*_TERMS, "unknown", "PLOT", "영화 재밌다"]), max_size=15))
def test_query_vector_is_scikit_learns_tfidf(ngram_index, terms):
    vec, fast = ngram_index
    want = vec.transform([terms]).toarray()[0]
    cols, weights = fast.vector(terms)
    got = np.zeros_like(want, dtype=np.float64)
    got[cols] = weights
    assert np.allclose(got, want, atol=1e-6)


def test_similar_shows_titles_label_names_and_rounded_scores(news_store, docs, monkeypatch):
    invoke = cli_invoker(news_store, monkeypatch)
    target = next(d for d in docs if d["category"] == "기술/IT")
    code, out = invoke("features", "similar", "-d", "korean_news", "--text", target["title"], "--k", "3")
    assert code == 0, out
    assert target["title"][:12] in out  # the article itself is the best match for its own title
    assert "기술/IT" in out and "score" in out and "title" in out
    assert re.search(r"│ 1\s+│ 0\.\d{3} │", out)  # 3 digits, not 0.2207 or 0.22070312
    assert re.search(r"3 neighbours; start-up \d+\.\d\d s, query \d+\.\d ms", out)


def test_similar_tsv_json_and_the_old_name(news_store, docs, monkeypatch):
    invoke = cli_invoker(news_store, monkeypatch)
    doc = docs[0]
    code, tsv = invoke("features", "similar", "-d", "korean_news", "--id", doc["id"], "--k", "4", "--tsv")
    assert code == 0, tsv
    lines = [line for line in tsv.splitlines() if "\t" in line]
    assert lines[0] == "rank\tscore\ttitle\tgroup\tid" and len(lines) == 5
    by_id = {d["id"]: d for d in docs}
    for n, line in enumerate(lines[1:], 1):
        rank, score, title, group, doc_id = line.split("\t")
        assert int(rank) == n and re.fullmatch(r"0\.\d{3}", score) and doc_id != doc["id"]
        assert title == " ".join(by_id[doc_id]["title"].split()) and group == by_id[doc_id]["category"]
    code, js = invoke("features", "similar", "-d", "korean_news", "--id", doc["id"], "--k", "4", "--json")
    hits = [json.loads(line) for line in js.splitlines() if line.startswith("{")]
    assert [h["id"] for h in hits] == [line.split("\t")[4] for line in lines[1:]]
    assert all(h["score"] == round(h["score"], 3) for h in hits)
    code_old, old = invoke("similar", "-d", "korean_news", "--id", doc["id"], "--k", "4", "--tsv")
    assert code_old == 0
    assert old.splitlines()[0].startswith("note: 'nlpkit similar' is deprecated; use 'nlpkit features similar'")
    assert [line for line in old.splitlines() if "\t" in line] == lines


def test_label_names_option_and_bad_input(news_store, docs, monkeypatch):
    invoke = cli_invoker(news_store, monkeypatch)
    names = ",".join(f"topic{i}" for i in range(8))
    doc = docs[0]
    code, out = invoke("features", "similar", "-d", "korean_news", "--id", doc["id"], "--tsv", "--label-names", names)
    assert code == 0, out
    groups = {line.split("\t")[3] for line in out.splitlines()[1:] if "\t" in line}
    assert groups and groups <= {f"topic{i}" for i in range(8)}
    code, out = invoke("features", "similar", "-d", "korean_news", "--id", doc["id"], "--label-names", "a,,b")
    assert code == 2 and "--label-names 'a,,b'" in out and len(out.strip().splitlines()) == 1
    code, out = invoke("features", "similar", "-d", "korean_news", "--id", doc["id"], "--tsv", "--json")
    assert code == 2 and "choose one output format" in out


def test_titles_fall_back_to_first_words_and_registry_label_names(imdb_texts, tmp_path):
    """A dataset without a title column (IMDB) shows the first words; its 0/1 labels read negative/positive."""
    from nlpkit.datasets.importer import ImportOptions, import_corpus

    src = tmp_path / "imdb.jsonl"
    src.write_text("".join(json.dumps({"id": f"r{i}", "text": t, "label": i % 2}) + "\n"
                           for i, t in enumerate(imdb_texts[:6])), "utf-8")
    store = Store(tmp_path / "data")
    import_corpus(store, "imdb", src, ImportOptions(label_col="label", id_col="id"))
    rows = describe_hits(store, "imdb", [Hit("r3", 0.51234, 1), Hit("r0", 0.4, 2), Hit("gone", 0.1, 3)])
    assert [r.group for r in rows] == ["positive", "negative", ""]
    assert rows[0].title == first_words(imdb_texts[3]) and rows[0].title.endswith("…")
    assert rows[2].title == "" and rows[2].id == "gone"  # an id no longer stored is listed, not fatal
    named = describe_hits(store, "imdb", [Hit("r3", 0.5, 1)], parse_label_names("bad,good"))
    assert named[0].group == "good"


def test_the_query_path_loads_no_scikit_learn_scipy_or_numba():
    """What made `similar --text` slow to start: seconds of imports before the first answer."""
    import subprocess
    import sys

    code = ("import sys, nlpkit.features.query, nlpkit.features.hits; "
            "print([m for m in ('sklearn', 'scipy', 'numba', 'kiwipiepy', 'jpype', 'torch') if m in sys.modules])")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr
