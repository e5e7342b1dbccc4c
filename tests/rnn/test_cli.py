"""The RNN commands end to end through the CLI (small real inputs, one thread)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpkit.cli import _common, app
from nlpkit.store import Store

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_common, "_state", {})  # settings are cached per process; start clean
    return {"NLPKIT_DATA_DIR": str(tmp_path / "data"), "NLPKIT_NO_PROGRESS": "1"}


def test_train_lm_generate_evaluate_and_bad_arguments(env, shakespeare: str, tmp_path: Path) -> None:
    text = tmp_path / "shakespeare.txt"
    text.write_text(shakespeare[:30_000], encoding="utf-8")
    r = runner.invoke(app, ["train", "lm", "--text", str(text), "--out", "m", "--hidden-size", "32", "--layers", "1",
                            "--seq-len", "32", "--batch-size", "16", "--epochs", "1", "--threads", "1"], env=env)
    assert r.exit_code == 0, r.output
    assert "valid_nats_per_char" in r.output
    r = runner.invoke(app, ["models", "generate", "m", "--prompt", "First", "--length", "30", "--top-k", "5", "--seed", "1"],
                      env=env)
    assert r.exit_code == 0 and r.output.startswith("First") and len(r.output.strip()) >= 30
    r = runner.invoke(app, ["models", "evaluate", "m"], env=env)
    assert r.exit_code == 0 and "nats_per_token" in r.output
    for bad, msg in ((["--temperature", "0"], "temperature must be"), (["--top-k", "0"], "top_k must be")):
        r = runner.invoke(app, ["models", "generate", "m", "--prompt", "A", *bad], env=env)
        assert r.exit_code == 2 and msg in r.output
    r = runner.invoke(app, ["models", "plot-temperature", "m", "--prompt", "First ", "--out", "t.png", "--length", "20",
                            "--samples", "1"], env=env)
    assert r.exit_code == 0 and (tmp_path / "t.png").is_file()
    r = runner.invoke(app, ["models", "evaluate", "nowhere"], env=env)
    assert r.exit_code == 2 and "not an nlpkit RNN model directory" in r.output


def test_train_classifier_from_store_and_predict(env, nsmc_rows, tmp_path: Path) -> None:
    import pyarrow as pa

    rows = nsmc_rows[:1200]
    store = Store(tmp_path / "data")
    table = pa.table({"id": [str(i) for i in range(len(rows))], "text": [t for t, _ in rows],
                      "label": [int(lab) for _, lab in rows],
                      "split": ["train" if i % 10 < 8 else "valid" if i % 10 == 8 else "test" for i in range(len(rows))]})
    with store.write_version("nsmc_slice") as w:
        w.write(table)
    r = runner.invoke(app, ["train", "classifier", "--dataset", "nsmc_slice", "--tokenizer", "chars", "--arch", "gru",
                            "--out", "cls", "--epochs", "1", "--hidden-size", "16", "--embed-dim", "16",
                            "--threads", "1", "--max-len", "60"], env=env)
    assert r.exit_code == 0, r.output
    assert "test_accuracy" in r.output
    r = runner.invoke(app, ["models", "evaluate", "cls"], env=env)
    assert r.exit_code == 0 and "accuracy" in r.output
    r = runner.invoke(app, ["models", "predict", "cls", "재미있어요"], env=env)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0].startswith("label\tprobability") and r.output.splitlines()[1].split("\t")[0] in ("0", "1")
    runs = store.read_appended("model_runs").to_pylist()
    assert {(x["model"], x["split"]) for x in runs} >= {("rnn_gru", "valid"), ("rnn_gru", "test")}


def test_seq2seq_flags_are_checked(env) -> None:
    r = runner.invoke(app, ["train", "seq2seq", "--out", "s", "--compare", "--peeky"], env=env)
    assert r.exit_code == 2 and "--compare trains all three variants" in r.output
    r = runner.invoke(app, ["train", "seq2seq", "--out", "s", "--task", "copy", "--epochs", "1"], env=env)
    assert r.exit_code == 2 and "unknown seq2seq task 'copy'" in r.output


def test_seq2seq_sized_to_a_cpu_budget_keeps_what_the_command_line_pinned(env, tmp_path: Path) -> None:
    """`--size budget --max-cpu-minutes`: the rule picks the rest, --hidden-size typed by the user is kept,
    and config.json says what was chosen and why."""
    import json

    r = runner.invoke(app, ["train", "seq2seq", "--out", "s", "--size", "budget", "--max-cpu-minutes", "0.05",
                            "--hidden-size", "24", "--n-train", "2000", "--n-test", "200", "--threads", "1"], env=env)
    assert r.exit_code == 0, r.output
    config = json.loads((tmp_path / "s" / "config.json").read_text(encoding="utf-8"))
    sizing = config["sizing"]
    assert sizing["pinned"] == {"hidden_size": 24} and config["model"]["hidden_size"] == 24
    assert sizing["clock"] == "cpu" and 0 < sizing["budget_seconds"] <= 3 and sizing["throughput"] > 0
    assert config["train"]["batch_size"] == sizing["sizes"]["batch_size"]  # chosen (not typed), recorded
    assert config["train"]["max_cpu_minutes"] <= 0.05  # the probe's CPU time came off the budget
    assert config["run"]["cpu_seconds"] <= 3 + 2  # stopped by its CPU budget (one step and a validation past it)
    r = runner.invoke(app, ["train", "seq2seq", "--out", "s2", "--size", "auto", "--epochs", "1"], env=env)
    assert r.exit_code == 2 and "--size 'auto'" in r.output and "budget" in r.output
