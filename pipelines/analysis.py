"""Analysis flow: the analyst's tables of a dataset (related words, stories across outlets, outlet terms).

The same library call as `nlpkit features analyse DATASET`: :func:`nlpkit.features.analysis.build_analysis`,
after the dataset's tokens exist (flows.yaml ``depends_on``). With ``skip_missing`` a store without the
dataset is a logged skip, not a failure.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from nlpkit.settings import Settings
from pipelines._runtime import RUN_HOOKS, publish, resolve, store


@task(cache_policy=NO_CACHE)
def analyse(dataset: str, data_dir: str) -> dict[str, object]:
    from nlpkit.features.analysis import build_analysis

    return build_analysis(store(data_dir), dataset)


@flow(name="analysis", **RUN_HOOKS)
def analysis_flow(
    dataset: str = "korean_press",
    data_dir: str | None = None,
    skip_missing: bool = True,
    settings: Settings | str | None = None,
) -> dict[str, object]:
    """Build ``doc_terms_<dataset>``, ``related_words``, ``stories`` and ``outlet_terms`` for ``dataset``."""
    from nlpkit.errors import DatasetNotFoundError, FeatureError

    data_dir = str(resolve(settings, data_dir).data_dir)
    try:
        summary = analyse(dataset, data_dir)
    except (DatasetNotFoundError, FeatureError) as e:
        if not skip_missing:
            raise
        get_run_logger().warning("analysis of %s skipped: %s", dataset, e)
        return publish(f"analysis-{dataset}", {"dataset": dataset, "rows": 0, "skipped": str(e)})
    return publish(f"analysis-{dataset}", summary)
