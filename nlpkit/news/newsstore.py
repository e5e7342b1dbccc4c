"""Where news lives in the store, and why a ``kill -9`` loses and duplicates nothing.

Tables (Delta tables under ``tables/``, appended with ``Store.append``: one commit per batch):

- ``articles``: one row per canonical URL;
- ``fetch_log``: one row per fetch or extraction outcome;
  ``stage`` is ``discover`` (feeds, sitemaps, section pages) or ``article``; ``error_kind`` is a
  fetch outcome (``nlpkit.news.fetch.ERROR_KINDS``), or ``stored``, ``duplicate_url`` (canonical
  URL already stored), ``no_article`` (nothing article-like on the page, or a list page),
  ``extract_error`` (the extractor failed) or ``source_error`` (a source could not be read);
  ``final`` says whether a later run leaves the URL alone;
- ``news_frontier``: article URLs discovered, written *before* they are fetched;
- ``news_raw/<aa>/<sha256>.html.gz``: the raw bytes of every fetched page, by content hash.

Crash safety: each batch is one Delta commit, so it is either wholly visible or absent. A batch
is written in the order raw pages -> articles -> fetch_log, so a kill between the steps leaves
at worst an orphan raw file (harmless) or an article without its log row (the article still
counts as done). URLs that failed transiently are tried again in the next runs, up to
``GIVE_UP_AFTER`` failures. One process ingests at a time (``locks/news.lock``), and it reloads
the canonical URLs and content hashes already stored before it writes, so no article is stored
twice. A restarted run fetches the frontier's URLs that have neither an article nor a final
fetch_log row: exactly the unfinished ones.

Appends were chosen over versioned datasets because a version is only visible once the whole
run finishes (a kill would lose the run); appends make each flushed batch visible to
``nlpkit query`` at once. ``nlpkit news reextract`` replaces the articles in one overwrite commit,
and a run first compacts a table whose files number more than 200 (one commit, same rows,
same order); a kill during either leaves the previous version.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from nlpkit.news.archive import archive_raw, read_raw
from nlpkit.news.metadata import normalize_url
from nlpkit.errors import DatasetNotFoundError
from nlpkit.store import Store
from nlpkit.store.layout import is_delta_table
from nlpkit.store.tables import compact_table, replace_rows, table_files

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
#: Failures on our side (the raw archive could not be written: a full disk), not the page's: they
#: never count toward GIVE_UP_AFTER, so a disk that stays full for several runs gives up no page.
OWN_FAULT_KINDS = frozenset({"archive_error"})
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


def _read(store: Store, table: str, columns: list[str]) -> pa.Table | None:
    try:
        return store.read_appended(table, columns)
    except DatasetNotFoundError:
        return None


class NewsStore:
    """News tables and the raw-page archive inside a :class:`~nlpkit.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.raw_dir = store.root / "news_raw"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the news writer lock (one ingesting process per store)."""
        lock_dir = self.store.root / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with (lock_dir / "news.lock").open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
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
        arts = _read(self.store, ARTICLES, ["url", "canonical_url", "content_hash"])
        if arts is not None:
            for url, canon, h in zip(*(arts.column(c).to_pylist() for c in ("url", "canonical_url", "content_hash"))):
                st.done.add(normalize_url(url))
                st.done.add(canon)
                st.canonical.add(canon)
                st.hashes.setdefault(h, canon)
        failures: dict[str, int] = {}
        log = _read(self.store, FETCH_LOG, ["url", "stage", "final", "etag", "last_modified", "error_kind"])
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
                elif cols["error_kind"][i] not in OWN_FAULT_KINDS:
                    key = normalize_url(url)
                    failures[key] = failures.get(key, 0) + 1
                    if failures[key] >= GIVE_UP_AFTER:  # transient errors in that many runs: stop trying
                        st.done.add(key)
        front = _read(self.store, FRONTIER, ["url", "source"])
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
        t = _read(self.store, ARTICLES, names)
        return t if t is not None else pa.schema([ARTICLE_SCHEMA.field(n) for n in names]).empty_table()

    # -- replacing and compacting -----------------------------------------------------------------
    def replace_articles(self, table: pa.Table) -> None:
        """Replace every article by ``table`` in one overwrite commit (a kill leaves the old ones)."""
        replace_rows(self.store.table_dir(ARTICLES), table.cast(ARTICLE_SCHEMA))

    def compact(self, table: str, max_parts: int = 200) -> bool:
        """Rewrite ``table`` as one file when it reads more than ``max_parts`` files; True if it did.

        Hourly runs add a commit (a file) each; compacting keeps reading the state of a
        long-running archive fast. The rows and their order stay the same.
        """
        path = self.store.table_dir(table)
        if not is_delta_table(path) or table_files(path) <= max_parts:
            return False
        return compact_table(path)
