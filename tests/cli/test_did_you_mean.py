"""A mistyped dataset name gets "did you mean X?" in its one-line error, from the store and the registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlpkit.datasets.korean import build_korean_news
from nlpkit.store import Store
from nlpkit.suggest import close_matches, did_you_mean, missing_hint
from tests.cli_harness import cli_invoker
from tests.features.conftest import news_rows, write_articles_subset  # noqa: F401 (a fixture)


@pytest.fixture
def invoke(news_rows: list[dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A store holding the real korean_news dataset (2 articles per topic), nothing built from it."""
    subset = write_articles_subset(news_rows, tmp_path / "articles.jsonl", 2)
    build_korean_news(Store(tmp_path / "data"), subset)
    return cli_invoker(tmp_path, monkeypatch)


@pytest.mark.parametrize("args", [
    ["data", "history", "korean_nws"],
    ["history", "korean_nws"],                      # the old name too
    ["features", "build", "korean_nws"],
    ["features", "similar", "-d", "korean_nws", "--text", "반도체"],
    ["features", "classify", "korean_nws"],
    ["models", "baseline", "korean_nws"],
    ["tokens", "dataset", "korean_nws"],
    ["data", "rebuild", "korean_nws"],              # the registry: rebuildable names
    ["topics", "cv", "--dataset", "korean_nws"],
    ["models", "predict", "korean_nws", "좋은 기사"],
])
def test_unknown_dataset_says_did_you_mean(invoke, args):
    code, out = invoke(*args)
    error = [line for line in out.splitlines() if line.startswith("error:")]
    assert code == 2, out
    assert len(error) == 1 and "did you mean 'korean_news'?" in error[0], out
    assert "Traceback" not in out


def test_a_registered_but_unbuilt_dataset_is_suggested_with_how_to_build_it(invoke):
    code, out = invoke("features", "build", "imbd")
    assert code == 2
    assert "dataset 'imbd' is not in the store; did you mean 'imdb'? Build it with `nlpkit data rebuild imdb`." in out


def test_nothing_close_keeps_the_list_of_known_datasets(invoke):
    code, out = invoke("data", "history", "zzz")
    assert code == 2 and "did you mean" not in out and "known datasets: korean_news" in out


def test_similar_on_a_stored_dataset_without_features_says_how_to_build_them(invoke):
    code, out = invoke("features", "similar", "-d", "korean_news", "--text", "반도체")
    assert code == 2 and "run `nlpkit features build korean_news` first" in out


@given(st.text(min_size=1, max_size=12), st.lists(st.text(max_size=12), max_size=8))
def test_suggestions_come_from_the_candidates_and_never_repeat_the_name(name, candidates):
    matches = close_matches(name, candidates)
    assert len(matches) <= 3 and all(m in candidates for m in matches)
    assert name.lower() not in [m.lower() for m in matches]
    hint = did_you_mean(name, candidates)
    assert hint == "" if not matches else hint == f"did you mean {matches[0]!r}?"


def test_missing_hint_prefers_what_is_built_then_what_is_stored():
    assert missing_hint("korean_nws", ["korean_news"], ["korean_news", "imdb"], "with features") == (
        "did you mean 'korean_news'? (with features: korean_news)", "korean_news")
    assert missing_hint("korean_nws", [], ["korean_news"], "x") == ("did you mean 'korean_news'?", "korean_news")
    assert missing_hint("korean_news", [], ["korean_news", "korean_newz"], "x") == ("", "korean_news")  # stored as is
    assert missing_hint("zzz", ["imdb"], ["imdb"], "x") == ("", "zzz")
