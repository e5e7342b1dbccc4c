"""What the web app loads once per version and keeps: documents, indexes, shared feature tables, memos.

:class:`StoreCache` holds, per browsable dataset, its normalized documents (:mod:`nlpkit.ui.corpus`),
its persisted similarity index and its rows of the shared feature tables (``similar_docs``,
``tfidf_keywords``, ``clusters``, ``projections``), each read once per version through the read-only
:class:`nlpkit.store.SqlSandbox`; version checks and store listings are trusted for a couple of
seconds, because one page asks several times. :class:`nlpkit.ui.explorer.Explorer` builds the pages'
answers on top.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nlpkit.errors import FeatureError, NlpkitError
from nlpkit.features.query import index_name
from nlpkit.store import SqlSandbox, Store
from nlpkit.ui.corpus import Corpus, browsable, load_corpus, version_of
from nlpkit.ui.models import Predictor

if TYPE_CHECKING:  # scikit-learn (the index's TF-IDF) is imported when an index is first loaded, not at start-up
    from nlpkit.features.index import SimilarityIndex

__all__ = ["StoreCache"]

_VERSION_TTL = 2.0  # seconds a version check is trusted (a page makes several calls)


def _q(value: str) -> str:
    """A SQL string literal (the sandbox refuses writes anyway; this keeps names with quotes working)."""
    return "'" + str(value).replace("'", "''") + "'"

def _runs(keys: pa.ChunkedArray) -> dict[Any, range]:
    """Row range of each key of a column sorted by key (found in Arrow; pandas' groupby().indices took
    seconds on IMDB's 1M Arrow-backed neighbour rows)."""
    col = keys.combine_chunks()
    n = len(col)
    if n == 0:
        return {}
    change = pc.fill_null(pc.not_equal(col.slice(1), col.slice(0, n - 1)), True)
    starts = np.flatnonzero(np.r_[True, change.to_numpy(zero_copy_only=False)])
    ends = np.r_[starts[1:], n]
    return {k: range(a, b) for k, a, b in zip(col.take(pa.array(starts)).to_pylist(), starts.tolist(), ends.tolist())}

class StoreCache:
    """Per-version caches over one store (thread-safe; nothing here writes)."""

    def __init__(self, store: Store, *, sql_timeout: float = 30.0) -> None:
        self.store = store
        self.sql_timeout = sql_timeout
        self._lock = threading.Lock()  # guards _locks only
        self._locks: dict[Any, threading.Lock] = {}
        self._corpora: dict[str, Corpus] = {}
        self._indexes: dict[str, tuple[str, SimilarityIndex | None, str]] = {}  # version, index, why none
        self._checked: dict[str, tuple[float, str]] = {}
        self._shared: dict[tuple[str, str], tuple[str, pa.Table | None, dict[Any, range]]] = {}
        self._memos: dict[str, tuple[str, Any]] = {}
        self._predictor = Predictor(store)

    # -- caches -----------------------------------------------------------------------------------
    def _lock_of(self, key: Any) -> threading.Lock:
        """One lock per cached thing: a page that needs a loaded corpus does not wait while the preload
        reads another dataset's feature tables."""
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def _memo(self, key: str, version: str, compute: Any) -> Any:
        """``compute()`` once per ``version`` of what it reads (a sandbox query costs ~0.1-0.3 s)."""
        hit = self._memos.get(key)
        if hit is None or hit[0] != version:
            hit = self._memos[key] = (version, compute())
        return hit[1]

    def _table_version(self, table: str) -> str:
        """An append table's Delta version ("" when it does not exist), trusted for a couple of seconds."""
        now = time.monotonic()
        hit = self._checked.get(f"table:{table}")
        if hit and now - hit[0] < _VERSION_TTL:
            return hit[1]
        v = ""
        if table in self.store.tables():
            from deltalake import DeltaTable

            v = str(DeltaTable(str(self.store.table_dir(table))).version())
        self._checked[f"table:{table}"] = (now, v)
        return v

    def _listing(self) -> str:
        """The store's dataset and table names, listed at most every couple of seconds (a listing costs
        ~15-50 ms and every page asks twice)."""
        now = time.monotonic()
        hit = self._checked.get("listing")
        if hit and now - hit[0] < _VERSION_TTL:
            return hit[1]
        key = "|".join(self.store.datasets() + self.store.tables())
        self._checked["listing"] = (now, key)
        return key

    def datasets(self) -> list[str]:
        return list(self._memo("datasets", self._listing(), lambda: browsable(self.store)))

    def tables(self) -> list[str]:
        """SQL names of the latest tables (for the SQL page)."""
        key = self._listing()
        return list(self._memo("tables", key, lambda: sorted(n for n in self.sandbox().registry() if "__v" not in n)))

    def sandbox(self) -> SqlSandbox:
        return SqlSandbox(self.store, timeout=self.sql_timeout)

    def _version(self, name: str) -> str:
        now = time.monotonic()
        hit = self._checked.get(name)
        if hit and now - hit[0] < _VERSION_TTL:
            return hit[1]
        v = version_of(self.store, name)
        self._checked[name] = (now, v)
        return v

    def corpus(self, name: str) -> Corpus:
        if name not in self._corpora and name not in self.datasets():
            load_corpus(self.store, name)  # raises the unknown-dataset error with suggestions
        version = self._version(name)
        with self._lock_of(("corpus", name)):
            c = self._corpora.get(name)
            if c is None or c.version != version:
                c = self._corpora[name] = load_corpus(self.store, name, version)
            return c

    def index(self, name: str) -> SimilarityIndex | None:
        """The dataset's similarity index (None when there is none that loads: :meth:`index_problem` says why)."""
        return self._index(name)[1]

    def index_problem(self, name: str) -> str:
        """Why ``name`` has no usable index, with the command that makes one ("" when it has one)."""
        return self._index(name)[2]

    def _index(self, name: str) -> tuple[str, SimilarityIndex | None, str]:
        try:
            version = self._version(index_name(name))
        except NlpkitError:
            return "", None, f"{name} has no term index yet: run `nlpkit features build {name}` to search it"
        with self._lock_of(("index", name)):
            cached = self._indexes.get(name)
            if cached is None or cached[0] != version:
                from nlpkit.features.build import load_index

                try:
                    cached = self._indexes[name] = (version, load_index(self.store, name), "")
                except FeatureError as e:  # e.g. an index written by an older nlpkit: the error names the fix
                    why = f"{name}'s term index cannot be used: {e}".replace("DATASET", name)
                    cached = self._indexes[name] = (version, None, why)
            return cached

    def shared(self, name: str, table: str, side: str = "data", key: str | None = None
               ) -> tuple[pa.Table | None, dict[Any, range]]:
        """``name``'s rows of a shared features table (read once per version) and row positions by ``key``.

        Kept as Arrow (IMDB's 1M neighbour rows and 1M keyword rows: tens of MiB, where pandas object
        columns held a Python string per id and term); a page slices the few rows it shows.
        """
        try:
            version = self._version(f"features_{name}")  # one commit pins every feature table of ``name``
        except NlpkitError:
            return None, {}
        cache_key = (name, f"{table}_{side}")
        with self._lock_of(cache_key):
            hit = self._shared.get(cache_key)
            if hit is None or hit[0] != version:
                sql_name = f"features_{name}_{table}" + ("" if side == "data" else f"_{side}")
                sb = self.sandbox()
                cols = {c[0] for c in sb.query(f"DESCRIBE {sql_name}")[1]}
                order = [c for c in (key, "rank") if c and c in cols]  # each key's rows together, best first
                by = f" ORDER BY {', '.join(order)}" if order else ""
                t = sb.arrow(f"SELECT * FROM {sql_name} WHERE dataset = {_q(name)}{by}")
                t = t.combine_chunks()
                hit = self._shared[cache_key] = (version, t, _runs(t.column(key)) if key else {})
            return hit[1], hit[2]

    def warm_up(self, name: str, part: Literal["documents", "search", "features", "all"] = "all") -> None:
        """Load a dataset's documents (``part="documents"``), its index and tokenizer (``"search"``), its
        feature tables (``"features"``), or all three, so that pages answer fast."""
        c = self.corpus(name)
        if part in ("search", "all"):
            idx = self.index(name)
            if idx is not None:
                idx.warm_up()
                idx.analyzer(c.get("title", 0) if len(c) else "warm up")  # loads the tokenizer
        if part in ("features", "all"):
            self.shared(name, "similar_docs", key="doc")
            self.shared(name, "tfidf_keywords", key="key")
            self.shared(name, "clusters", key="id")
            self.shared(name, "clusters", "summary")
            self.shared(name, "projections", key="method")
