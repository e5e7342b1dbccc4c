"""What `nlpkit flows run all` prints last: what was built and where to look next.

Tables with row counts, models with their scores (the latest ``model_runs`` row per model and
split), the feature reports written, and the next commands to try. Read from the store, so it
says what is there, not what a flow claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from nlpkit.cli._common import console
from nlpkit.errors import NlpkitError
from nlpkit.flowspec import FlowResult
from nlpkit.store import Store

__all__ = ["print_built"]

_SCORES = ("accuracy", "f1", "exact_match", "perplexity", "nats_per_char", "loss")


def print_built(store: Store, results: Sequence[FlowResult]) -> None:
    """Print the datasets and tables, models with scores, report paths and next commands."""
    datasets = Table("dataset", "version", "rows", title="Datasets (query them: nlpkit query \"SELECT ...\")")
    for name in store.datasets():
        try:
            info = store.latest(name)
        except NlpkitError:
            continue
        datasets.add_row(name, info.version, f"{info.rows:,}")
    console.print(datasets)
    appended = Table("table", "rows", title="Append tables")
    for name in store.tables():
        try:
            appended.add_row(name, f"{store.read_appended(name, columns=None).num_rows:,}")
        except NlpkitError:
            continue
    console.print(appended)
    _print_models(store)
    reports = [str(r.value["report"]) for r in results if isinstance(r.value, dict) and r.value.get("report")]
    for path in reports:
        console.print(f"report: {path}")
    console.print("next: nlpkit data list | nlpkit flows runs | nlpkit query \"SELECT title FROM articles LIMIT 5\" | "
                  "nlpkit features similar -d articles --text \"반도체 수출\" | "
                  "nlpkit models predict imdb \"A wonderful film\" | "
                  "make run-full (full training budgets)", highlight=False)


def _print_models(store: Store) -> None:
    if "model_runs" not in store.tables():
        return
    df = store.read_appended("model_runs").to_pandas()
    if df.empty or "split" not in df:
        return
    key = [c for c in ("model", "dataset", "split") if c in df]
    sort = "created_at" if "created_at" in df else key[0]
    latest = df.sort_values(sort).groupby(key, dropna=False).tail(1)
    latest = latest[latest["split"].astype(str).isin(["test", "valid"]) | ~latest["split"].astype(str).str.len().astype(bool)]
    scores = [c for c in _SCORES if c in latest]
    table = Table(*key, *scores, title="Models (latest evaluation per split)")
    for row in latest.itertuples(index=False):
        values: list[Any] = [str(getattr(row, c)) for c in key]
        values += [_num(getattr(row, c)) for c in scores]
        table.add_row(*values)
    console.print(table)


def _num(value: Any) -> str:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if f != f else f"{f:.4f}"
