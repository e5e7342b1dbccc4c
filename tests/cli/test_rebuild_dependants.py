"""`nlpkit rebuild DATASET` also rebuilds what is built from it: baseline model, token datasets."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpkit.cli import _common, app
from nlpkit.rebuild import find_dependants
from nlpkit.store import Store
from nlpkit.tokenize.dataset import tokenize_dataset


def test_rebuild_retrains_baseline_and_retokenizes_incrementally(tmp_path: Path, shared_data: Path, imdb_sample,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NLPKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NLTK_DATA", str(shared_data / "nltk_data"))
    monkeypatch.delenv("NLPKIT_FLOWS", raising=False)
    small, bigger = imdb_sample(40), imdb_sample(50)

    def cli(*args: str) -> str:
        _common._state.clear()
        res = CliRunner().invoke(app, list(args))
        assert res.exit_code == 0, res.output
        return " ".join(res.output.split())

    out = cli("data", "rebuild", "imdb", "--source", str(small), "--no-dependants")
    assert "imdb v1: 200 rows" in out and "then" not in out
    store = Store(tmp_path / "data")
    assert "imdb_baseline" not in store.datasets()
    cli("models", "baseline", "imdb", "--c", "4")
    tokenize_dataset(store, "imdb", "english")
    deps = find_dependants(store, "imdb")
    # the baseline reads stored tokens (tokens_imdb_regex, built by its first training), so they are dependants too
    assert deps[0].kind == "baseline" and deps[0].name == "imdb_baseline"
    assert {(d.kind, d.name) for d in deps[1:]} == {("tokens", "tokens_imdb_english"), ("tokens", "tokens_imdb_regex")}

    out = cli("data", "rebuild", "imdb", "--source", str(bigger))
    assert "imdb v2: 250 rows" in out
    assert "then imdb_baseline v2: test accuracy" in out and "(C=4)" in out  # retrained with its own parameters
    # the 200 documents of the smaller sample are in the bigger one: only the 50 new ones are tokenized
    assert "then tokens_imdb_english v2: 50 tokenized, 200 reused, 0 dropped" in out
    assert store.latest("tokens_imdb_english").rows == 250
