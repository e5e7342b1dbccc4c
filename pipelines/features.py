"""Features flow: tokenize (only new documents) -> TF-IDF -> similar -> keywords -> PCA/LDA -> clusters -> report.

Runs after news ingestion (flows.yaml ``depends_on: [ingest_news]``) on the ``articles`` table
by default; any text dataset in the store works. The same library steps as
`nlpkit features build DATASET` then `nlpkit features report DATASET`. A run whose input has not changed
since the last build with the same options does no work (``skipped: no new articles``;
``refresh=True`` rebuilds anyway), so ``nlpkit flows serve`` no longer rebuilds every 30 s.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from nlpkit.settings import Settings
from pipelines._runtime import RUN_HOOKS, publish, resolve, store


@task(cache_policy=NO_CACHE)
def tokenize(dataset: str, data_dir: str | None, options: dict) -> object:
    from nlpkit.features.build import BuildOptions, step_terms

    return step_terms(store(data_dir), dataset, BuildOptions(**options))


@task(cache_policy=NO_CACHE)
def tfidf(fitted: object, options: dict) -> object:
    from nlpkit.features.build import BuildOptions, step_tfidf

    return step_tfidf(fitted, BuildOptions(**options))  # type: ignore[arg-type]


@task(cache_policy=NO_CACHE)
def similarity(fitted: object, options: dict) -> object:
    from nlpkit.features.build import BuildOptions, step_similarity

    return step_similarity(fitted, BuildOptions(**options))  # type: ignore[arg-type]


@task(cache_policy=NO_CACHE)
def keywords(fitted: object, options: dict) -> object:
    from nlpkit.features.build import BuildOptions, step_keywords

    return step_keywords(fitted, BuildOptions(**options))  # type: ignore[arg-type]


@task(cache_policy=NO_CACHE)
def projections(fitted: object, options: dict) -> object:
    from nlpkit.features.build import BuildOptions, step_projections

    return step_projections(fitted, BuildOptions(**options))  # type: ignore[arg-type]


@task(cache_policy=NO_CACHE)
def clusters(fitted: object, options: dict) -> object:
    from nlpkit.features.build import BuildOptions, step_clusters

    return step_clusters(fitted, BuildOptions(**options))  # type: ignore[arg-type]


@task(cache_policy=NO_CACHE)
def write(fitted: object, data_dir: str | None, options: dict) -> dict[str, object]:
    from dataclasses import asdict

    from nlpkit.features.build import BuildOptions, write_outputs

    return asdict(write_outputs(store(data_dir), fitted, BuildOptions(**options)))  # type: ignore[arg-type]


@task(cache_policy=NO_CACHE)
def report(dataset: str, data_dir: str | None) -> str:
    from nlpkit.features.report import write_report

    return str(write_report(store(data_dir), dataset))


def current_input(data_dir: str, dataset: str) -> str | None:
    """The version key of ``dataset`` as a feature build records it (``rows<N>`` for ``articles``); None: missing."""
    from nlpkit.errors import DatasetNotFoundError

    st = store(data_dir)
    try:
        if dataset == "articles" and "articles" not in st.datasets() and "articles" in st.tables():
            return f"rows{st.read_appended('articles', columns=['canonical_url']).num_rows}"
        return st.latest(dataset).version
    except DatasetNotFoundError:
        return None


def unchanged_since_last_build(data_dir: str, dataset: str, options: dict) -> bool:
    """Whether the latest feature build of ``dataset`` used this input version and these options, and is a whole
    unit (every feature table pinned by its one commit; :func:`nlpkit.features.stale.stale_reasons`)."""
    import json

    from nlpkit.errors import DatasetNotFoundError
    from nlpkit.features.build import BuildOptions, index_name
    from nlpkit.features.stale import is_stale

    current = current_input(data_dir, dataset)
    try:
        params = store(data_dir).latest(index_name(dataset)).manifest.get("parameters", {})
    except DatasetNotFoundError:
        return False
    # compare what this flow sets (the stored options also hold the resolved term spec and dictionaries,
    # whose changes `is_stale` detects)
    wanted = json.loads(json.dumps({k: getattr(BuildOptions(**options), k) for k in options}, default=list))
    stored = params.get("options") or {}
    same = all(stored.get(k) == v for k, v in wanted.items())
    return current is not None and params.get("dataset_version") == current and same \
        and not is_stale(store(data_dir), dataset)


@flow(name="features", **RUN_HOOKS)
def features_flow(
    dataset: str = "articles",
    data_dir: str | None = None,
    tokenizer: str | None = None,
    k: int = 10,
    max_docs: int | None = None,
    k_values: list[int] | None = None,
    skip_missing: bool = True,
    refresh: bool = False,
    settings: Settings | str | None = None,
) -> dict[str, object]:
    """Build every feature output of ``dataset`` and its report; returns a summary (``rows`` = documents).

    With ``skip_missing`` a dataset that does not exist yet (no news fetched offline) is a
    logged skip, not a failure. An input unchanged since the last build is a skip too.
    """
    from nlpkit.errors import DatasetNotFoundError, FeatureError

    data_dir = str(resolve(settings, data_dir).data_dir)
    options: dict = {"tokenizer": tokenizer, "k": k, "max_docs": max_docs}
    if k_values:
        options["k_values"] = tuple(k_values)
    if not refresh and unchanged_since_last_build(data_dir, dataset, options):
        what = "articles" if dataset == "articles" else f"documents in {dataset}"
        return publish(f"features-{dataset}", {"dataset": dataset, "rows": 0, "tokenized_now": 0,
                                               "skipped": f"no new {what}"})
    try:
        fitted = tokenize(dataset, data_dir, options)
    except (DatasetNotFoundError, FeatureError) as e:
        if not skip_missing:
            raise
        get_run_logger().warning("features of %s skipped: %s", dataset, e)
        return publish(f"features-{dataset}", {"dataset": dataset, "rows": 0, "skipped": str(e)})
    fitted = clusters(projections(keywords(similarity(tfidf(fitted, options), options), options), options), options)
    summary = write(fitted, data_dir, options)
    summary["report"] = report(dataset, data_dir)
    summary["rows"] = summary["documents"]
    return publish(f"features-{dataset}", summary)
