"""The app's corpus on real IMDB reviews without titles or a term index: titles are the first words,
labels are named, and a search says the index is missing (with the command) instead of scanning bodies."""

from __future__ import annotations

import html
import re
import tarfile
from pathlib import Path

import pyarrow as pa
import pytest

from nlpkit.store import SqlSandbox, Store
from nlpkit.ui import Explorer
from nlpkit.ui.corpus import first_words

N = 240


@pytest.fixture(scope="module")
def reviews_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The first real aclImdb reviews as dataset ``imdb`` (no title column, no features built); the label
    stored as a nullable float (1.0 / 0.0 / null for unsup), as a pandas writer leaves nullable integers."""
    ids, texts, labels, splits = [], [], [], []
    with tarfile.open(shared_data / "imdb" / "aclImdb_v1.tar.gz", "r:gz") as tf:
        for m in tf:
            parts = m.name.split("/")
            if m.isfile() and m.name.endswith(".txt") and len(parts) == 4 and parts[2] in ("pos", "neg", "unsup"):
                ids.append(f"{parts[1]}_{parts[2]}_{parts[3][:-4]}")
                texts.append(tf.extractfile(m).read().decode("utf-8"))  # type: ignore[union-attr]
                labels.append({"pos": 1.0, "neg": 0.0}.get(parts[2]))
                splits.append(parts[1])
                if len(ids) == N:
                    break
    store = Store(tmp_path_factory.mktemp("reviews") / "data")
    with store.write_version("imdb") as w:
        w.write(pa.table({"id": ids, "text": texts, "label": pa.array(labels, pa.float64()), "split": splits}))
    return store


def test_untitled_reviews_are_titled_by_their_first_words(reviews_store: Store) -> None:
    c = Explorer(reviews_store).corpus("imdb")
    _, rows = SqlSandbox(reviews_store).query("SELECT id, text, label FROM imdb")
    assert len(c) == len(rows) == N
    for doc, text, label in rows:
        r = c.row[doc]
        assert c.get("text", r) == text
        assert c.get("title", r) == first_words(text) and c.get("title", r)
        assert c.get("label", r) == {1.0: "positive", 0.0: "negative", None: ""}[label]
    assert dict(c.facets())["label"] == sorted({c.get("label", r) for r in range(N)} - {""})


def test_first_words_cuts_long_texts_and_keeps_short_ones() -> None:
    assert first_words("one two three", 2) == "one two …"
    assert first_words("one two", 2) == "one two"
    assert first_words("x" * 500 + " tail", 2) == "x" * 500 + " tail"  # a head without two words reads on
    assert first_words("", 3) == ""


def test_search_without_an_index_names_the_command(reviews_store: Store) -> None:
    from starlette.testclient import TestClient

    from nlpkit.ui.app import create_app

    found = Explorer(reviews_store).search("imdb", "gripping thriller")
    assert found.hits == [] and found.total == 0
    assert "no term index" in found.missing and "`nlpkit features build imdb`" in found.missing
    with TestClient(create_app(reviews_store, warm=False), base_url="http://127.0.0.1") as client:
        r = client.get("/articles", params={"dataset": "imdb", "q": "gripping thriller"})
        assert r.status_code == 200
        assert re.findall(r'id="no-index">([^<]*)<', r.text) == [found.missing.replace("'", "&#39;")]
        assert 'class="hit"' not in r.text
        c = Explorer(reviews_store).corpus("imdb")
        label = c.get("label", 0)
        listed = client.get("/articles", params={"dataset": "imdb", "label": label})  # no query: the list
        titles = re.findall(r'class="title" href="[^"]+">([^<]+)<', listed.text)
        want = [c.get("title", r) for r in range(N) if c.get("label", r) == label][:50]
        assert [html.unescape(t) for t in titles] == want and "no-index" not in listed.text
