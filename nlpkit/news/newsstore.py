"""Where news lives in the store, and why a ``kill -9`` loses and duplicates nothing.

Layout under the data directory:

- ``tables/articles/part-*.parquet``: append-only (``Store.append``), one row per canonical URL,
  view ``articles``;
- ``tables/fetch_log/part-*.parquet``: one row per fetch or extraction outcome, view ``fetch_log``;
  ``stage`` is ``discover`` (feeds, sitemaps, section pages) or ``article``; ``error_kind`` is a
  fetch outcome (``nlpkit.news.fetch.ERROR_KINDS``), or ``stored``, ``duplicate_url`` (canonical
  URL already stored), ``no_article`` (nothing article-like on the page, or a list page),
  ``extract_error`` (the extractor failed) or ``source_error`` (a source could not be read);
  ``final`` says whether a later run leaves the URL alone;
- ``tables/news_frontier/part-*.parquet``: article URLs discovered, written *before* they are fetched;
- ``news_raw/<aa>/<sha256>.html.gz``: the raw bytes of every fetched page, by content hash.

Crash safety: each part file is written aside and renamed into place, so a part is either
whole or absent. A batch is written in the order raw pages -> articles -> fetch_log, so a kill
between the steps leaves at worst an orphan raw file (harmless) or an article without its log
row (the article still counts as done). URLs that failed transiently are tried again in the
next runs, up to ``GIVE_UP_AFTER`` failures. One process ingests at a time (``locks/news.lock``),
and it reloads the canonical URLs and content hashes already stored before it writes, so no
article is stored twice. A restarted run fetches the frontier's URLs that have neither an
article nor a final fetch_log row: exactly the unfinished ones.

Append-only parts were chosen over versioned datasets because a version is only visible once
the whole run finishes (a kill would lose the run) and rewriting every article each hour
grows with the archive; parts make each flushed batch visible to ``nlpkit query`` at once.
``nlpkit reextract`` replaces all parts by one, with a journal that a later open rolls forward;
a run first merges a table's parts when there are more than 200 (same rows, same order).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from nlpkit.news.archive import archive_raw, read_raw
from nlpkit.news.metadata import normalize_url
from nlpkit.store import Store

__all__ = ["ARTICLES", "archive_raw", "ARTICLE_SCHEMA", "FETCH_LOG", "FETCH_LOG_SCHEMA", "FRONTIER", "FINAL_KINDS",
           "IngestState", "NewsStore"]

ARTICLES, FETCH_LOG, FRONTIER = "articles", "fetch_log", "news_frontier"
_TS = pa.timestamp("us", tz="UTC")
ARTICLE_SCHEMA = pa.schema([
    ("canonical_url", pa.string()), ("url", pa.string()), ("source", pa.string()), ("outlet", pa.string()),
    ("title", pa.string()), ("body", pa.string()), ("authors", pa.list_(pa.string())),
    ("published_at", _TS), ("published_local", pa.string()), ("language", pa.string()), ("section", pa.string()),
    ("content_hash", pa.string()), ("duplicate_of", pa.string()), ("raw_sha256", pa.string()),
    ("encoding", pa.string()), ("extractor", pa.string()), ("fetched_at", _TS),
])
FETCH_LOG_SCHEMA = pa.schema([
    ("url", pa.string()), ("source", pa.string()), ("stage", pa.string()), ("status", pa.int32()),
    ("bytes", pa.int64()), ("elapsed", pa.float64()), ("error_kind", pa.string()), ("message", pa.string()),
    ("final", pa.bool_()), ("final_url", pa.string()), ("etag", pa.string()), ("last_modified", pa.string()),
    ("time", _TS),
])
FRONTIER_SCHEMA = pa.schema([("url", pa.string()), ("source", pa.string()), ("time", _TS)])
#: Outcomes that finish a URL: a later run does not fetch it again (others are retried next run).
#: A URL that failed with a transient error (timeout, 5xx, reset ...) in this many runs is given up.
GIVE_UP_AFTER = 3
FINAL_KINDS = frozenset({"ok", "stored", "duplicate_url", "robots_disallowed", "bad_url", "too_large",
                         "bad_content_type", "binary_content", "redirect_loop", "too_many_redirects",
                         "empty_page", "no_article", "extract_error"})


@dataclass
class IngestState:
    """What is already stored: used to skip finished URLs and to deduplicate."""

    done: set[str] = field(default_factory=set)          # normalized URLs finished (articles or final log rows)
    canonical: set[str] = field(default_factory=set)     # canonical URLs of stored articles
    hashes: dict[str, str] = field(default_factory=dict)  # content hash -> first canonical URL
    frontier: dict[str, str] = field(default_factory=dict)  # URL -> source, discovered earlier
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # listing URL -> (etag, lm)

    def pending(self) -> list[tuple[str, str]]:
        """(URL, source) discovered earlier but not finished: what a resumed run fetches first."""
        return [(u, s) for u, s in self.frontier.items() if normalize_url(u) not in self.done]


def _parts(d: Path) -> list[Path]:
    return sorted(d.glob("part-*.parquet")) if d.is_dir() else []


def _read(d: Path, columns: list[str]) -> pa.Table | None:
    parts = _parts(d)
    if not parts:
        return None
    tables = []
    for p in parts:
        have = set(pq.read_schema(p).names)
        tables.append(pq.read_table(p, columns=[c for c in columns if c in have]))
    return pa.concat_tables(tables, promote_options="permissive")


class NewsStore:
    """News tables and the raw-page archive inside a :class:`~nlpkit.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.raw_dir = store.root / "news_raw"

    def _dir(self, table: str) -> Path:
        return self.store.root / "tables" / table

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the news writer lock (one ingesting process per store), recovering a killed compaction."""
        lock_dir = self.store.root / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with (lock_dir / "news.lock").open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                self._recover()
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # -- raw archive ---------------------------------------------------------------------------
    def archive_raw(self, body: bytes) -> str:
        """Store page bytes gzip-compressed under their sha256 (idempotent); returns the hash."""
        return archive_raw(self.raw_dir, body)

    def read_raw(self, sha: str) -> bytes:
        return read_raw(self.raw_dir, sha)

    # -- state -----------------------------------------------------------------------------------
    def load_state(self) -> IngestState:
        """Read what earlier runs finished (only the few columns needed)."""
        st = IngestState()
        arts = _read(self._dir(ARTICLES), ["url", "canonical_url", "content_hash"])
        if arts is not None:
            for url, canon, h in zip(*(arts.column(c).to_pylist() for c in ("url", "canonical_url", "content_hash"))):
                st.done.add(normalize_url(url))
                st.done.add(canon)
                st.canonical.add(canon)
                st.hashes.setdefault(h, canon)
        failures: dict[str, int] = {}
        log = _read(self._dir(FETCH_LOG), ["url", "stage", "final", "etag", "last_modified", "error_kind"])
        if log is not None:
            cols = {c: log.column(c).to_pylist() for c in log.column_names}
            for i, url in enumerate(cols["url"]):
                stage = cols["stage"][i]
                if stage == "discover":  # rows are in time order: the last 200 answer's validators count
                    if cols["error_kind"][i] == "ok":
                        if cols["etag"][i] or cols["last_modified"][i]:
                            st.validators[url] = (cols["etag"][i], cols["last_modified"][i])
                        else:
                            st.validators.pop(url, None)
                elif stage != "article":  # rows some other writer put in fetch_log
                    continue
                elif cols["final"][i]:
                    st.done.add(normalize_url(url))
                else:
                    key = normalize_url(url)
                    failures[key] = failures.get(key, 0) + 1
                    if failures[key] >= GIVE_UP_AFTER:  # transient errors in that many runs: stop trying
                        st.done.add(key)
        front = _read(self._dir(FRONTIER), ["url", "source"])
        if front is not None:
            for url, src in zip(front.column("url").to_pylist(), front.column("source").to_pylist()):
                st.frontier.setdefault(url, src)
        return st

    # -- appends ---------------------------------------------------------------------------------
    def append_articles(self, rows: list[dict]) -> None:
        if rows:
            self.store.append(ARTICLES, pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA))

    def append_log(self, rows: list[dict]) -> None:
        if rows:
            self.store.append(FETCH_LOG, pa.Table.from_pylist(rows, schema=FETCH_LOG_SCHEMA))

    def append_frontier(self, items: list[tuple[str, str]]) -> None:
        if items:
            now = datetime.now(UTC)
            rows = [{"url": u, "source": s, "time": now} for u, s in items]
            self.store.append(FRONTIER, pa.Table.from_pylist(rows, schema=FRONTIER_SCHEMA))

    def articles(self, columns: list[str] | None = None) -> pa.Table:
        """Every stored article, or only ``columns`` of it (an empty table when there is none)."""
        names = columns or ARTICLE_SCHEMA.names
        t = _read(self._dir(ARTICLES), names)
        return t if t is not None else pa.schema([ARTICLE_SCHEMA.field(n) for n in names]).empty_table()

    # -- replacing parts (reextract, compaction) ---------------------------------------------------
    def replace_articles(self, table: pa.Table) -> None:
        """Swap every articles part for one part holding ``table`` (see :meth:`_replace`)."""
        self._replace(ARTICLES, table.cast(ARTICLE_SCHEMA))

    def compact(self, table: str, max_parts: int = 200) -> bool:
        """Merge the parts of ``table`` into one when there are more than ``max_parts``; True if it did.

        Hourly runs add a few parts each; merging keeps reading the state of a long-running
        archive fast. The rows and their order stay the same.
        """
        parts = _parts(self._dir(table))
        if len(parts) <= max_parts:
            return False
        merged = pa.concat_tables([pq.read_table(p) for p in parts], promote_options="permissive")
        self._replace(table, merged)
        return True

    def _replace(self, table_name: str, table: pa.Table) -> None:
        """Swap every part of a table for one new part; a journal makes a killed swap finish on next open.

        Order: write the new part aside, write the journal (old part names), rename the new part
        in, delete the old parts, delete the journal. A kill before the rename leaves the old
        parts (the journal is rolled back); a kill after it is rolled forward by :meth:`lock`.
        """
        d = self._dir(table_name)
        d.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        final = d / f"part-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = d / f".{final.name}.tmp"
        pq.write_table(table, tmp, compression="zstd")
        journal = d / f".replace-{uuid.uuid4().hex}.json"
        staged = journal.with_name(journal.name + ".tmp")
        staged.write_text(json.dumps({"new": final.name, "tmp": tmp.name, "old": [p.name for p in _parts(d)]}),
                          encoding="utf-8")
        os.replace(staged, journal)
        os.replace(tmp, final)
        self._finish(journal)
        self.store.refresh_catalog()

    def _finish(self, journal: Path) -> None:
        spec = json.loads(journal.read_text("utf-8"))
        d = journal.parent
        if (d / spec["new"]).exists():
            for name in spec["old"]:
                (d / name).unlink(missing_ok=True)
        else:
            (d / spec["tmp"]).unlink(missing_ok=True)
        journal.unlink()

    def _recover(self) -> None:
        for table in (ARTICLES, FETCH_LOG, FRONTIER):
            d = self._dir(table)
            if d.is_dir():
                for staged in d.glob(".replace-*.json.tmp"):
                    staged.unlink()
                for journal in d.glob(".replace-*.json"):
                    self._finish(journal)
