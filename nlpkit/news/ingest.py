"""One ingestion run: discover article URLs, fetch them politely, extract, deduplicate, store.

The event loop fetches; a process pool decodes and extracts (CPU-bound) so both cores work.
Every outcome, good or bad, becomes a ``fetch_log`` row; no single page or source stops the run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gzip
import logging
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from nlpkit.news.fetch import Fetcher, FetchResult
from nlpkit.news.metadata import normalize_url
from nlpkit.news.newsstore import ARTICLES, FETCH_LOG, FINAL_KINDS, FRONTIER, IngestState, NewsStore
from nlpkit.news.sources import (NewsSettings, SourceSpec, html_files, links_from_feed, links_from_section,
                                 links_from_sitemap, read_url_file)
from nlpkit.news.worker import extract_page, warm_up
from nlpkit.store import Store

__all__ = ["IngestReport", "ingest"]

log = logging.getLogger(__name__)

#: Called after each page with the running counts and the number of pages queued so far.
ProgressCallback = Callable[[Counter, int], None]


@dataclass
class IngestReport:
    """Counts of one run (``kinds`` counts every fetch_log error_kind written)."""

    queued: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    seconds: float = 0.0
    kinds: Counter = field(default_factory=Counter)
    sources_failed: dict[str, str] = field(default_factory=dict)

    @property
    def pages_per_second(self) -> float:
        return (self.stored + self.duplicates + self.failed) / self.seconds if self.seconds else 0.0


class _Run:
    def __init__(self, store: Store, news: NewsSettings, progress: ProgressCallback | None, limit: int | None) -> None:
        self.ns = NewsStore(store)
        self.news = news
        self.progress = progress
        self.limit = limit
        self.report = IngestReport()
        self.state = IngestState()
        self.articles: list[dict] = []
        self.logs: list[dict] = []
        self.counts: Counter = Counter()
        self.queued: set[str] = set()
        self.pool: concurrent.futures.Executor | None = None

    # -- bookkeeping ---------------------------------------------------------------------------
    def log_row(self, url: str, source: str, stage: str, kind: str, *, res: FetchResult | None = None,
                message: str = "", nbytes: int | None = None) -> None:
        final = kind in FINAL_KINDS or (kind == "http_error" and res is not None and res.status is not None
                                        and 400 <= res.status < 500 and res.status not in (408, 425))
        self.logs.append({
            "url": url, "source": source, "stage": stage, "status": res.status if res else None,
            "bytes": nbytes if nbytes is not None else (len(res.body) if res else None),
            "elapsed": round(res.elapsed, 4) if res else None, "error_kind": kind,
            "message": (message or (res.message if res else ""))[:2000], "final": final,
            "final_url": res.final_url if res else None, "etag": res.etag if res else None,
            "last_modified": res.last_modified if res else None, "time": datetime.now(UTC),
        })
        self.report.kinds[kind] += 1

    def flush(self) -> None:
        """Articles first, then their log rows: a kill in between loses no article."""
        self.ns.append_articles(self.articles)
        self.ns.append_log(self.logs)
        self.articles, self.logs = [], []

    def tick(self, what: str) -> None:
        self.counts[what] += 1
        if self.progress is not None:
            self.progress(self.counts, self.report.queued)
        if len(self.articles) >= self.news.flush_every or len(self.logs) >= 4 * self.news.flush_every:
            self.flush()

    # -- discovery ---------------------------------------------------------------------------------
    async def discover(self, fetcher: Fetcher, spec: SourceSpec) -> list[tuple[str, str]]:
        if spec.kind == "urls":
            assert spec.path is not None
            return [(u, spec.name) for u in read_url_file(spec.path, spec.link_pattern, spec.max_articles)]
        if spec.kind == "directory":
            assert spec.path is not None
            return [(p.resolve().as_uri(), spec.name) for p in html_files(spec.path, spec.max_articles)]
        assert spec.url is not None
        todo, found, seen = [spec.url], [], set()
        while todo and len(found) < spec.max_articles and len(seen) < 20:
            url = todo.pop(0)
            seen.add(url)
            etag, lm = self.state.validators.get(url, (None, None))
            res = await fetcher.fetch(url, etag=etag, last_modified=lm)
            self.log_row(url, spec.name, "discover", res.error_kind, res=res)
            if res.error_kind == "not_modified":
                continue
            if not res.ok:
                self.report.sources_failed[spec.name] = f"{res.error_kind}: {res.message}"
                continue
            from nlpkit.news.encoding import decode_html

            text = decode_html(res.body, res.content_type).text
            base = res.final_url
            if spec.kind == "rss":
                found += links_from_feed(text, base, spec.link_pattern, spec.max_articles)
            elif spec.kind == "section":
                assert spec.link_pattern is not None
                found += links_from_section(text, base, spec.link_pattern, spec.max_articles)
            else:
                pages, children = links_from_sitemap(text, base, spec.link_pattern, spec.max_articles)
                found += pages
                todo += [c for c in children if c not in seen]
        return [(u, spec.name) for u in dict.fromkeys(found)][: spec.max_articles]

    # -- one page ------------------------------------------------------------------------------------
    async def page(self, fetcher: Fetcher, url: str, spec: SourceSpec) -> None:
        loop = asyncio.get_running_loop()
        if spec.kind == "directory" and url.startswith("file://"):
            path = Path(url2pathname(urlsplit(url).path))
            try:
                body = path.read_bytes()
                body = gzip.decompress(body) if path.name.endswith(".gz") else body
            except OSError as e:
                self.log_row(url, spec.name, "article", "bad_url", message=f"cannot read {path}: {e}")
                self.report.failed += 1
                return self.tick("failed")
            res = FetchResult(url, url, "ok", body=body)
        else:
            res = await fetcher.fetch(url)
        if not res.ok:
            self.log_row(url, spec.name, "article", res.error_kind, res=res)
            self.report.failed += 1
            return self.tick("failed")
        self.tick("fetched")
        job = (res.body, res.content_type, res.final_url, _source_params(spec), self.ns.raw_dir)
        out = None
        if self.pool is not None:
            try:
                out = await loop.run_in_executor(self.pool, extract_page, *job)
            except concurrent.futures.process.BrokenProcessPool:
                log.warning("extraction worker pool broke; extracting in this process from now on")
                self.pool = None
        if out is None:
            out = await asyncio.to_thread(extract_page, *job)
        if not out["ok"]:
            self.log_row(url, spec.name, "article", out["kind"], res=res, message=out["message"])
            self.report.failed += 1
            return self.tick("failed")
        art = out["article"]
        if art.canonical_url in self.state.canonical:
            self.log_row(url, spec.name, "article", "duplicate_url", res=res,
                         message=f"canonical URL {art.canonical_url} already stored")
            self.report.duplicates += 1
            return self.tick("duplicates")
        self.state.canonical.add(art.canonical_url)
        dup_of = self.state.hashes.setdefault(art.content_hash, art.canonical_url)
        self.articles.append(_article_row(art, url, spec, out["sha"], out["encoding"], dup_of))
        self.log_row(url, spec.name, "article", "stored", res=res,
                     message=f"{art.extractor}; {out['encoding']} ({out['decided_by']})"
                     + (f"; same body as {dup_of}" if dup_of != art.canonical_url else ""))
        self.report.stored += 1
        self.tick("extracted")


def _source_params(spec: SourceSpec) -> dict[str, Any]:
    return {"rules": spec.rules.model_dump() if spec.rules else None, "section": spec.section,
            "timezone": spec.timezone, "language": spec.language}


def _article_row(art: Any, url: str, spec: SourceSpec, sha: str, encoding: str, dup_of: str) -> dict[str, Any]:
    return {
        "canonical_url": art.canonical_url, "url": url, "source": spec.name, "outlet": spec.outlet,
        "title": art.title, "body": art.body, "authors": list(art.authors),
        "published_at": art.published.astimezone(UTC) if art.published else None,
        "published_local": art.published.isoformat() if art.published else None,
        "language": art.language, "section": art.section, "content_hash": art.content_hash,
        "duplicate_of": dup_of if dup_of != art.canonical_url else None, "raw_sha256": sha,
        "encoding": encoding, "extractor": art.extractor, "fetched_at": datetime.now(UTC),
    }


async def _run(run: _Run, sources: list[SourceSpec], transport: Any) -> None:
    news = run.news
    specs = {s.name: s for s in sources}
    async with Fetcher(news.fetch, transport=transport) as fetcher:
        found = await asyncio.gather(*(run.discover(fetcher, s) for s in sources), return_exceptions=True)
        work: list[tuple[str, str]] = [(u, s) for u, s in run.state.pending() if s in specs]
        for spec, result in zip(sources, found):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                run.report.sources_failed[spec.name] = f"{type(result).__name__}: {result}"
                run.log_row(spec.url or str(spec.path), spec.name, "discover", "source_error", message=str(result))
                continue
            work += result
        fresh, todo = [], []
        for url, src in work:
            key = normalize_url(url)
            if key in run.state.done or key in run.queued:
                continue
            run.queued.add(key)
            todo.append((url, src))
            if url not in run.state.frontier:
                fresh.append((url, src))
        if run.limit is not None:
            todo = todo[: run.limit]
        run.ns.append_frontier(fresh)  # before fetching: a killed run resumes from here
        run.report.queued = len(todo)
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        for item in todo:
            queue.put_nowait(item)

        async def worker() -> None:
            while True:
                try:
                    url, src = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await run.page(fetcher, url, specs[src])

        n = max(1, min(news.fetch.total_concurrency, len(todo)))
        await asyncio.gather(*(worker() for _ in range(n)))


def _run_coroutine(coro: Any) -> None:
    """``asyncio.run``, or in a helper thread when the caller already runs an event loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(asyncio.run, coro).result()


