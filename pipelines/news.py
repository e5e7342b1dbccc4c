"""Hourly news ingestion: one thin flow around :func:`nlpkit.news.ingest.ingest`.

Fetch-level retries (timeouts, 5xx, 429 with Retry-After) live in the library, per URL. The
task retry here only covers a crashed run (e.g. the store briefly unwritable): a retried run
resumes from the frontier, so it re-fetches nothing that was finished. A run that stores no
new article is ``skipped: no new articles``: its dependants (features-news) do not run.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from nlpkit.news.sources import NewsSettings
from nlpkit.settings import Settings
from pipelines._runtime import RUN_HOOKS, publish, resolve


@task(retries=2, retry_delay_seconds=[30, 120])
def scrape_sources(news: NewsSettings, sources: list[str] | None, limit: int | None, data_dir: str) -> dict[str, object]:
    """Run one ingestion over the named (default: all enabled) sources; returns the counts."""
    from nlpkit.news.ingest import ingest
    from nlpkit.store import Store

    report = ingest(Store(Path(data_dir)), news, news.select(sources), limit=limit)
    return {"queued": report.queued, "stored": report.stored, "duplicates": report.duplicates,
            "failed": report.failed, "kinds": dict(report.kinds), "sources_failed": report.sources_failed,
            "seconds": round(report.seconds, 2)}


@flow(name="ingest_news", **RUN_HOOKS)
def ingest_news(sources: list[str] | None = None, limit: int | None = None, data_dir: str | None = None,
                settings: Settings | str | None = None) -> dict[str, object]:
    """Discover, fetch, extract and store news from the settings' ``news.sources``; ``rows`` = articles stored."""
    cfg = resolve(settings, data_dir)
    counts = scrape_sources(cfg.news, sources, limit, str(cfg.data_dir))
    summary: dict[str, object] = {"rows": counts["stored"], "fetched": counts["queued"], **counts}
    if not counts["stored"]:
        summary["skipped"] = "no new articles"
    return publish("ingest_news", summary)
