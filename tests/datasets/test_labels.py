"""One label-name source: the names stored with a dataset version, else the registry's declaration."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from nlpkit.datasets.korean import NEWS_CATEGORIES
from nlpkit.datasets.labels import int_label_names, label_key, label_names, name_of
from nlpkit.datasets.registry import BUILDERS
from nlpkit.store import Store


def _version(store: Store, name: str, parameters: dict) -> str:
    with store.write_version(name, parameters=parameters, source="test") as w:
        w.write(pa.table({"id": ["a", "b"], "text": ["x", "y"], "label": [0, 1]}))
    return store.latest(name).version


def test_the_names_stored_with_the_version_win(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    v1 = _version(store, "imdb", {"label_names": {"0": "bad", "1": "good"}})
    assert label_names(store, "imdb") == {"0": "bad", "1": "good"}  # not the registry's negative/positive
    _version(store, "imdb", {})
    assert label_names(store, "imdb") == {"0": "negative", "1": "positive"}  # a version without names
    assert label_names(store, "imdb", v1) == {"0": "bad", "1": "good"}  # each version keeps its own
    _version(store, "mine", {"labels": {"none": 0, "hate": 1}})  # name -> id, as the hate-speech builder stores
    assert label_names(store, "mine") == {"0": "none", "1": "hate"} and int_label_names(store, "mine") == {0: "none",
                                                                                                          1: "hate"}
    assert label_names(store, "unknown") == {} and label_names(None, "nsmc") == {"0": "negative", "1": "positive"}


def test_korean_news_reads_its_source_names_everywhere() -> None:
    assert [BUILDERS["korean_news"].label_names[i] for i in range(8)] == NEWS_CATEGORIES


@pytest.mark.parametrize(("value", "key"), [(1, "1"), (1.0, "1"), ("1", "1"), (2.5, "2.5"), ("경제", "경제")])
def test_label_values_meet_their_names_whatever_their_type(value: object, key: str) -> None:
    assert label_key(value) == key
    assert name_of({"1": "경제"}, value) == ("경제" if key == "1" else key)


def test_an_imported_corpus_stores_its_label_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from nlpkit.cli import _common, app

    src = tmp_path / "reviews.csv"
    src.write_text("text,label\n정말 재미있다,1\n지루했다,0\n최고의 영화,1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no flows.yaml here: settings come from the environment only
    monkeypatch.setenv("NLPKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NLPKIT_FLOWS", raising=False)
    _common._state.clear()  # the settings and store another test's command left behind
    runner = CliRunner()
    res = runner.invoke(app, ["data", "import", "reviews", str(src), "--label-col", "label",
                              "--label-names", "부정,긍정"])
    assert res.exit_code == 0, res.output
    assert label_names(Store(tmp_path / "data"), "reviews") == {"0": "부정", "1": "긍정"}
    _common._state.clear()
    res = runner.invoke(app, ["data", "import", "reviews", str(src), "--label-col", "label", "--label-names", "a,,b"])
    assert res.exit_code == 2 and res.output.startswith("error: --label-names 'a,,b'")
    assert len(res.output.strip().splitlines()) == 1
