"""What `nlpkit flows run all` (``make run``) prints last: one line per flow, what was built, where to look next.

One line per flow with its key figure (rows, test accuracy, nats/char, exact match) read from what
the flow returned, never a Python dict; the datasets and the models' latest test figures read from
the store (so it says what is there, not what a flow claimed); then ``nlpkit ui`` and the next
commands, written with the path of the ``nlpkit`` that is running (``.venv/bin/nlpkit`` when the
venv is not activated) so that each works when pasted. A command is offered only when the store holds
what it needs (a baseline to predict with, an index to search).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from nlpkit.cli._common import console
from nlpkit.errors import NlpkitError
from nlpkit.flowspec import FlowResult
from nlpkit.store import Store

__all__ = ["flow_line", "key_figure", "next_commands", "nlpkit_command", "print_built"]

#: (key suffix in what a flow returned, how it reads); the first found is the flow's key figure.
_FIGURES = (("test_accuracy", "test accuracy {:.3f}"), ("nats_per_char", "{:.3f} nats/char"),
            ("exact_match", "exact match {:.3f}"), ("accuracy", "accuracy {:.3f}"), ("perplexity", "perplexity {:.1f}"))
_SCORES = (("accuracy", "accuracy"), ("f1", "F1"), ("exact_match", "exact match"), ("nats_per_token", "nats/token"),
           ("perplexity", "perplexity"))


def _numbers(value: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """(dotted key, number) for every number in ``value`` (nested dicts), in order."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _numbers(v, f"{prefix}{k}.")
    elif isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        yield prefix.rstrip("."), float(value)


def key_figure(res: FlowResult) -> str:
    """The one figure that says how a flow went: its score and row count, or why it was skipped or failed."""
    if res.state != "completed":
        reason = res.error or (res.value.get("skipped") if isinstance(res.value, Mapping) else "") or res.result
        return " ".join(str(reason or "").split())[:100]
    numbers = list(_numbers(res.value))
    parts = []
    for suffix, fmt in _FIGURES:
        found = [(k, v) for k, v in numbers if k.split(".")[-1].endswith(suffix) and not k.startswith("reloaded")]
        hit = next((v for k, v in found if "test" in k), found[0][1] if found else None)  # the test figure first
        if hit is not None:
            parts.append(fmt.format(hit))
            break
    if isinstance(res.value, Mapping) and isinstance(res.value.get("labels"), Mapping) and res.value["labels"]:
        labels = sorted(res.value["labels"].items(), key=lambda kv: -kv[1])  # topics: what the new articles are
        parts.append(f"{res.value.get('predicted', 0):,} classified: " + ", ".join(f"{k} {v}" for k, v in labels[:4]))
    if res.rows is not None:
        parts.append(f"{res.rows:,} rows")
    return ", ".join(parts)


def flow_line(res: FlowResult) -> str:
    """``completed  train-classifier-imdb  41.2 s  test accuracy 0.874``."""
    return f"{res.state:9}  {res.flow:28} {res.seconds:7.1f} s  {key_figure(res)}".rstrip()


def nlpkit_command() -> str:
    """How to call the running ``nlpkit`` from this shell: ``nlpkit`` when that is on PATH, else its path
    (relative to the current directory when below it: ``.venv/bin/nlpkit``)."""
    exe = Path(sys.executable).parent / "nlpkit"
    on_path = shutil.which("nlpkit")
    if on_path and Path(on_path).resolve() == exe.resolve():
        return "nlpkit"
    try:
        return str(exe.relative_to(Path.cwd()))
    except ValueError:
        return str(exe)


