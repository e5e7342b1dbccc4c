"""End to end on real Korean news slices: tokens (Kiwi, stored) -> every output table, report, classify."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.compute as pc
import pytest

from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.errors import FeatureError
from nlpkit.features.build import BuildOptions, build_features, load_index
from nlpkit.features.classify import ClassifyOptions
from nlpkit.features.projections import lda_project
from nlpkit.features.report import write_report
from nlpkit.features.runs import classify_dataset
from nlpkit.features.storeio import feature_table
from nlpkit.store import Catalog, Store
from tests.features.conftest import write_news_slice

OPTIONS = BuildOptions(k=5, k_values=(4, 6, 8), pca_components=20)


@pytest.fixture(scope="module")
def news_store(news_rows, tmp_path_factory):
    root = tmp_path_factory.mktemp("feat")
    store = Store(root / "data")
    import_corpus(store, "news", write_news_slice(news_rows, root / "news.jsonl", 15),
                  ImportOptions(label_col="label", id_col="id"))
    result = build_features(store, "news", OPTIONS)
    return store, result


def test_every_output_table_is_written_nan_free(news_store):
    store, result = news_store
    assert result.documents == 120 and result.tokenized_now == 120
    cat = Catalog(store)
    for view in ("similar_docs", "tfidf_keywords", "projections", "clusters", "clusters_summary", "clusters_scores"):
        cols, rows = cat.query(f"SELECT DISTINCT dataset FROM {view}")
        assert rows == [("news",)], view
    _, rows = cat.query('SELECT count(*), count(DISTINCT doc), min(score), max(rank) FROM similar_docs '
                        "WHERE isnan(score) OR score IS NULL")
    assert rows[0][0] == 0
    sim = feature_table(store, "news", "similar_docs")
    assert sim.num_rows > 0 and pc.min(sim.column("score")).as_py() > 0
    kw = feature_table(store, "news", "tfidf_keywords")
    assert set(kw.column("scope").to_pylist()) == {"doc", "label", "cluster"}
    labels = set(pc.filter(kw.column("key"), pc.equal(kw.column("scope"), "label")).to_pylist())
    assert labels == {"정치", "경제", "사회", "생활/문화", "세계", "기술/IT", "연예", "스포츠"}
    proj = feature_table(store, "news", "projections").to_pandas()
    assert set(proj["method"]) == {"pca", "lda"} and np.isfinite(proj[["x", "y"]].to_numpy()).all()
    assert result.chosen_k in (4, 6, 8)


def test_lda_separates_topics_better_than_pca_on_held_out_articles(news_store):
    _, result = news_store
    assert result.numbers["separation_heldout_lda"] > result.numbers["separation_heldout_pca_2d"]


def test_rebuild_tokenizes_only_new_documents_and_keeps_other_datasets(news_store, news_rows, tmp_path):
    store, _ = news_store
    import_corpus(store, "news2", write_news_slice(news_rows, tmp_path / "n2.jsonl", 6, labels=False),
                  ImportOptions(id_col="id"))
    first = build_features(store, "news2", OPTIONS)
    again = build_features(store, "news2", OPTIONS)
    assert first.tokenized_now == 48 and again.tokenized_now == 0
    cols, rows = Catalog(store).query('SELECT dataset, count(*) FROM similar_docs GROUP BY 1 ORDER BY 1')
    assert [r[0] for r in rows] == ["news", "news2"]
    # no labels: no LDA rows, no label keywords; the index answers by id
    proj = Catalog(store).arrow("SELECT * FROM projections").to_pandas()
    assert set(proj.loc[proj["dataset"] == "news2", "method"]) == {"pca"}
    hits = load_index(store, "news2").by_id(store.read("news2").column("id")[0].as_py(), 3)
    assert len(hits) == 3
    with pytest.raises(FeatureError, match="no 'label' column"):
        classify_dataset(store, "news2")
    with pytest.raises(FeatureError, match="LDA needs labels: this dataset has no 'label' column"):
        build_features(store, "news2", BuildOptions(k=5, k_values=(4,), pca_components=10, lda=True))


def test_lda_without_labels_is_a_clear_error():
    with pytest.raises(FeatureError, match="LDA needs labels"):
        lda_project(np.zeros((10, 3)), None)
    with pytest.raises(FeatureError, match="at least 2 classes"):
        lda_project(np.random.default_rng(0).random((10, 3)), ["a"] * 10)


def test_text_query_uses_the_corpus_tokenizer(news_store):
    store, _ = news_store
    index = load_index(store, "news")
    assert index.spec.backend == "kiwi" and index.spec.stopwords == "ko" and index.spec.user_dicts
    row = store.read("news").slice(7, 1).to_pylist()[0]
    hits = index.by_text(row["text"], k=3)
    assert hits[0].id == row["id"] and hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_report_and_classify(news_store):
    store, _ = news_store
    res, pngs = classify_dataset(store, "news", ClassifyOptions(model="softmax", folds=3))
    assert 0.5 < res.accuracy <= 1.0 and res.confusion.sum() == 120
    assert set(res.top_features) == {"정치", "경제", "사회", "생활/문화", "세계", "기술/IT", "연예", "스포츠"}
    mlp, _ = classify_dataset(store, "news", ClassifyOptions(model="mlp", folds=3, max_iter=100))
    assert mlp.feature_kind == "pca" and 0.0 < mlp.accuracy <= 1.0
    runs = store.read_appended("model_runs").to_pandas()
    row = runs[runs["model"] == "tfidf_softmax"].iloc[-1]
    assert row["split"] == "cv3" and np.asarray(json.loads(row["confusion"])).shape == (8, 8)
    page = write_report(store, "news")
    names = {p.name for p in page.parent.iterdir()}
    assert {"index.html", "pca_label.png", "lda_label.png", "silhouette_vs_k.png"} <= names  # term bars are HTML
    assert any(n.startswith("classify_tfidf_softmax") for n in names)
    assert "<img" in page.read_text("utf-8")
    with pytest.raises(FeatureError, match="run `nlpkit features build nothing` first"):
        write_report(store, "nothing")



def test_tiny_corpus_with_k_larger_than_it(news_rows, tmp_path):
    from nlpkit.features.clusters import choose_k

    store = Store(tmp_path / "data")
    import_corpus(store, "tiny", write_news_slice(news_rows, tmp_path / "t.jsonl", 1), ImportOptions(label_col="label"))
    result = build_features(store, "tiny", BuildOptions(k=50, k_values=(2, 3, 40)))
    sim = feature_table(store, "tiny", "similar_docs").to_pandas()
    assert result.documents == 8 and sim.groupby("doc").size().max() <= 7
    assert sim["score"].notna().all() and (sim["score"] > 0).all()
    assert result.chosen_k in (2, 3)
    with pytest.raises(FeatureError, match="cannot cluster 2 documents"):
        choose_k(np.eye(2), range(2, 5))


def test_english_reviews_use_the_english_tokenizer(imdb_texts, tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"r{i}", "text": t}) for i, t in enumerate(imdb_texts[:40])), "utf-8")
    store = Store(tmp_path / "data")
    import_corpus(store, "reviews", path, ImportOptions(id_col="id"))
    result = build_features(store, "reviews", BuildOptions(k=3, k_values=(2, 3), pca_components=10))
    index = load_index(store, "reviews")
    assert index.spec.backend == "english" and index.spec.stopwords == "en"
    assert "the" not in index.tfidf.vocabulary_ and result.terms > 100
    hits = index.by_text(imdb_texts[3], k=2)
    assert hits[0].id == "r3" and hits[0].score == pytest.approx(1.0, abs=1e-4)
