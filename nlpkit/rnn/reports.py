"""Training reports people can read and query: the ``model_runs`` table and loss-curve PNGs.

Every evaluation a trainer records becomes one row of the append-only store table
``model_runs`` (query it with ``nlpkit query "select * from model_runs"``), and the curves
are drawn to ``loss_curves.png`` in the model directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from nlpkit.store.model_runs import METRICS, MODEL_RUNS, append_runs, new_run_id, run_table

__all__ = ["MODEL_RUNS", "new_run_id", "history_table", "plot_history", "save_and_report"]


def history_table(run_id: str, model: str, dataset: str, model_dir: str | Path, history: Sequence[dict[str, Any]],
                  params: dict[str, Any] | None = None) -> pa.Table:
    """Rows of ``model_runs`` for one run's recorded evaluations (one per split and evaluation)."""
    return run_table(
        {"model": model, "dataset": dataset, "split": str(h.get("split", "")), "params": params or {},
         "run_id": run_id, "model_dir": str(model_dir), "epoch": int(h.get("epoch", 0)),
         "step": int(h.get("step", 0)), "elapsed_s": float(h.get("elapsed_s", 0.0)),
         **{m: h[m] for m in METRICS if h.get(m) is not None},
         **({"n": int(h["n"])} if h.get("n") is not None else {}),
         **{k: h[k] for k in ("classes", "confusion") if h.get(k)}}
        for h in history)


def plot_history(history: Sequence[dict[str, Any]], out: str | Path, title: str = "") -> Path:
    """Loss per split against training steps (and accuracy when recorded) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    extra = next((m for m in ("accuracy", "exact_match", "perplexity") if any(h.get(m) is not None for h in history)),
                 None)
    fig, axes = plt.subplots(1, 2 if extra else 1, figsize=(11 if extra else 6, 4), squeeze=False)
    for col, metric in enumerate(["loss"] + ([extra] if extra else [])):
        ax = axes[0][col]
        for split in sorted({h["split"] for h in history}):
            pts = [(h["step"], h[metric]) for h in history if h["split"] == split and h.get(metric) is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, label=split)
        ax.set_xlabel("training step")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def save_and_report(out: Path, model: Any, loop: Any, *, config: dict[str, Any], vocab: Any, metrics: dict[str, Any],
                    title: str, model_name: str, source: str | None, store: Any | None) -> None:
    """The end of every training run: model directory (with loss curves PNG) and ``model_runs`` rows."""
    from nlpkit.rnn.checkpoint import save_model_dir

    plot = out.parent / f".{out.name}.loss_curves.png"
    plot_history(loop.history, plot, title=title)
    save_model_dir(out, model, config=config, vocab=vocab, metrics=metrics, optimizer=loop.optimizer,
                   counters=loop.counters(), extra_files={"loss_curves.png": plot})
    plot.unlink(missing_ok=True)
    if store is not None:
        append_runs(store, history_table(new_run_id(), model_name, source or "", out, loop.history, params=config))