def next_commands(store: Store) -> list[str]:
    """Commands that answer on this store (each checked against what it needs), without the ``nlpkit`` prefix."""
    datasets = set(store.datasets())
    tables = set(store.tables())
    out = ["data list", "flows runs"]
    if "articles" in tables:
        out.append('query "SELECT outlet, title FROM articles LIMIT 5"')
    from nlpkit.features.query import index_name

    if index_name("korean_news") in datasets:
        out.append('features similar -d korean_news --text "반도체 수출"')
    if "analysis_korean_press" in datasets:  # the analyst's Korean news: related words, stories, outlets
        out += ["features related 사드 -d korean_press -n 5", "features stories -d korean_press -n 3",
                "features outlets -d korean_press --term 사드 --by outlet_group"]
    for dataset, text in (("imdb", "A wonderful, moving film"), ("korean_news", "정부가 반도체 수출 지원 대책을 발표했다")):
        if f"{dataset}_baseline" in datasets:
            out.append(f"models predict {dataset} {shlex.quote(text)}")
    return out


def print_built(store: Store, results: Sequence[FlowResult], profile: str | None = None) -> None:
    """Print one line per flow, the datasets, the models' latest figures, `nlpkit ui` and the next commands.

    With a ``profile`` (``quick``: `make run`), the models' figures are said to be that profile's.
    """
    console.print("Flows", style="bold")
    for res in results:
        console.print(flow_line(res), highlight=False, markup=False, soft_wrap=True)
    datasets = Table("dataset", "version", "rows", title="Datasets")
    for name in store.datasets():
        try:
            info = store.latest(name)
        except NlpkitError:
            continue
        datasets.add_row(name, info.version, f"{info.rows:,}")
    console.print(datasets)
    _print_models(store)
    if profile:
        console.print(f"The models' figures are the {profile!r} profile's (small training budgets; test splits "
                      "sampled where 'rows' is smaller than the split). `make run-full` trains with the full budgets.",
                      highlight=False, markup=False, soft_wrap=True)
    reports = [str(r.value["report"]) for r in results if isinstance(r.value, dict) and r.value.get("report")]
    for path in reports:
        console.print(f"report: {path}", highlight=False, markup=False, soft_wrap=True)
    exe = nlpkit_command()
    console.print(f"Look at it in the browser: {exe} ui   (then open http://127.0.0.1:8501/)", highlight=False,
                  markup=False, soft_wrap=True)
    if exe != "nlpkit" and Path(exe).parent.name == "bin":
        console.print(f"or put nlpkit on PATH for this shell: source {Path(exe).parent / 'activate'}",
                      highlight=False, markup=False, soft_wrap=True)
    console.print("Next, try:", highlight=False)
    for command in next_commands(store):
        console.print(f"  {exe} {command}", highlight=False, markup=False, soft_wrap=True)
    if os.environ.get("NLPKIT_DATA_DIR"):
        console.print(f"(these read the store in NLPKIT_DATA_DIR={os.environ['NLPKIT_DATA_DIR']})", highlight=False,
                      markup=False, soft_wrap=True)


def _print_models(store: Store) -> None:
    """The latest test evaluation of each model (valid when it has no test), figures to 3 decimals."""
    if "model_runs" not in store.tables():
        return
    df = store.read_appended("model_runs").to_pandas()
    if df.empty or "split" not in df:
        return
    df = df.sort_values("created_at")
    df["_rank"] = df["split"].astype(str).map({"test": 2, "valid": 1}).fillna(0)
    latest = df.sort_values(["_rank", "created_at"]).groupby(["model", "dataset"], dropna=False).tail(1)
    scores = [(c, label) for c, label in _SCORES if c in latest and latest[c].notna().any()]
    table = Table("model", "dataset", "split", "figures", "rows", title="Models (latest evaluation)")
    for row in latest.sort_values(["dataset", "model"]).itertuples(index=False):
        n = getattr(row, "n", None)
        figures = ", ".join(f"{label} {_num(getattr(row, c))}" for c, label in scores if _num(getattr(row, c)))
        table.add_row(str(row.model), str(row.dataset), str(row.split), figures,
                      "" if n is None or n != n else f"{int(n):,}")
    console.print(table)


def _num(value: Any) -> str:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if f != f else f"{f:.3f}"
