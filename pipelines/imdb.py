"""Weekly IMDB flow: fetch source -> rebuild dataset -> train baseline -> evaluate the saved model.

The same library calls as `nlpkit rebuild imdb` and `nlpkit baseline imdb`. Only the fetch
retries (a download can fail transiently); building and training are deterministic.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from pipelines._runtime import RUN_HOOKS, settings, store


@task(retries=3, retry_delay_seconds=[2, 5, 15])
def fetch_source(source: str | None, data_dir: str | None) -> str:
    """A local path for the IMDB source (downloads a URL into the store's cache)."""
    from nlpkit.datasets.download import resolve_source
    from nlpkit.datasets.registry import source_for

    src = source or source_for("imdb", settings().sources)
    # one attempt per task run: the task's retries above are the retry policy
    return str(resolve_source(src, store(data_dir).root / "cache" / "downloads", retries=1))


@task
def build_dataset(path: str, data_dir: str | None, valid_fraction: float, seed: int) -> dict[str, object]:
    from nlpkit.datasets.imdb import ImdbOptions, build_imdb

    info = build_imdb(store(data_dir), Path(path), options=ImdbOptions(valid_fraction=valid_fraction, seed=seed),
                      nltk_data=settings().nltk_data, download_nltk=True)
    return {"version": info.version, "rows": info.rows, "rejected": info.manifest["counts"]["rejected"]}


@task
def train_model(data_dir: str | None, variant: str, c_grid: list[float] | None) -> dict[str, object]:
    from nlpkit.datasets.registry import BUILDERS
    from nlpkit.models.baseline import BaselineConfig, train_baseline

    config = BaselineConfig(variant=variant, label_names=BUILDERS["imdb"].label_names,  # type: ignore[arg-type]
                            **({"c_grid": tuple(c_grid)} if c_grid else {}))
    result = train_baseline(store(data_dir), "imdb", config)
    return {"model_version": result.model.version, "c": result.c, "fit_seconds": round(result.fit_seconds, 2),
            "test_accuracy": result.metrics["test"]["accuracy"]}


@task
def evaluate_model(data_dir: str | None) -> dict[str, float]:
    from nlpkit.models.baseline import evaluate_baseline

    return evaluate_baseline(store(data_dir), "imdb", "test")


@flow(name="imdb", **RUN_HOOKS)
def imdb_flow(
    source: str | None = None,
    data_dir: str | None = None,
    valid_fraction: float = 0.1,
    seed: int = 13,
    variant: str = "lr",
    c_grid: list[float] | None = None,
) -> dict[str, object]:
    """Rebuild IMDB from ``source`` (default: settings/env, else the Stanford URL) and retrain its baseline."""
    path = fetch_source(source, data_dir)
    built = build_dataset(path, data_dir, valid_fraction, seed)
    trained = train_model(data_dir, variant, c_grid)
    evaluated = evaluate_model(data_dir)
    return {**built, **trained, "reloaded_test_accuracy": evaluated["accuracy"]}
