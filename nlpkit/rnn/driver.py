"""The one training driver: every model kind (classifier, LM, seq2seq) trains through :func:`fit`.

A kind is a :class:`TrainTask`: it builds its data and network (fresh, or from the saved
directory on resume), runs one epoch of steps through the shared :class:`Loop`, validates,
and writes its final metrics. The driver owns the rest, once: seeding, device and AMP,
the output-directory checks, resume (weights, optimizer and counters), the per-epoch
checkpoint a killed run resumes from, early stopping, the time budget, and the report
(``metrics.json``, ``loss_curves.png``, ``model_runs`` rows).

Resuming continues from the last completed epoch: data order depends only on the seed and
the epoch number, so a run stopped after epoch k and resumed reaches the same weights as an
uninterrupted run (up to dropout masks, which follow torch's global generator).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from nlpkit.rnn.checkpoint import (ModelDir, check_out_dir, load_saved_model, load_training_state, load_weights,
                                   save_model_dir)
from nlpkit.rnn.device import Runtime, resolve_runtime
from nlpkit.rnn.reports import save_and_report
from nlpkit.rnn.train_loop import Clock, Loop, ProgressFn, TrainOptions, set_seed

__all__ = ["TrainResult", "TrainTask", "TaskBase", "Kind", "Built", "fit"]

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Where the model was saved and what it scored."""

    model_dir: Path
    metrics: dict[str, Any]


@dataclass
class Built:
    """What a task sets up: the network (on the device), its vocabulary, config.json and steps per epoch."""

    model: Any
    vocab: Any
    config: dict[str, Any]
    steps_per_epoch: int
    opts: TrainOptions | None = None  # training options the task changed (sizing to the budget), else the given ones
    sizing: dict[str, Any] | None = None  # what :mod:`nlpkit.rnn.sizing` chose and why


@dataclass(frozen=True)
class Kind:
    """What the driver needs to know about a model kind besides its steps."""

    name: str  # "classifier" | "lm" | "seq2seq": config.json's kind
    config_cls: Any  # the network's config dataclass
    model_cls: Any  # the network class
    monitor: str  # validation metric that picks the best epoch
    mode: str  # "max" or "min" for ``monitor``


class TrainTask(Protocol):
    """One model kind, as the driver sees it."""

    kind: ClassVar[Kind]

    def build(self, saved: ModelDir | None, runtime: Runtime) -> Built:
        """Data and network; on resume the saved config and vocabulary win over the settings."""

    def train_epoch(self, loop: Loop, train_model: Any, steps_per_epoch: int) -> list[float]:
        """One pass of ``loop.train_step`` calls (stop early when ``loop.out_of_time()``); the losses."""

    def validate(self, model: Any, runtime: Runtime) -> dict[str, float]:
        """Validation metrics (recorded as split ``valid``; must include ``monitor``)."""

    def finish(self, model: Any, loop: Loop, runtime: Runtime) -> tuple[dict[str, Any], str, str]:
        """Final metrics on the best weights, a plot title and the ``model_runs`` model name."""

    def done(self, valid: dict[str, float]) -> bool:
        """True when validation cannot get better (e.g. exact match 1.0)."""


class TaskBase:
    """Defaults of :class:`TrainTask` methods most kinds do not change."""

    def done(self, valid: dict[str, float]) -> bool:
        return False


def fit(task: TrainTask, opts: TrainOptions, *, out: str | Path, source: str = "", store: Any = None,
        resume: bool = False, overwrite: bool = False, on_progress: ProgressFn | None = None,
        clock: Clock | None = None) -> TrainResult:
    """Train ``task`` under ``opts`` into the model directory ``out``.

    With ``resume=True`` the run continues from the checkpoint in ``out`` (written after each
    epoch). An existing ``out`` is replaced only when it is an nlpkit model directory and
    ``overwrite=True`` (see :func:`~nlpkit.rnn.checkpoint.check_out_dir`). ``clock`` is where the
    budgets read wall and CPU time (default: the real clocks).
    """
    set_seed(opts.seed)
    runtime = resolve_runtime(opts.device, amp=opts.amp, compile=opts.compile, threads=opts.threads)
    out = Path(out)
    check_out_dir(out, overwrite=overwrite, resume=resume)
    # on resume the directory is fully checked (config ranges, shapes on the meta device, finite weights) first
    kind = task.kind
    saved = (load_saved_model(out, kind=kind.name, config_cls=kind.config_cls, model_cls=kind.model_cls)[1]
             if resume else None)
    built = task.build(saved, runtime)
    model = built.model
    opts = built.opts or opts
    if saved is not None:
        load_weights(model, saved.weights, str(out))
    config = {"kind": kind.name, **built.config, "source": source, "train": opts.to_dict()}
    if built.sizing is not None:  # what the budget bought and why (config.json and every model_runs row)
        config["sizing"] = built.sizing
    loop = Loop(model, opts, runtime, total_steps=built.steps_per_epoch * opts.epochs, on_progress=on_progress,
                clock=clock or Clock())
    if saved is not None:
        loop.load_counters(load_training_state(out, loop.optimizer))
        loop.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        log.info("%s: resuming %s at epoch %d, step %d", kind.name, out, loop.epoch, loop.step)
    train_model = runtime.maybe_compile(model)

    while loop.epoch < opts.epochs and not loop.should_stop and not loop.out_of_time():
        losses = task.train_epoch(loop, train_model, built.steps_per_epoch)
        loop.epoch += 1
        loop.record("train", loss=sum(losses) / max(1, len(losses)), tokens_per_s=loop.tokens_per_second())
        valid = task.validate(model, runtime)
        loop.record("valid", **valid)
        loop.improved(valid[kind.monitor], mode=kind.mode)
        save_model_dir(out, model, config=config, vocab=built.vocab, metrics={"history": loop.history},
                       optimizer=loop.optimizer, counters=loop.counters())  # a killed run resumes from here
        if task.done(valid):
            loop.stop_reason = "done"
            break
    if loop.stop_reason is None:
        loop.stop_reason = "early_stopping" if loop.should_stop else "epochs"
    summary = loop.summary()  # the budget spent on training (the final test evaluation is not counted)
    log.info("%s: stopped (%s) after %.0f CPU s, %.0f wall s, %d threads", kind.name, loop.stop_reason,
             summary["cpu_seconds"], summary["wall_seconds"], summary["threads"])

    loop.restore_best()
    metrics, title, model_name = task.finish(model, loop, runtime)
    metrics = {**metrics, **summary, "device": str(runtime.device)}
    if built.sizing is not None:
        metrics["sizing"] = {k: built.sizing[k] for k in ("rung", "sizes", "pinned", "why")}
    metrics["history"] = loop.history
    # how the budget was spent goes to config.json and to every model_runs row's params
    config["run"] = {k: summary[k] for k in ("cpu_seconds", "wall_seconds", "threads", "stop_reason", "epochs")}
    save_and_report(out, model, loop, config=config, vocab=built.vocab, metrics=metrics, title=title,
                    model_name=model_name, source=source, store=store)
    return TrainResult(model_dir=out, metrics=metrics)
