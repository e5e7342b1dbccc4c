"""The seq2seq flow in Prefect's local mode: three variants trained, saved, reloaded, recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpkit.store import Store


@pytest.mark.timeout(300)
def test_seq2seq_flow_trains_three_variants(prefect_harness: None, tmp_path: Path) -> None:
    from pipelines.train import train_seq2seq_flow

    data_dir = tmp_path / "data"
    out = train_seq2seq_flow(out=str(tmp_path / "models"), max_digits=1, n_train=90, n_test=10, epochs=2, threads=1,
                             device="cpu", data_dir=str(data_dir))
    assert list(out) == ["plain", "reversed", "reversed+peeky"]
    for metrics in out.values():
        assert metrics["reloaded_test_exact_match"] == pytest.approx(metrics["test_exact_match"])
    runs = Store(data_dir).read_appended("model_runs").to_pylist()
    assert {r["model"] for r in runs} == {"seq2seq_plain", "seq2seq_reversed", "seq2seq_reversed+peeky"}