def _worker_context() -> multiprocessing.context.BaseContext:
    """Fork workers from a clean forkserver that has the extractors imported once.

    Plain ``fork`` is unsafe here (the CLI's progress bar and Prefect run threads); ``spawn``
    would import lxml, trafilatura and the caller's main module again in every worker of every
    run. The forkserver imports them once per process (so, like ``spawn``, a calling script
    needs the ``if __name__ == "__main__":`` guard).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover - not on Linux
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", "nlpkit.news.worker", "trafilatura", "nlpkit.news.extract"])
    return ctx


def ingest(
    store: Store,
    news: NewsSettings,
    sources: list[SourceSpec],
    *,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    transport: Any = None,
) -> IngestReport:
    """Run discovery, fetching, extraction and storage for ``sources``; returns the run's counts.

    ``transport`` is an httpx transport for tests; ``limit`` caps the article pages of this run.
    """
    started = time.perf_counter()
    run = _Run(store, news, progress, limit)
    with run.ns.lock():
        for table in (ARTICLES, FETCH_LOG, FRONTIER):
            run.ns.compact(table)
        run.state = run.ns.load_state()
        ctx = _worker_context()
        pool: concurrent.futures.Executor = (
            concurrent.futures.ProcessPoolExecutor(news.extract_workers, mp_context=ctx, initializer=warm_up,
                                                  initargs=(os.getpid(),))
            if news.extract_workers > 0 else concurrent.futures.ThreadPoolExecutor(1))  # keeps the event loop free
        run.pool = pool
        if news.extract_workers > 0:  # start the workers now: they import while discovery runs
            for _ in range(news.extract_workers):
                pool.submit(warm_up)  # a no-op job that makes the pool start its workers
        try:
            _run_coroutine(_run(run, sources, transport))
        finally:
            run.flush()
            pool.shutdown(wait=True, cancel_futures=True)
    run.report.seconds = time.perf_counter() - started
    log.info("news run: %d queued, %d stored, %d duplicates, %d failed in %.1fs",
             run.report.queued, run.report.stored, run.report.duplicates, run.report.failed, run.report.seconds)
    return run.report
