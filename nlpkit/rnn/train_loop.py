"""What every trainer shares: options, seeds, the LR schedule, time budgets, early stopping.

The learning rate follows a pure function of progress (nanoGPT style): linear warm-up, then a
cosine decay to ``min_lr_ratio * lr``. Progress is the largest of the step fraction and the
fractions of the budgets used, so a time-bounded run still ends with a decayed rate.

Two budgets: ``max_minutes`` is wall-clock time; ``max_cpu_minutes`` is the process's CPU time
(``time.process_time``: user + system time summed over all its threads, torch's included), the
honest measure on a shared machine where wall time depends on the neighbours' load. The
budget is checked after every step, so a run overshoots it by at most one step. CPU time
used before a resume counts against the budget.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from nlpkit.errors import ModelError

if TYPE_CHECKING:
    import torch

    from nlpkit.rnn.device import Runtime

__all__ = ["Clock", "TrainOptions", "ProgressEvent", "ProgressFn", "Loop", "StopReason", "lr_factor", "set_seed"]

#: Why training ended: epochs done, patience used up, a budget spent, or the task had nothing left to learn.
StopReason = Literal["epochs", "early_stopping", "max_minutes", "max_cpu_minutes", "done"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOptions:
    """Optimisation settings shared by the classifier, the language model and seq2seq."""

    epochs: int = 10  # full passes over the training data (upper bound)
    batch_size: int = 64
    lr: float = 2e-3  # AdamW peak learning rate
    weight_decay: float = 0.01  # AdamW decoupled weight decay (not applied to biases/norms)
    clip: float | None = 1.0  # max global gradient norm; None disables clipping
    warmup_steps: int = 100  # linear warm-up steps
    min_lr_ratio: float = 0.05  # final LR as a fraction of the peak
    patience: int = 3  # evaluations without improvement before early stopping
    max_minutes: float | None = None  # wall-clock budget for training (None: unbounded)
    max_cpu_minutes: float | None = None  # process CPU-time budget, all threads summed (None: unbounded)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    amp: bool = True  # mixed precision on CUDA
    compile: bool = False  # torch.compile on CUDA
    threads: int | None = None  # CPU threads (None: torch default)

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, "epochs", ">= 1"),
            (self.batch_size >= 1, "batch_size", ">= 1"),
            (self.lr > 0, "lr", "> 0"),
            (self.weight_decay >= 0, "weight_decay", ">= 0"),
            (self.clip is None or self.clip > 0, "clip", "> 0 or None"),
            (self.warmup_steps >= 0, "warmup_steps", ">= 0"),
            (0 <= self.min_lr_ratio <= 1, "min_lr_ratio", "in [0, 1]"),
            (self.patience >= 1, "patience", ">= 1"),
            (self.max_minutes is None or self.max_minutes > 0, "max_minutes", "> 0"),
            (self.max_cpu_minutes is None or self.max_cpu_minutes > 0, "max_cpu_minutes", "> 0"),
        ]
        for ok, name, want in checks:
            if not ok:
                raise ModelError(f"training option {name} must be {want}, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProgressEvent:
    """One training step, as shown by progress bars."""

    epoch: int
    step: int
    steps_per_epoch: int
    loss: float
    tokens_per_s: float
    lr: float


ProgressFn = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class Clock:
    """Where the budgets read the time: wall seconds and the process's CPU seconds (all threads).

    Passed in (never read from globals) so a test can drive the budgets with a fake clock and
    assert the mechanism (stop after the step that spends the budget) instead of a duration
    that depends on the machine's speed and load.
    """

    wall: Callable[[], float] = time.perf_counter
    cpu: Callable[[], float] = time.process_time


def set_seed(seed: int) -> None:
    """Seed Python's and torch's generators (CPU and CUDA)."""
    from nlpkit.rnn._torch import torch

    random.seed(seed)
    torch.manual_seed(seed)


def lr_factor(step: int, progress: float, warmup_steps: int, min_ratio: float) -> float:
    """Multiplier of the peak LR: linear warm-up over ``warmup_steps``, then cosine to ``min_ratio``.

    >>> lr_factor(0, 0.0, 10, 0.1), lr_factor(10, 0.0, 10, 0.1), round(lr_factor(99, 1.0, 10, 0.1), 3)
    (0.1, 1.0, 0.1)
    """
    if warmup_steps and step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(max(progress, 0.0), 1.0)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "norm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@dataclass
class Loop:
    """Optimizer, schedule, clock and early-stopping state of one training run."""

    model: torch.nn.Module
    opts: TrainOptions
    runtime: Runtime
    total_steps: int
    on_progress: ProgressFn | None = None
    step: int = 0
    epoch: int = 0
    best: float | None = None
    bad_evals: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)
    started: float = 0.0
    train_seconds: float = 0.0
    tokens_seen: int = 0
    cpu_before: float = 0.0  # CPU seconds of earlier runs of this model (resume)
    stop_reason: StopReason | None = None
    stop_cpu_seconds: float | None = None  # CPU seconds when a budget stopped training (before the last validation)

    def __post_init__(self) -> None:
        from nlpkit.rnn._torch import torch

        fused = self.runtime.device.type == "cuda"
        self.optimizer = torch.optim.AdamW(
            _param_groups(self.model, self.opts.weight_decay), lr=self.opts.lr, betas=(0.9, 0.99), fused=fused
        )
        self.best_state: dict[str, torch.Tensor] | None = None
        self.started = self.clock.wall()  # the budgets start now, not before the optimizer's first import
        self.cpu_started = self.clock.cpu()

    # -- clock --------------------------------------------------------------------------
    def elapsed(self) -> float:
        return self.clock.wall() - self.started

    def cpu_seconds(self) -> float:
        """CPU time of this process (all threads) since the loop started, plus that of earlier runs."""
        return self.cpu_before + self.clock.cpu() - self.cpu_started

    def progress(self) -> float:
        frac = self.step / max(1, self.total_steps)
        if self.opts.max_minutes:
            frac = max(frac, self.elapsed() / (60 * self.opts.max_minutes))
        if self.opts.max_cpu_minutes:
            frac = max(frac, self.cpu_seconds() / (60 * self.opts.max_cpu_minutes))
        return frac

    def out_of_time(self) -> bool:
        """True once a budget is spent (and ``stop_reason`` says which)."""
        cpu = self.cpu_seconds()
        if self.opts.max_cpu_minutes and cpu >= 60 * self.opts.max_cpu_minutes:
            self.stop_reason = "max_cpu_minutes"
        elif self.opts.max_minutes and self.elapsed() >= 60 * self.opts.max_minutes:
            self.stop_reason = "max_minutes"
        else:
            return False
        if self.stop_cpu_seconds is None:
            self.stop_cpu_seconds = cpu
        return True

    # -- one step -----------------------------------------------------------------------
    def train_step(self, compute_loss: Callable[[], torch.Tensor], tokens: int, steps_per_epoch: int) -> float:
        """Run ``compute_loss`` under autocast, step the optimizer at the scheduled LR, report progress."""
        t0 = self.clock.wall()
        lr = self.opts.lr * lr_factor(self.step, self.progress(), self.opts.warmup_steps, self.opts.min_lr_ratio)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with self.runtime.autocast():
            loss = compute_loss()
        if not bool(loss.isfinite()):
            raise ModelError(f"training diverged at step {self.step}: loss is {float(loss)}; lower --lr")
        self.runtime.backward_step(loss, self.model, self.optimizer, self.opts.clip)
        value = float(loss.detach())
        dt = self.clock.wall() - t0
        self.train_seconds += dt
        self.tokens_seen += tokens
        self.step += 1
        if self.on_progress is not None:
            self.on_progress(ProgressEvent(self.epoch, self.step, steps_per_epoch, value, tokens / max(dt, 1e-9), lr))
        return value

    # -- evaluation bookkeeping -----------------------------------------------------------
    def record(self, split: str, **metrics: float) -> None:
        row = {"epoch": self.epoch, "step": self.step, "split": split, "elapsed_s": round(self.elapsed(), 2)}
        row.update({k: float(v) for k, v in metrics.items()})
        self.history.append(row)
        log.info("epoch %d step %d %s: %s", self.epoch, self.step, split,
                 ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()))

    def improved(self, value: float, mode: str = "min") -> bool:
        """Record a validation score; keep the best weights; False once patience is used up."""
        better = self.best is None or (value < self.best if mode == "min" else value > self.best)
        if better:
            self.best = value
            self.bad_evals = 0
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.bad_evals += 1
        return better

    @property
    def should_stop(self) -> bool:
        return self.bad_evals >= self.opts.patience

    def restore_best(self) -> None:
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)

    def summary(self) -> dict[str, Any]:
        """Run counters every model's metrics.json reports: epochs, steps, seconds, throughput."""
        from nlpkit.rnn._torch import torch

        return {"epochs": self.epoch, "steps": self.step, "train_seconds": round(self.train_seconds, 1),
                "wall_seconds": round(self.elapsed(), 1), "cpu_seconds": round(self.cpu_seconds(), 1),
                "threads": torch.get_num_threads(), "stop_reason": self.stop_reason,
                "stop_cpu_seconds": None if self.stop_cpu_seconds is None else round(self.stop_cpu_seconds, 2),
                "tokens_per_s": round(self.tokens_per_second(), 1)}

    def tokens_per_second(self) -> float:
        return self.tokens_seen / max(self.train_seconds, 1e-9)

    # -- resume ---------------------------------------------------------------------------
    def counters(self) -> dict[str, Any]:
        return {"step": self.step, "epoch": self.epoch, "best": self.best, "bad_evals": self.bad_evals,
                "history": self.history, "tokens_seen": self.tokens_seen, "train_seconds": self.train_seconds,
                "cpu_seconds": self.cpu_seconds()}

    def load_counters(self, data: dict[str, Any]) -> None:
        self.step = int(data.get("step", 0))
        self.epoch = int(data.get("epoch", 0))
        self.best = data.get("best")
        self.bad_evals = int(data.get("bad_evals", 0))
        self.history = list(data.get("history", []))
        self.tokens_seen = int(data.get("tokens_seen", 0))
        self.train_seconds = float(data.get("train_seconds", 0.0))
        self.cpu_before = float(data.get("cpu_seconds", 0.0))
        self.cpu_started = self.clock.cpu()
