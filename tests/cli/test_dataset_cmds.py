"""`nlpkit rebuild`, `baseline`, `predict` through the real Typer app."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpkit.cli import _common, app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path):
    monkeypatch.chdir(tmp_path)  # no flows.yaml here: settings come from the environment only
    monkeypatch.setenv("NLPKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NLTK_DATA", str(shared_data / "nltk_data"))
    monkeypatch.delenv("NLPKIT_FLOWS", raising=False)
    _common._state.clear()
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        _common._state.clear()
        res = runner.invoke(app, list(args))
        return res.exit_code, res.output + (res.stderr if res.stderr_bytes is not None else "")

    return invoke


def test_rebuild_baseline_predict_end_to_end(cli, imdb_sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = imdb_sample(120)
    monkeypatch.setenv("NLPKIT_IMDB_SOURCE", str(src))  # the env override is the default source
    code, out = cli("data", "rebuild", "imdb", "--valid-fraction", "0.2")
    assert code == 0, out
    assert "imdb v1: 600 rows (train 192, valid 48, test 240, unsup 120), 0 rejected" in out
    assert "then imdb_baseline v1: test accuracy" in out  # imdb's dependant, trained even before the first
    code, out = cli("models", "baseline", "imdb", "--c", "2", "--c", "16")
    assert code == 0, out
    assert "chosen on valid" in out and "imdb_baseline v2" in out and "test" in out
    code, out = cli("models", "predict", "imdb", "A masterpiece, wonderful and moving, I loved it", "Dreadful, boring, awful")
    assert code == 0, out
    header, *lines = [line.split("\t") for line in out.strip().splitlines()]
    assert header == ["label", "probability", "runner-up", "text"]
    assert [line[0] for line in lines] == ["positive", "negative"]  # names, not ids
    assert all(0.5 < float(line[1]) <= 1 for line in lines)
    assert [line[2].split()[0] for line in lines] == ["negative", "positive"]  # the runner-up, by name too
    code, out = cli("models", "predict", "imdb", "정말 감동적이고 아름다운 영화였다")
    assert code == 0 and "warning: " in out and "trained on English text; this text looks Korean" in out, out
    code, out = cli("query", "SELECT count(*) AS n FROM model_runs WHERE dataset = 'imdb' AND model_version = 'v2'")
    assert code == 0 and "│ 2 │" in out  # valid + test rows of the model predict used


def test_rebuild_korean_corpus_with_explicit_source(cli, shared_data: Path) -> None:
    code, out = cli("data", "rebuild", "korsts", "--source", str(shared_data / "kornlu"))
    assert code == 0, out
    assert "korsts v1: 8,628 rows (train 5,749, valid 1,500, test 1,379), 0 rejected" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["data", "rebuild", "ynat"], "unknown dataset 'ynat'; rebuildable datasets: imdb, nsmc"),
        (["data", "rebuild", "nsmc", "--source", "/no/such/file.zip"], "source '/no/such/file.zip' does not exist"),
        (["models", "predict", "imdb", "text"], "no baseline model for dataset 'imdb'; train one with `nlpkit models baseline imdb`"),
        (["models", "baseline", "imdb", "--variant", "svm"], "--variant 'svm': expected lr or nblr"),
        (["models", "predict", "./", "text"], "not a model directory"),
    ],
)
def test_errors_are_one_clear_line(cli, args: list[str], message: str) -> None:
    code, out = cli(*args)
    assert code == 2
    assert message in " ".join(out.split())
