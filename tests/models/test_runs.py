"""One ``model_runs`` schema: baseline, feature-classifier and RNN rows land in the same columns."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nlpkit.errors import ModelError
from nlpkit.models.runs import MODEL_RUNS, RUN_SCHEMA, append_runs, run_table


def test_rows_of_every_kind_share_one_schema(store: Any) -> None:
    from nlpkit.rnn.reports import history_table

    rnn = history_table("r1", "rnn_lstm", "nsmc", "models/x", [
        {"epoch": 1, "step": 10, "split": "valid", "elapsed_s": 1.5, "loss": 0.6, "accuracy": 0.7, "f1": 0.69},
        {"epoch": 1, "step": 10, "split": "train", "loss": 0.5, "tokens_per_s": 1e4}], params={"a": 1})
    baseline = run_table([{"model": "tfidf_lr", "dataset": "nsmc", "split": "test", "accuracy": 0.83, "n": 50000,
                           "params": json.dumps({"c": 1.0}), "model_version": "v3"}])
    assert rnn.schema == baseline.schema == RUN_SCHEMA
    append_runs(store, rnn)
    append_runs(store, baseline)
    rows = store.read_appended(MODEL_RUNS).to_pylist()
    assert [r["model"] for r in rows] == ["rnn_lstm", "rnn_lstm", "tfidf_lr"]
    assert rows[0]["accuracy"] == 0.7 and rows[1]["accuracy"] is None and rows[2]["n"] == 50000
    assert json.loads(rows[0]["params"]) == {"a": 1} and all(r["run_id"] and r["created_at"] for r in rows)


def test_unknown_or_missing_columns_are_errors() -> None:
    with pytest.raises(ModelError, match="no column"):
        run_table([{"model": "m", "dataset": "d", "split": "test", "acuracy": 0.9}])
    with pytest.raises(ModelError, match="needs model"):
        run_table([{"dataset": "d", "split": "test"}])


def test_one_prediction_type() -> None:
    import nlpkit.models.baseline as baseline
    import nlpkit.rnn as rnn
    from nlpkit.models.prediction import Prediction

    assert baseline.Prediction is Prediction is rnn.Prediction
    p = Prediction(1, "positive", 0.8, {"negative": 0.2, "positive": 0.8})
    assert str(p) == "positive\t0.800"
