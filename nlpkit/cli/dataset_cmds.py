"""Dataset and baseline commands: `rebuild`, `baseline`, `predict`."""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress
from rich.table import Table

from nlpkit.cli import app
from nlpkit.cli._common import console, get_settings, get_store, handle_errors, progress_bar
from nlpkit.errors import ConfigError, ModelError


class _Bars:
    """Adapts the library's ``progress(stage, done, total)`` callbacks to one rich bar per stage."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        task = self.tasks.get(stage)
        if task is None:
            task = self.tasks[stage] = self.progress.add_task(stage, total=total, rate="")
        self.progress.update(task, completed=done, total=total)


@app.command()
@handle_errors
def rebuild(
    dataset: str = typer.Argument(..., help="imdb, nsmc, korean_news, korean_press, hate_speech, intent_3i4k, korsts, lm_tinyshakespeare, lm_ptb."),
    source: str | None = typer.Option(None, "--source", "-s", help="URL, archive, file or directory (default: settings/env source, else the official URL)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the carved splits (default: the builder's)."),
    valid_fraction: float | None = typer.Option(None, "--valid-fraction", help="IMDB/tiny-shakespeare: share moved to 'valid'."),
    dependants: bool = typer.Option(True, "--dependants/--no-dependants",
                                    help="Also rebuild what is built from it (baseline model, token datasets)."),
) -> None:
    """Rebuild DATASET from its source as a new version, then what depends on it.

    The previous version stays current until the new one is complete.
    """
    from nlpkit.datasets.registry import get_builder, rebuild as do_rebuild, source_for

    settings = get_settings()
    get_builder(dataset)
    src = source or source_for(dataset, settings.sources)
    options: dict[str, object] = {}
    if seed is not None:
        options["seed"] = seed
    if valid_fraction is not None:
        options["valid_fraction"] = valid_fraction
    console.print(f"rebuilding {dataset} from {src}")
    started = time.perf_counter()
    with progress_bar() as bar:
        info = do_rebuild(get_store(), dataset, src, nltk_data=settings.nltk_data, progress=_Bars(bar), **options)
    m = info.manifest
    counts = m["counts"]
    splits = ", ".join(f"{s} {counts[s]:,}" for s in ("train", "valid", "test", "unsup") if s in counts)
    console.print(f"{dataset} {info.version}: {counts['kept']:,} rows ({splits}), {counts['rejected']:,} rejected "
                  f"(view {dataset}_rejects), built in {time.perf_counter() - started:.1f} s")
    if not dependants:
        return
    from nlpkit.rebuild import find_dependants, rebuild_dependant

    for dep in find_dependants(get_store(), dataset, default_baseline=get_builder(dataset).baseline):
        started = time.perf_counter()
        with progress_bar() as bar:
            summary = rebuild_dependant(get_store(), dataset, dep, progress=_Bars(bar))
        console.print(f"  then {summary} ({time.perf_counter() - started:.1f} s)")


@app.command()
@handle_errors
def baseline(
    dataset: str = typer.Argument("imdb", help="A labelled dataset with train/valid/test splits (e.g. imdb, nsmc)."),
    variant: str = typer.Option("lr", "--variant", help="lr (TF-IDF + logistic regression) or nblr (NB-weighted)."),
    c: list[float] = typer.Option([], "--c", help="Candidate C values (repeat); default 8..256, chosen on valid."),
    text_column: str = typer.Option("text", "--text-column", help="Column to learn from (text or clean_text)."),
    min_df: int = typer.Option(2, "--min-df", help="Drop n-grams seen in fewer documents."),
) -> None:
    """Train the TF-IDF baseline on DATASET's train split, tune C on valid, report test; store model + metrics."""
    from nlpkit.models.baseline import BaselineConfig, train_baseline

    if variant not in ("lr", "nblr"):
        raise ConfigError(f"--variant {variant!r}: expected lr or nblr")
    config = BaselineConfig(text_column=text_column, min_df=min_df, variant=variant,  # type: ignore[arg-type]
                            **({"c_grid": tuple(c)} if c else {}))
    with progress_bar() as bar:
        result = train_baseline(get_store(), dataset, config, progress=_Bars(bar))
    table = Table("split", "accuracy", "f1", "n")
    for split, m in result.metrics.items():
        table.add_row(split, f"{m['accuracy']:.4f}", f"{m['f1']:.4f}", f"{int(m['n']):,}")
    console.print(table)
    console.print(f"C={result.c:g} chosen on valid; fit {result.fit_seconds:.1f} s; saved as "
                  f"{dataset}_baseline {result.model.version} (metrics also in view model_runs)")


@app.command()
@handle_errors
def predict(
    target: str = typer.Argument(..., help="A dataset with a trained baseline (e.g. imdb), or an RNN model directory."),
    texts: list[str] = typer.Argument(..., help="One or more texts to classify."),
) -> None:
    """Print a header, then one tab-separated line per text: label name, its probability, the runner-up, the text.

    A text in another language than the model's training data gets a warning line (on stderr).
    """
    path = Path(target)
    if path.is_dir() and (path / "config.json").is_file():
        if importlib.util.find_spec("nlpkit.rnn") is None:
            raise ModelError(f"{path} looks like an RNN model directory, but nlpkit.rnn is not available")
        from nlpkit import rnn

        from nlpkit.rnn.model_checks import MAX_CONFIG_BYTES, read_json_checked

        config = read_json_checked(path / "config.json", max_bytes=MAX_CONFIG_BYTES)  # size and depth first
        preds = rnn.predict(path, texts)
        dataset = str(config.get("source") or "")
    else:
        if path.exists() and not re.fullmatch(r"[a-z][a-z0-9_]*", target):
            raise ModelError(f"{target}: not a model directory (no config.json); give a dataset name with a baseline")
        from nlpkit.models.baseline import predict_texts

        preds = predict_texts(get_store(), target, texts, nltk_data=get_settings().nltk_data)
        dataset = target
    print_predictions(texts, preds, dataset)


def print_predictions(texts: list[str], preds: list[Any], dataset: str) -> None:
    """The table ``models predict`` prints (label names, probabilities) and a warning per text in another language."""
    from nlpkit.models.language import dataset_language, mismatch

    language = dataset_language(get_store().sql(), dataset) if dataset else "und"
    typer.echo("label\tprobability\trunner-up\ttext")
    for text, p in zip(texts, preds, strict=True):
        others = sorted(((n, v) for n, v in p.probabilities.items() if n != p.name), key=lambda kv: -kv[1])
        second = f"{others[0][0]} {others[0][1]:.3f}" if others else "-"
        typer.echo(f"{p.name}\t{p.probability:.3f}\t{second}\t{_short(text)}")
        warning = mismatch(language, text)
        if warning:
            typer.echo(f"warning: {_short(text, 30)}: {warning}", err=True)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
