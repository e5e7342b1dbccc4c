"""A store with the real korean_news corpus and its TF-IDF baseline (built once per module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpkit.store import Store


@pytest.fixture(scope="module")
def news_store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Store:
    from nlpkit.datasets.korean import build_korean_news
    from nlpkit.models.baseline import BaselineConfig, train_baseline

    store = Store(tmp_path_factory.mktemp("topics") / "data")
    build_korean_news(store, shared_data / "korean_news" / "articles.jsonl.gz")
    # one C (the grid's best on valid here) keeps the fixture to seconds on a busy machine
    train_baseline(store, "korean_news", BaselineConfig(c_grid=(32.0,)))
    return store
