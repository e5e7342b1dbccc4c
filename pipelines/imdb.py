"""Weekly IMDB flow: `nlpkit data rebuild imdb` (the dataset, then its dependants: the TF-IDF baseline and
token datasets), then the saved baseline reloaded and evaluated.

Only the fetch retries (a download can fail transiently) and it is never cached. The rebuild is
deterministic, so Prefect caches it on its inputs (the source's sha256, the options) plus the
task's source code: a weekly run whose source did not change does no work and is recorded as
``skipped: source unchanged``. A cached result whose versions are no longer the store's latest
(store wiped or rebuilt by hand) is recomputed; ``refresh=True`` forces recomputation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import INPUTS, NO_CACHE, TASK_SOURCE

from nlpkit.settings import Settings
from pipelines._runtime import RUN_HOOKS, publish, resolve
from pipelines.datasets import fetch_source, source_of


@task(cache_policy=NO_CACHE)
def source_sha256(path: str) -> str:
    """Content key of the fetched source: what the cached rebuild below is keyed on."""
    from nlpkit.datasets.download import source_sha256 as sha256

    return sha256(path)


@task(cache_policy=INPUTS + TASK_SOURCE, persist_result=True, result_serializer="json")
def rebuild_imdb(path: str, sha256: str, data_dir: str, nltk_data: str | None, options: dict[str, Any],
                 baseline: dict[str, Any]) -> dict[str, object]:
    """`nlpkit data rebuild imdb` with its dependants (one library call)."""
    from nlpkit.rebuild import rebuild_with_dependants
    from nlpkit.store import Store

    st = Store(Path(data_dir))
    done = rebuild_with_dependants(st, "imdb", path, nltk_data=Path(nltk_data) if nltk_data else None,
                                   baseline=baseline, **options)
    out: dict[str, object] = {"version": done.info.version, "rows": done.info.rows,
                              "rejected": done.info.manifest["counts"]["rejected"], "dependants": done.dependants}
    if "imdb_baseline" in st.datasets():
        model = st.latest("imdb_baseline")
        out["model_version"] = model.version
        out["c"] = model.manifest.get("parameters", {}).get("c")
        for row in st.read("imdb_baseline").to_pylist():
            out[f"{row['split']}_accuracy"] = row["accuracy"]
    return out


@task(cache_policy=NO_CACHE)
def evaluate_model(data_dir: str) -> dict[str, float]:
    from nlpkit.models.baseline import evaluate_baseline
    from nlpkit.store import Store

    return evaluate_baseline(Store(Path(data_dir)), "imdb", "test")


@flow(name="imdb", **RUN_HOOKS)
def imdb_flow(
    source: str | None = None,
    data_dir: str | None = None,
    valid_fraction: float | None = None,
    seed: int | None = None,
    variant: str | None = None,
    c_grid: list[float] | None = None,
    refresh: bool = False,
    settings: Settings | str | None = None,
) -> dict[str, object]:
    """`nlpkit data rebuild imdb` from ``source`` (default: the settings' source, else the Stanford URL), dependants
    included; ``variant``/``c_grid`` override the baseline's retraining parameters."""
    cfg = resolve(settings, data_dir)
    data = str(cfg.data_dir)
    path = fetch_source("imdb", data, source_of("imdb", cfg, source))
    sha = source_sha256(path)
    options = {k: v for k, v in {"valid_fraction": valid_fraction, "seed": seed}.items() if v is not None}
    baseline = {k: v for k, v in {"variant": variant, "c_grid": c_grid}.items() if v is not None}
    nltk = str(cfg.nltk_data) if cfg.nltk_data else None
    args = (path, sha, data, nltk, options, baseline)
    state = rebuild_imdb.with_options(refresh_cache=refresh)(*args, return_state=True)
    built = state.result()
    cached = state.name == "Cached"
    if cached and not (_is_latest(data, "imdb", built["version"])
                       and _is_latest(data, "imdb_baseline", built.get("model_version"))):
        built, cached = rebuild_imdb.with_options(refresh_cache=True)(*args), False
    if cached:
        return publish("imdb", {**built, "rows": 0, "skipped": "source unchanged (same sha256 and options)"})
    if "model_version" in built:
        built["reloaded_test_accuracy"] = evaluate_model(data)["accuracy"]
    return publish("imdb", built)


def _is_latest(data_dir: str, dataset: str, version: object) -> bool:
    """Whether ``version`` (from a possibly cached result) is still the store's latest of ``dataset``."""
    from nlpkit.errors import DatasetNotFoundError
    from nlpkit.store import Store

    if version is None:
        return True
    try:
        return Store(Path(data_dir)).latest(dataset).version == version
    except DatasetNotFoundError:
        return False
