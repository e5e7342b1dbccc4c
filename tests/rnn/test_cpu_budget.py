"""The CPU-time budget (``max_cpu_minutes``) stops training honestly on a shared machine.

It counts the process's CPU time (all threads), not wall time: waiting for the CPU while the
neighbours run is free, and CPU spent before a resume still counts. Training stops within one
step of the budget, and the run records why it stopped, with CPU and wall seconds, in
``metrics.json`` and ``config.json`` (hence in every ``model_runs`` row).

The budget tests drive training with a fake :class:`Clock` (a fixed CPU and wall cost per step),
so they assert the mechanism (which step stops, which budget) and pass or fail the same on a
fast idle machine and a slow loaded one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nlpkit.errors import ModelError
from nlpkit.rnn.train_loop import Clock, ProgressEvent, TrainOptions

TINY = {"tokenizer": "chars", "arch": "gru", "embed_dim": 16, "hidden_size": 24, "max_len": 60}


def _train(splits: Any, out: Path, opts: TrainOptions, on_progress: Any = None, resume: bool = False,
           clock: Clock | None = None) -> Any:
    from nlpkit.rnn.classify import train_classifier

    return train_classifier(splits, out=out, opts=opts, on_progress=on_progress, resume=resume, clock=clock, **TINY)


class _FakeClock:
    """A machine whose speed the test decides: each training step costs ``step_cpu`` CPU seconds
    and ``step_wall`` wall seconds, whatever the real CPU does (the budgets read only this clock)."""

    def __init__(self, step_cpu: float = 0.1, step_wall: float = 0.1) -> None:
        self.cpu_s = 1000.0  # an arbitrary origin: the loop must measure from its own start
        self.wall_s = 5000.0
        self.step_cpu, self.step_wall = step_cpu, step_wall
        self.steps = 0
        self.clock = Clock(wall=lambda: self.wall_s, cpu=lambda: self.cpu_s)

    def __call__(self, ev: ProgressEvent) -> None:  # on_progress: one more step was spent
        self.steps += 1
        self.cpu_s += self.step_cpu
        self.wall_s += self.step_wall


def test_cpu_budget_stops_training_after_the_step_that_spends_it(nsmc_splits: Any, tmp_path: Path) -> None:
    budget_min = 0.03  # 1.8 CPU seconds = 18 steps of 0.1 s on the fake clock: inside the first epoch
    fake = _FakeClock(step_cpu=0.1)
    result = _train(nsmc_splits, tmp_path / "m", TrainOptions(epochs=50, batch_size=32, warmup_steps=5, threads=1,
                                                              max_cpu_minutes=budget_min), fake, clock=fake.clock)
    m = result.metrics
    assert m["stop_reason"] == "max_cpu_minutes"
    assert m["steps"] == fake.steps == 18 and m["epochs"] == 1  # stopped right after the step reaching 1.8 s
    assert m["stop_cpu_seconds"] == pytest.approx(1.8)
    assert m["cpu_seconds"] >= m["stop_cpu_seconds"]  # the total adds the last validation
    config = json.loads((result.model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["train"]["max_cpu_minutes"] == budget_min
    assert config["run"]["stop_reason"] == "max_cpu_minutes" and config["run"]["threads"] == 1
    assert config["run"]["cpu_seconds"] == m["cpu_seconds"] and config["run"]["wall_seconds"] == m["wall_seconds"]


def test_waiting_is_not_cpu_time(nsmc_splits: Any, tmp_path: Path) -> None:
    """A loaded machine (10 wall seconds per step) spends wall time, not the CPU budget."""
    fake = _FakeClock(step_cpu=0.1, step_wall=10.0)
    m = _train(nsmc_splits, tmp_path / "m", TrainOptions(epochs=50, batch_size=32, warmup_steps=5, threads=1,
                                                         max_cpu_minutes=0.02), fake, clock=fake.clock).metrics
    assert m["stop_reason"] == "max_cpu_minutes" and m["steps"] == 12  # 1.2 CPU s, however long it waited
    assert m["wall_seconds"] == pytest.approx(120.0, abs=0.2)


def test_wall_budget_stops_on_wall_time(nsmc_splits: Any, tmp_path: Path) -> None:
    """``max_minutes`` is the wall clock: with both budgets, the one spent first stops training."""
    fake = _FakeClock(step_cpu=0.1, step_wall=10.0)
    m = _train(nsmc_splits, tmp_path / "m", TrainOptions(epochs=50, batch_size=32, warmup_steps=5, threads=1,
                                                         max_cpu_minutes=0.02, max_minutes=1.0), fake,
               clock=fake.clock).metrics
    assert m["stop_reason"] == "max_minutes" and m["steps"] == 6  # 60 wall s reached before 1.2 CPU s


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
