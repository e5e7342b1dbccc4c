"""Weekly dataset rebuilds: each named dataset from its source, then what depends on it.

The same library calls as `nlpkit rebuild NAME`. Fetching retries (a download can fail
transiently); one dataset's failure is reported and the others still rebuild.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipelines._runtime import RUN_HOOKS, settings, store


@task(retries=3, retry_delay_seconds=[2, 5, 15], cache_policy=NO_CACHE)
def fetch_source(name: str, data_dir: str | None, source: str | None = None) -> str:
    """A local path for dataset ``name``'s source (``source``, else settings/env, else the official URL;
    a URL is downloaded into the store's cache). Never cached: a download must really happen."""
    from nlpkit.datasets.download import resolve_source
    from nlpkit.datasets.registry import source_for

    src = source or source_for(name, settings().sources)
    # one attempt per task run: the task's retries above are the retry policy
    return str(resolve_source(src, store(data_dir).root / "cache" / "downloads", retries=1))


@task
def rebuild_dataset(name: str, path: str, data_dir: str | None, dependants: bool) -> dict[str, object]:
    """Rebuild one dataset (new version, swapped in when complete), then its dependants."""
    from nlpkit.datasets.dependants import find_dependants, rebuild_dependant
    from nlpkit.datasets.registry import get_builder, rebuild

    st = store(data_dir)
    info = rebuild(st, name, path, nltk_data=settings().nltk_data)
    done = []
    if dependants:
        for dep in find_dependants(st, name, default_baseline=get_builder(name).baseline):
            done.append(rebuild_dependant(st, name, dep))
    return {"version": info.version, "rows": info.rows, "rejected": info.manifest["counts"].get("rejected", 0),
            "dependants": done}


@flow(name="datasets", **RUN_HOOKS)
def rebuild_datasets(
    datasets: list[str] | None = None,
    dependants: bool = True,
    data_dir: str | None = None,
) -> dict[str, object]:
    """Rebuild ``datasets`` (default: the Korean sets and LM corpora) and what is built from them."""
    from nlpkit.datasets.registry import get_builder

    names = datasets or ["nsmc", "korean_news", "hate_speech", "intent_3i4k", "korsts", "lm_tinyshakespeare", "lm_ptb"]
    for name in names:
        get_builder(name)  # unknown names fail the flow before any work, naming the known ones
    results: dict[str, object] = {}
    failed: dict[str, str] = {}
    for name in names:  # one at a time: building is CPU-bound and the machine may be small
        fetched = fetch_source(name, data_dir, return_state=True)
        if not fetched.is_completed():
            failed[name] = fetched.message or "fetch failed"
            continue
        built = rebuild_dataset(name, fetched.result(), data_dir, dependants, return_state=True)
        if built.is_completed():
            results[name] = built.result()
        else:
            failed[name] = built.message or "rebuild failed"
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(names)} dataset(s) failed: "
                           + "; ".join(f"{k}: {v}" for k, v in failed.items()) + f" (rebuilt: {', '.join(results) or 'none'})")
    return {"rows": sum(int(r["rows"]) for r in results.values()), "datasets": results}  # type: ignore[index]
