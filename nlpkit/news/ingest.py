"""One ingestion run: discover article URLs, fetch them politely, extract, deduplicate, store.

The event loop fetches; a process pool decodes and extracts (CPU-bound) so both cores work.
Every outcome, good or bad, becomes a ``fetch_log`` row; no single page or source stops the run.
Each page's extraction runs under ``news.page_timeout``; results are written every
``news.flush_every`` articles or ``news.flush_seconds`` seconds, and once more when the run ends
for any reason: an error, SIGTERM or SIGINT (then :class:`~nlpkit.errors.Interrupted` is raised).
A store or raw archive that cannot be written (a full disk) stops the run with a
:class:`~nlpkit.errors.DatasetError`; the pages not stored stay unfinished, so the next run fetches them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from nlpkit.errors import DatasetError, Interrupted, NlpkitError
from nlpkit.news.fetch import Fetcher, FetchResult
from nlpkit.news.fetch_result import read_local_page
from nlpkit.news.metadata import normalize_url
from nlpkit.news.newsstore import ARTICLES, FETCH_LOG, FINAL_KINDS, FRONTIER, IngestState, NewsStore
from nlpkit.news.sources import (NewsSettings, SourceSpec, html_files, links_from_feed, links_from_section,
                                 links_from_sitemap, read_url_file)
from nlpkit.news.pool import ExtractionPool
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
        self.queued: dict[str, str] = {}  # normalized URL -> the URL queued for it
        self.pool: ExtractionPool | None = None
        self.last_flush = time.monotonic()
        self.main: asyncio.Task | None = None
        self.fatal: NlpkitError | None = None  # why the run stopped early (a full disk)
        self.signum: int | None = None  # the signal that stopped the run

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
        """Articles first, then their log rows: a kill in between loses no article.

        A failed write raises DatasetError; the rows not written stay buffered, and their URLs
        unfinished in the store, so a later run fetches them again.
        """
        try:
            self.ns.append_articles(self.articles)
            self.articles = []
            self.ns.append_log(self.logs)
            self.logs = []
        except OSError as e:
            raise DatasetError(f"cannot write the news tables under {self.ns.store.root}: {e.strerror or e}; "
                               "free space (or fix permissions) and run again: pages not stored are fetched again") from e
        self.last_flush = time.monotonic()

    def tick(self, what: str) -> None:
        self.counts[what] += 1
        if self.progress is not None:
            self.progress(self.counts, self.report.queued)
        if (len(self.articles) >= self.news.flush_every or len(self.logs) >= 4 * self.news.flush_every
                or time.monotonic() - self.last_flush >= self.news.flush_seconds):
            self.flush()

    def stop(self, error: NlpkitError | None = None, signum: int | None = None) -> None:
        """End the run early (pages in flight stay unfinished); :func:`ingest` saves what was fetched."""
        self.fatal = self.fatal or error
        self.signum = self.signum or signum
        if self.main is not None:
            self.main.cancel()

    async def flush_periodically(self) -> None:
        """Write buffered rows every ``flush_seconds`` even while every page in flight is slow."""
        while True:
            await asyncio.sleep(self.news.flush_seconds)
            if (self.articles or self.logs) and time.monotonic() - self.last_flush >= self.news.flush_seconds:
                try:
                    self.flush()
                except DatasetError as e:
                    return self.stop(e)

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
            res = await fetcher.fetch(url, etag=etag, last_modified=lm, gzip_ok=spec.kind == "sitemap")
            self.log_row(url, spec.name, "discover", res.error_kind, res=res)
            if res.error_kind == "not_modified":
                continue
            if not res.ok:
                self.report.sources_failed[spec.name] = f"{res.error_kind}: {res.message}"
                continue
            # parsing a page of up to fetch.max_bytes is CPU work: off the event loop, so signals and
            # the periodic flush are served meanwhile
            pages, children = await asyncio.to_thread(_links, spec, res)
            found += pages
            todo += [c for c in children if c not in seen]
        return [(u, spec.name) for u in dict.fromkeys(found)][: spec.max_articles]

    # -- one page ------------------------------------------------------------------------------------
    async def page(self, fetcher: Fetcher, url: str, spec: SourceSpec) -> None:
        if spec.kind == "directory" and url.startswith("file://"):
            path = Path(url2pathname(urlsplit(url).path))
            res = await asyncio.to_thread(read_local_page, path, url, self.news.fetch.max_bytes)
        else:
            res = await fetcher.fetch(url)
        if not res.ok:
            self.log_row(url, spec.name, "article", res.error_kind, res=res)
            self.report.failed += 1
            return self.tick("failed")
        self.tick("fetched")
        assert self.pool is not None
        out = await self.pool.extract(res.body, res.content_type, res.final_url, _source_params(spec), self.ns.raw_dir)
        if not out["ok"]:
            self.log_row(url, spec.name, "article", out["kind"], res=res, message=out["message"])
            self.report.failed += 1
            self.tick("failed")
            if out["kind"] == "archive_error":  # the disk is full: every later page would fail the same way
                self.stop(DatasetError(f"{out['message']}; free space and run again: pages not stored are "
                                       "fetched again"))
            return
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


def _links(spec: SourceSpec, res: FetchResult) -> tuple[list[str], list[str]]:
    """(article URLs, child sitemaps) of a fetched feed, section page or sitemap."""
    from nlpkit.news.encoding import decode_html

    text = decode_html(res.body, res.content_type).text
    if spec.kind == "rss":
        return links_from_feed(text, res.final_url, spec.link_pattern, spec.max_articles), []
    if spec.kind == "section":
        assert spec.link_pattern is not None
        return links_from_section(text, res.final_url, spec.link_pattern, spec.max_articles), []
    return links_from_sitemap(text, res.final_url, spec.link_pattern, spec.max_articles)


def _source_params(spec: SourceSpec) -> dict[str, Any]:
    return {"rules": spec.rules.model_dump() if spec.rules else None, "section": spec.section,
            "timezone": spec.timezone, "language": spec.language}


def _article_row(art: Any, url: str, spec: SourceSpec, sha: str, encoding: str, dup_of: str) -> dict[str, Any]:
    return {
        "canonical_url": art.canonical_url, "url": url, "source": spec.name,
        # saved pages come from many outlets: the one each page names, when it names one
        "outlet": (art.outlet or spec.outlet) if spec.kind == "directory" else spec.outlet,
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
            if key in run.state.done:
                continue
            if key in run.queued:
                first = run.queued[key]
                if url != first:  # e.g. ?utm_source=...: one logged outcome for every URL given
                    run.log_row(url, src, "article", "duplicate_url", message=f"same page as {first} (both are {key})")
                    run.report.duplicates += 1
                continue
            run.queued[key] = url
            todo.append((url, src))
            if url not in run.state.frontier:
                fresh.append((url, src))
        if run.limit is not None:
            todo = todo[: run.limit]
        try:
            run.ns.append_frontier(fresh)  # before fetching: a killed run resumes from here
        except OSError as e:
            raise DatasetError(f"cannot write the news frontier under {run.ns.store.root}: {e.strerror or e}; "
                               "free space and run again") from e
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
        flusher = asyncio.create_task(run.flush_periodically())
        try:
            await asyncio.gather(*(worker() for _ in range(n)))
        finally:
            flusher.cancel()


async def _main(run: _Run, sources: list[SourceSpec], transport: Any) -> None:
    """:func:`_run` with SIGTERM/SIGINT turned into :meth:`_Run.stop` (where this is the main thread)."""
    loop = asyncio.get_running_loop()
    run.main = asyncio.current_task()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, run.stop, None, sig)
            installed.append(sig)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread (Jupyter, a Prefect worker)
            pass
    try:
        await _run(run, sources, transport)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _save_after_error(run: _Run) -> None:
    """Stop the workers and write what was fetched, while another error is on its way up."""
    assert run.pool is not None
    run.pool.close(cancel=True)
    try:
        run.flush()
    except DatasetError as e:
        log.error("%s", e)


def _run_coroutine(coro: Any) -> None:
    """``asyncio.run``, or in a helper thread when the caller already runs an event loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(asyncio.run, coro).result()


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
        try:
            for table in (ARTICLES, FETCH_LOG, FRONTIER):
                run.ns.compact(table)
        except OSError as e:
            raise DatasetError(f"cannot compact the news tables under {store.root}: {e.strerror or e}; "
                               "free space and run again") from e
        run.state = run.ns.load_state()
        run.pool = ExtractionPool(news.extract_workers, news.page_timeout)
        try:
            _run_coroutine(_main(run, sources, transport))
        except asyncio.CancelledError:
            if run.fatal is None and run.signum is None:
                _save_after_error(run)
                raise
        except BaseException:
            _save_after_error(run)
            raise
        run.pool.close(cancel=run.fatal is not None or run.signum is not None)
        try:
            run.flush()
        except DatasetError as e:
            if run.fatal is None:
                raise
            log.error("%s", e)
        if run.fatal is not None:
            raise run.fatal
        if run.signum is not None:
            name = signal.Signals(run.signum).name
            raise Interrupted(f"stopped by {name}: {run.report.stored} articles and {sum(run.report.kinds.values())} "
                              "fetch_log rows saved; unfinished URLs are fetched first next run", run.signum)
    run.report.seconds = time.perf_counter() - started
    log.info("news run: %d queued, %d stored, %d duplicates, %d failed in %.1fs",
             run.report.queued, run.report.stored, run.report.duplicates, run.report.failed, run.report.seconds)
    return run.report
