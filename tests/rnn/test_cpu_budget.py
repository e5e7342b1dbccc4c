"""The CPU-time budget (``max_cpu_minutes``) stops training honestly on a shared machine.

It counts the process's CPU time (all threads), not wall time: waiting for the CPU while the
neighbours run is free, and CPU spent before a resume still counts. Training stops within one
step of the budget, and the run records why it stopped, with CPU and wall seconds, in
``metrics.json`` and ``config.json`` (hence in every ``model_runs`` row).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from nlpkit.errors import ModelError
from nlpkit.rnn.train_loop import ProgressEvent, TrainOptions

TINY = {"tokenizer": "chars", "arch": "gru", "embed_dim": 16, "hidden_size": 24, "max_len": 60}


def _train(splits: Any, out: Path, opts: TrainOptions, on_progress: Any = None, resume: bool = False) -> Any:
    from nlpkit.rnn.classify import train_classifier

    return train_classifier(splits, out=out, opts=opts, on_progress=on_progress, resume=resume, **TINY)


class _StepClock:
    """Process CPU time at every training step (to size "one batch's worth")."""

    def __init__(self, sleep_s: float = 0.0) -> None:
        self.cpu: list[float] = [time.process_time()]
        self.sleep_s = sleep_s

    def __call__(self, ev: ProgressEvent) -> None:
        self.cpu.append(time.process_time())
        if self.sleep_s:
            time.sleep(self.sleep_s)  # a busy neighbour: wall time passes, this process's CPU time does not

    def longest_step(self) -> float:
        return max(b - a for a, b in zip(self.cpu, self.cpu[1:], strict=False))


def test_cpu_budget_stops_training_within_one_step(nsmc_splits: Any, tmp_path: Path) -> None:
    budget_min = 0.03  # 1.8 CPU seconds: a fraction of one epoch of ~3,200 reviews
    clock = _StepClock()
    result = _train(nsmc_splits, tmp_path / "m", TrainOptions(epochs=50, batch_size=32, warmup_steps=5, threads=1,
                                                              max_cpu_minutes=budget_min), clock)
    m = result.metrics
    assert m["stop_reason"] == "max_cpu_minutes"
    assert m["epochs"] == 1 and m["steps"] < 3200 // 32  # stopped inside the first epoch
    budget = 60 * budget_min
    assert budget <= m["stop_cpu_seconds"] <= budget + clock.longest_step() + 0.05
    assert m["cpu_seconds"] >= m["stop_cpu_seconds"]  # the total adds the last validation
    config = json.loads((result.model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["train"]["max_cpu_minutes"] == budget_min
    assert config["run"]["stop_reason"] == "max_cpu_minutes" and config["run"]["threads"] == 1
    assert config["run"]["cpu_seconds"] == m["cpu_seconds"] and config["run"]["wall_seconds"] == m["wall_seconds"]


def test_waiting_is_not_cpu_time(nsmc_splits: Any, tmp_path: Path) -> None:
    """A step that waits (a loaded machine) spends wall time, not the CPU budget."""
    clock = _StepClock(sleep_s=0.03)
    m = _train(nsmc_splits, tmp_path / "m", TrainOptions(epochs=50, batch_size=32, warmup_steps=5, threads=1,
                                                         max_cpu_minutes=0.02), clock).metrics
    assert m["stop_reason"] == "max_cpu_minutes"
    assert m["wall_seconds"] > m["cpu_seconds"] + 0.03 * (m["steps"] - 1)


def test_without_a_budget_the_epochs_end_training(nsmc_splits: Any, tmp_path: Path) -> None:
    m = _train(nsmc_splits, tmp_path / "m", TrainOptions(epochs=1, batch_size=128, threads=1)).metrics
    assert m["stop_reason"] == "epochs" and m["stop_cpu_seconds"] is None
    assert m["cpu_seconds"] > 0 and m["threads"] == 1


def test_cpu_spent_before_a_resume_counts(nsmc_splits: Any, tmp_path: Path) -> None:
    opts = TrainOptions(epochs=50, batch_size=32, warmup_steps=5, threads=1, max_cpu_minutes=0.02)
    first = _train(nsmc_splits, tmp_path / "m", opts).metrics
    again = _train(nsmc_splits, tmp_path / "m", opts, resume=True).metrics
    assert again["stop_reason"] == "max_cpu_minutes"
    assert again["steps"] == first["steps"]  # the budget was already spent: no further step
    assert again["cpu_seconds"] >= first["cpu_seconds"]


@pytest.mark.parametrize("bad", [0, -1.0])
def test_budget_must_be_positive(bad: float) -> None:
    with pytest.raises(ModelError, match="max_cpu_minutes must be > 0"):
        TrainOptions(max_cpu_minutes=bad)
