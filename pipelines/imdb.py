"""Weekly IMDB flow: fetch source -> rebuild dataset -> train baseline -> evaluate the saved model.

The same library calls as `nlpkit rebuild imdb` and `nlpkit baseline imdb`. Only the fetch
retries (a download can fail transiently) and it is never cached. Building and training are
deterministic, so Prefect caches them on their inputs (the source's sha256, the parameters,
the dataset version) plus the task's source code: a weekly run whose source did not change
rebuilds and retrains nothing. A cached result whose version is no longer the store's latest
(store wiped or rebuilt by hand) is recomputed; ``refresh=True`` forces recomputation.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import INPUTS, NO_CACHE, TASK_SOURCE

from pipelines._runtime import RUN_HOOKS, settings, store
from pipelines.datasets import fetch_source


_CACHED = {"cache_policy": INPUTS + TASK_SOURCE, "persist_result": True, "result_serializer": "json"}


@task(cache_policy=NO_CACHE)
def source_sha256(path: str) -> str:
    """Content key of the fetched source: what the cached build below is keyed on."""
    from nlpkit.datasets.download import source_sha256 as sha256

    return sha256(path)


@task(**_CACHED)
def build_dataset(path: str, sha256: str, data_dir: str | None, valid_fraction: float, seed: int) -> dict[str, object]:
    from nlpkit.datasets.imdb import ImdbOptions, build_imdb

    info = build_imdb(store(data_dir), Path(path), options=ImdbOptions(valid_fraction=valid_fraction, seed=seed),
                      nltk_data=settings().nltk_data, download_nltk=True)
    return {"version": info.version, "rows": info.rows, "rejected": info.manifest["counts"]["rejected"]}


@task(**_CACHED)
def train_model(dataset_version: str, data_dir: str | None, variant: str, c_grid: list[float] | None) -> dict[str, object]:
    from nlpkit.datasets.registry import BUILDERS
    from nlpkit.models.baseline import BaselineConfig, train_baseline

    config = BaselineConfig(variant=variant, label_names=BUILDERS["imdb"].label_names,  # type: ignore[arg-type]
                            **({"c_grid": tuple(c_grid)} if c_grid else {}))
    result = train_baseline(store(data_dir), "imdb", config)
    return {"model_version": result.model.version, "c": result.c, "fit_seconds": round(result.fit_seconds, 2),
            "test_accuracy": result.metrics["test"]["accuracy"]}


@task(cache_policy=NO_CACHE)
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
    refresh: bool = False,
) -> dict[str, object]:
    """Rebuild IMDB from ``source`` (default: settings/env, else the Stanford URL) and retrain its baseline."""
    path = fetch_source("imdb", data_dir, source)
    sha = source_sha256(path)
    build = build_dataset.with_options(refresh_cache=refresh)
    built = build(path, sha, data_dir, valid_fraction, seed)
    if not _is_latest(data_dir, "imdb", built["version"]):
        built = build_dataset.with_options(refresh_cache=True)(path, sha, data_dir, valid_fraction, seed)
    train = train_model.with_options(refresh_cache=refresh)
    trained = train(str(built["version"]), data_dir, variant, c_grid)
    if not _is_latest(data_dir, "imdb_baseline", trained["model_version"]):
        trained = train_model.with_options(refresh_cache=True)(str(built["version"]), data_dir, variant, c_grid)
    evaluated = evaluate_model(data_dir)
    return {**built, **trained, "reloaded_test_accuracy": evaluated["accuracy"]}


def _is_latest(data_dir: str | None, dataset: str, version: object) -> bool:
    """Whether ``version`` (from a possibly cached result) is still the store's latest of ``dataset``."""
    from nlpkit.errors import DatasetNotFoundError

    try:
        return store(data_dir).latest(dataset).version == version
    except DatasetNotFoundError:
        return False
