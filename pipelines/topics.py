"""News topics flow: after each ingest, classify the new Korean articles into ``article_topics``.

The same library call as `nlpkit topics apply --model MODEL`: :func:`nlpkit.topics.apply_topics`
with the classifier :func:`nlpkit.topics.load_topic_classifier` names. Only articles this model
version has not seen are classified; English ones are recorded as skipped (``language=en``).
With ``train_missing`` a missing ``baseline:<dataset>`` model is trained first (seconds), so a
fresh store gets topics on its first run; with ``skip_missing`` a store without the labelled
corpus or without articles is a logged skip, not a failure.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from nlpkit.settings import Settings
from pipelines._runtime import RUN_HOOKS, publish, resolve, store


@task(cache_policy=NO_CACHE)
def ensure_baseline(model: str, data_dir: str | None) -> None:
    from nlpkit.models.baseline import train_baseline

    dataset = model.removeprefix("baseline:")
    if f"{dataset}_baseline" not in store(data_dir).datasets():
        train_baseline(store(data_dir), dataset)  # label names: the dataset's own (nlpkit.datasets.labels)


@task(cache_policy=NO_CACHE)
def apply(model: str, data_dir: str | None, language: str) -> dict[str, object]:
    from dataclasses import asdict

    from nlpkit.topics import apply_topics, load_topic_classifier

    s = store(data_dir)
    report = apply_topics(s, load_topic_classifier(s, model), language=language)
    # the report's per-reason counts are not the flow's ``skipped`` (which marks a run with no new input)
    out = {k: v for k, v in asdict(report).items() if k != "skipped"}
    return {**out, "not_classified": report.skipped, "rows": report.written}


@flow(name="topics", **RUN_HOOKS)
def topics_flow(
    model: str = "baseline:korean_news",
    data_dir: str | None = None,
    language: str = "ko",
    train_missing: bool = True,
    skip_missing: bool = True,
    settings: Settings | str | None = None,
) -> dict[str, object]:
    """Append topic predictions for new articles; returns the run's counts (``rows`` = rows written).

    Settings are resolved once here (``settings``: the object ``nlpkit flows run`` passes, or a flows.yaml
    path) and only the data directory reaches the tasks. No new article is a skip.
    """
    from nlpkit.errors import DatasetNotFoundError, ModelError

    data_dir = str(resolve(settings, data_dir).data_dir)
    try:
        if train_missing and model.startswith("baseline:"):
            ensure_baseline(model, data_dir)
        summary = apply(model, data_dir, language)
    except (DatasetNotFoundError, ModelError) as e:
        if not skip_missing:
            raise
        get_run_logger().warning("topics with %s skipped: %s", model, e)
        return publish("topics-news", {"model": model, "rows": 0, "skipped": str(e)})
    if not summary.get("predicted"):
        reasons = ", ".join(f"{n} {why}" for why, n in dict(summary.get("not_classified") or {}).items())
        summary = {**summary, "skipped": "no new articles in its language" + (f" ({reasons})" if reasons else "")}
    return publish("topics-news", summary)
