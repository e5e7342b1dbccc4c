"""Weekly dataset rebuilds: each named dataset from its source, then what depends on it.

Each dataset is one call of :func:`nlpkit.rebuild.rebuild_with_dependants`, the
library call behind `nlpkit data rebuild NAME`. Fetching retries (a download can fail transiently);
one dataset's failure is reported and the others still rebuild.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from nlpkit.settings import Settings
from pipelines._runtime import RUN_HOOKS, publish, resolve


@task(retries=3, retry_delay_seconds=[2, 5, 15], cache_policy=NO_CACHE)
def fetch_source(name: str, data_dir: str, source: str) -> str:
    """A local path for dataset ``name``'s ``source`` (a URL is downloaded into the store's cache).
    Never cached: a download must really happen."""
    from nlpkit.datasets.download import resolve_source

    # one attempt per task run: the task's retries above are the retry policy
    return str(resolve_source(source, Path(data_dir) / "cache" / "downloads", retries=1))


def source_of(name: str, cfg: Settings, source: str | None = None) -> str:
    """``source``, else the settings' source of ``name``, else its official URL."""
    from nlpkit.datasets.registry import source_for

    return source or source_for(name, cfg.sources)


@task(cache_policy=NO_CACHE)
def rebuild_dataset(name: str, path: str, data_dir: str, nltk_data: str | None, dependants: bool,
                    options: dict[str, object] | None = None) -> dict[str, object]:
    """`nlpkit data rebuild NAME`: a new version (swapped in when complete), then its dependants."""
    from nlpkit.rebuild import rebuild_with_dependants
    from nlpkit.store import Store

    done = rebuild_with_dependants(Store(Path(data_dir)), name, path, dependants=dependants,
                                   nltk_data=Path(nltk_data) if nltk_data else None, **(options or {}))
    info = done.info
    return {"version": info.version, "rows": info.rows, "rejected": info.manifest["counts"].get("rejected", 0),
            "dependants": done.dependants}


@flow(name="datasets", **RUN_HOOKS)
def rebuild_datasets(
    datasets: list[str] | None = None,
    dependants: bool = True,
    data_dir: str | None = None,
    settings: Settings | str | None = None,
) -> dict[str, object]:
    """Rebuild ``datasets`` (default: the Korean sets and LM corpora) and what is built from them."""
    from nlpkit.datasets.registry import get_builder

    cfg = resolve(settings, data_dir)
    names = datasets or ["nsmc", "korean_news", "korean_press", "hate_speech", "intent_3i4k", "korsts", "lm_tinyshakespeare", "lm_ptb"]
    for name in names:
        get_builder(name)  # unknown names fail the flow before any work, naming the known ones
    nltk = str(cfg.nltk_data) if cfg.nltk_data else None
    results: dict[str, dict[str, object]] = {}
    failed: dict[str, str] = {}
    for name in names:  # one at a time: building is CPU-bound and the machine may be small
        fetched = fetch_source(name, str(cfg.data_dir), source_of(name, cfg), return_state=True)
        if not fetched.is_completed():
            failed[name] = fetched.message or "fetch failed"
            continue
        built = rebuild_dataset(name, fetched.result(), str(cfg.data_dir), nltk, dependants, return_state=True)
        if built.is_completed():
            results[name] = built.result()
        else:
            failed[name] = built.message or "rebuild failed"
    summary = {"rows": sum(int(r["rows"]) for r in results.values()),  # type: ignore[call-overload]
               "built": {k: f"{v['version']} ({v['rows']:,} rows)" for k, v in results.items()},
               "dependants": [d for r in results.values() for d in r["dependants"]],  # type: ignore[attr-defined]
               "failed": failed, "datasets": results}
    publish("datasets", summary)
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(names)} dataset(s) failed: "
                           + "; ".join(f"{k}: {v}" for k, v in failed.items()) + f" (rebuilt: {', '.join(results) or 'none'})")
    return summary
