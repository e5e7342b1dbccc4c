"""Tokens are computed once: features read the stored tokens dataset; a dictionary change makes the
build stale and `rebuild` redoes it. Real Korean news, a counting wrapper around Kiwi."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import pytest

from nlpkit.rebuild import find_dependants, rebuild_dependant
from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.features.build import BuildOptions, build_features, load_index
from nlpkit.features.stale import is_stale, stale_reasons
from nlpkit.features.storeio import feature_table
from nlpkit.store import Store
from nlpkit.tokenize import BACKENDS, DEFAULT_KO_DICT, TermSpec
from nlpkit.tokenize.dataset import tokenize_dataset
from tests.features.conftest import write_news_slice

OPTIONS = dict(k=5, k_values=(4, 6), pca_components=10)


class CountingTokenizer:
    """Kiwi, counting every text it is asked to analyse."""

    name = "counting"
    calls: ClassVar[int] = 0

    def __init__(self, *, user_dicts: Iterable[Any] = (), **options: Any) -> None:
        from nlpkit.tokenize.kiwi import KiwiTokenizer

        self.inner = KiwiTokenizer(user_dicts=user_dicts, cache=False, **options)

    @property
    def config(self) -> dict[str, object]:
        return {**self.inner.config, "name": self.name}

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    @property
    def dict_sha256(self) -> str:
        return self.inner.dict_sha256

    def tokenize(self, text: str) -> list[Any]:
        CountingTokenizer.calls += 1
        return self.inner.tokenize(text)

    def tokenize_batch(self, texts: Iterable[str]) -> Iterator[list[Any]]:
        for text in texts:
            CountingTokenizer.calls += 1
            yield from self.inner.tokenize_batch([text])


@pytest.fixture()
def counting(monkeypatch):
    monkeypatch.setitem(BACKENDS, "counting", f"{__name__}:CountingTokenizer")
    CountingTokenizer.calls = 0
    return CountingTokenizer


@pytest.fixture()
def news(news_rows, tmp_path):
    store = Store(tmp_path / "data")
    import_corpus(store, "news", write_news_slice(news_rows, tmp_path / "news.jsonl", 6),
                  ImportOptions(label_col="label", id_col="id"))
    user_dict = tmp_path / "news.tsv"
    shutil.copy(DEFAULT_KO_DICT, user_dict)
    return store, user_dict


def test_a_corpus_tokenized_once_is_never_tokenized_again(news, counting):
    store, user_dict = news
    n = store.read("news").num_rows
    tokenize_dataset(store, "news", "counting", user_dicts=[user_dict])  # the tokenize stage
    assert counting.calls == n
    spec = TermSpec(backend="counting", user_dicts=(str(user_dict),), view="content", stopwords="ko")
    first = build_features(store, "news", BuildOptions(spec=spec, **OPTIONS))
    second = build_features(store, "news", BuildOptions(spec=spec, **OPTIONS))
    assert counting.calls == n and first.tokenized_now == second.tokenized_now == 0
    params = store.latest("features_news").manifest["parameters"]
    assert params["tokens_dataset"] == "tokens_news_counting"
    assert params["tokens_version"] == store.latest("tokens_news_counting").version
    assert params["dict_sha256"] == list(spec.dict_sha256) and TermSpec.from_dict(params["spec"]) == spec
    # `similar --text`: the new text alone is tokenized, with exactly the stored spec
    index = load_index(store, "news")
    assert index.spec == spec
    row = store.read("news").slice(3, 1).to_pylist()[0]
    assert index.by_text(row["text"], k=1)[0].id == row["id"]
    assert counting.calls == n + 1


def test_dictionary_change_makes_features_stale_and_rebuild_redoes_them(news, counting):
    store, user_dict = news
    spec = TermSpec(backend="counting", user_dicts=(str(user_dict),), view="content", stopwords="ko")
    build_features(store, "news", BuildOptions(spec=spec, **OPTIONS))
    assert not is_stale(store, "news")
    vocab = set(load_index(store, "news").tfidf.vocabulary_)
    # a word of the corpus that Kiwi splits, added to the dictionary
    assert "정부" in vocab and "정부가" not in vocab
    with user_dict.open("a", encoding="utf-8") as f:
        f.write("정부가\tNNP\n")
    assert any("user dictionary" in r for r in stale_reasons(store, "news"))
    before = counting.calls
    deps = [d for d in find_dependants(store, "news") if d.kind == "features"]
    assert len(deps) == 1
    summary = rebuild_dependant(store, "news", deps[0])
    assert "rebuilt" in summary and counting.calls - before == store.read("news").num_rows
    assert not is_stale(store, "news")
    index = load_index(store, "news")
    assert "정부가" in index.tfidf.vocabulary_ and index.spec.dict_sha256 != spec.dict_sha256
    assert "up to date" in rebuild_dependant(store, "news", find_dependants(store, "news")[-1])


def test_keyword_tables_of_real_korean_news_have_no_single_syllable_function_words(news_rows, tmp_path):
    """Default Korean features (shipped stopwords + news dictionary) on 400 real articles."""
    store = Store(tmp_path / "data")
    import_corpus(store, "news", write_news_slice(news_rows, tmp_path / "news.jsonl", 50),
                  ImportOptions(label_col="label", id_col="id"))
    build_features(store, "news", BuildOptions(**OPTIONS))
    kw = feature_table(store, "news", "tfidf_keywords")
    terms = set(kw.column("term").to_pylist())
    assert not {"씨", "없", "받", "대하", "명", "원", "억", "만", "거"} & terms
    assert "드루킹" in terms  # the user dictionary keeps it whole
