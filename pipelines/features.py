"""Features flow: tokenize (only new documents) -> TF-IDF -> similar -> keywords -> PCA/LDA -> clusters -> report.

Runs after news ingestion (flows.yaml ``depends_on: [ingest_news]``) on the ``articles`` table
by default; any text dataset in the store works. The same library steps as
`nlpkit features build DATASET` then `nlpkit report DATASET`.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipelines._runtime import RUN_HOOKS, store


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


@flow(name="features", **RUN_HOOKS)
def features_flow(
    dataset: str = "articles",
    data_dir: str | None = None,
    tokenizer: str | None = None,
    k: int = 10,
    max_docs: int | None = None,
    k_values: list[int] | None = None,
    skip_missing: bool = True,
) -> dict[str, object]:
    """Build every feature output of ``dataset`` and its report; returns a summary (``rows`` = documents).

    With ``skip_missing`` a dataset that does not exist yet (no news fetched offline) is a
    logged skip, not a failure.
    """
    from nlpkit.errors import DatasetNotFoundError, FeatureError

    options: dict = {"tokenizer": tokenizer, "k": k, "max_docs": max_docs}
    if k_values:
        options["k_values"] = tuple(k_values)
    try:
        fitted = tokenize(dataset, data_dir, options)
    except (DatasetNotFoundError, FeatureError) as e:
        if not skip_missing:
            raise
        get_run_logger().warning("features of %s skipped: %s", dataset, e)
        return {"dataset": dataset, "rows": 0, "skipped": str(e)}
    fitted = clusters(projections(keywords(similarity(tfidf(fitted, options), options), options), options), options)
    summary = write(fitted, data_dir, options)
    summary["report"] = report(dataset, data_dir)
    summary["rows"] = summary["documents"]
    return summary
