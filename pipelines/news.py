"""Hourly news ingestion: one thin flow around :func:`nlpkit.news.ingest.ingest`.

Fetch-level retries (timeouts, 5xx, 429 with Retry-After) live in the library, per URL. The
task retry here only covers a crashed run (e.g. the store briefly unwritable): a retried run
resumes from the frontier, so it re-fetches nothing that was finished.
"""

from __future__ import annotations

from prefect import flow, task

from pipelines._runtime import RUN_HOOKS, settings, store


@task(retries=2, retry_delay_seconds=[30, 120])
def scrape_sources(sources: list[str] | None, limit: int | None, data_dir: str | None) -> dict[str, object]:
    """Run one ingestion over the named (default: all enabled) sources; returns the counts."""
    from nlpkit.news.ingest import ingest

    news = settings().news
    report = ingest(store(data_dir), news, news.select(sources), limit=limit)
    return {"queued": report.queued, "stored": report.stored, "duplicates": report.duplicates,
            "failed": report.failed, "kinds": dict(report.kinds), "sources_failed": report.sources_failed,
            "seconds": round(report.seconds, 2)}


@flow(name="ingest_news", **RUN_HOOKS)
def ingest_news(sources: list[str] | None = None, limit: int | None = None, data_dir: str | None = None) -> dict[str, object]:
    """Discover, fetch, extract and store news from flows.yaml's ``news.sources``."""
    return scrape_sources(sources, limit, data_dir)
