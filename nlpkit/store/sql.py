"""The analysts' SQL sandbox: a fresh in-memory DuckDB per query, over the store's Delta tables.

Names registered (only those a query mentions are opened):

- ``<dataset>``: the latest version's main table; ``<dataset>_<table>`` its other tables
  (``imdb_rejects``), read at the versions that version's commit names;
- ``<dataset>__v<N>`` / ``<dataset>_<table>__v<N>``: every version still kept, by name;
  ``as_of={"imdb": 3}`` (``--as-of imdb=3``) makes plain ``imdb`` mean ``v3``;
- ``<table>``: every append-only table (``articles``, ``fetch_log``, ``runs``, ``model_runs`` ...);
- the cross-dataset views of :mod:`nlpkit.store.views` (``similar_docs`` ...): the union of one table
  of every ``features_<dataset>``'s current version.

If two of these ever share a name (a store written before names were checked), the first in
that order wins and a warning names the loser; nothing else breaks.

Nothing the query can do leaves the process: external access is off (no file reads or
writes, no ``ATTACH``, no extension install/load) except reading the exact Parquet files of
the snapshots the query names (``allowed_paths``; DuckDB's own Parquet reader answers about
2x faster than scanning a registered pyarrow dataset), the configuration is locked after setup,
and only one read statement is accepted, decided by DuckDB's own parser: ``SELECT``/``WITH``,
``DESCRIBE``, ``SUMMARIZE`` (both parse as SELECT) and plain ``EXPLAIN`` of a SELECT.
``EXPLAIN ANALYZE`` runs its statement, so it is refused outright.

Limits (parsed by :mod:`nlpkit.store.sql_limits`): the ``timeout`` clock starts when the query is
asked for, before any snapshot opens, and a timer thread interrupts the connection when it runs out
(snapshot opening checks the clock between tables); DuckDB's memory limit defaults to a quarter
of the RAM; a query that spills writes only into its own temporary folder (``spill_limit`` bytes at
most, removed when the query ends; ``0`` turns spilling off), never into the current directory.
:mod:`nlpkit.store.sql_worker` runs analysts' SQL in a child process on top of this, so that a
query stuck inside one DuckDB call is still killed on time and its memory is capped.
Readers open Delta snapshots and hold no lock, so writers never wait for them.

The sandbox reads a store through :class:`StoreSnapshots`, the few read calls it needs, so this
module sits below :mod:`nlpkit.store.store` (whose ``Store.sql()`` hands out a sandbox).
"""

from __future__ import annotations

import difflib
import logging
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from nlpkit.errors import DatasetError, DatasetNotFoundError, QueryError, QueryTimeoutError, ReadOnlyQueryError
from nlpkit.store.datasets import VersionInfo
from nlpkit.store.layout import StorePath, arrow_dataset, delta_table, refuse_old_layout
from nlpkit.store.views import UNION_VIEWS, union_source, view_prefix
from nlpkit.store.sql_limits import (DEFAULT_TIMEOUT, MAX_VERSION, MIN_MEMORY, Deadline, default_memory_bytes,
                                     format_size, parse_size, parse_timeout)

__all__ = ["ALLOWED_STATEMENTS", "Catalog", "QueryResult", "SqlSandbox", "StoreSnapshots", "check_read_only",
           "default_memory_limit"]

log = logging.getLogger(__name__)

#: Statement types an analyst may run (DESCRIBE and SUMMARIZE parse as SELECT; EXPLAIN only of a SELECT).
ALLOWED_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
EXPORT_FORMATS = (".csv", ".tsv", ".parquet", ".json", ".jsonl")
MAX_DEFAULT_SPILL = 10 << 30
_IDENT = re.compile(r"[a-z][a-z0-9_]{0,62}")


def default_memory_limit() -> str:
    """A quarter of this machine's RAM, as DuckDB's ``memory_limit`` string."""
    return f"{default_memory_bytes() >> 20}MB"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _source(dt: Any, path: StorePath) -> list[str] | Any:
    """A Delta snapshot's Parquet files in commit order (plain tables), or a pyarrow dataset (other features).

    On object storage it is always a pyarrow dataset read through pyarrow's S3 filesystem:
    DuckDB's own reader would need the httpfs extension, which stays unloaded.
    """
    if not isinstance(path, Path):
        return arrow_dataset(dt, path, commit_order=True)
    protocol = dt.protocol()
    features = set(protocol.reader_features or [])
    if protocol.min_reader_version <= 1 or not features - {"timestampNtz"}:
        ds = arrow_dataset(dt, path, commit_order=True)
        files = [str(path.resolve() / f.path) for f in ds.get_fragments()]
        if files:
            return files
        return ds
    return arrow_dataset(dt, path)


@contextmanager
def _arrow_errors() -> Iterator[None]:
    """DuckDB's errors as they come through Arrow's C stream (an ``OSError`` carrying DuckDB's message) as
    DuckDB's own exceptions again, so that :meth:`SqlSandbox._errors` words them."""
    try:
        yield
    except pa.ArrowException as e:
        text = str(e)
        for prefix, kind in (("Out of Memory Error", duckdb.OutOfMemoryException),
                             ("INTERRUPT Error", duckdb.InterruptException)):
            if prefix in text:
                raise kind(text[text.index(prefix):]) from e
        raise duckdb.Error(text) from e


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _plain_explain_of_select(text: str) -> bool:
    """True for ``EXPLAIN <one SELECT>``: no ANALYZE, no option list, nothing else inside."""
    tokens = [(off, kind) for off, kind in duckdb.tokenize(text) if kind.name.lower() != "comment"]
    if len(tokens) < 2:
        return False
    words = [text[off:].split(None, 1)[0].upper() for off, _ in tokens[:2]]
    if not words[0].startswith("EXPLAIN") or words[0] != "EXPLAIN":
        return False
    if words[1].startswith(("ANALY", "(")):
        return False
    try:
        inner = duckdb.extract_statements(text[tokens[1][0]:])
    except duckdb.Error:
        return False
    return len(inner) == 1 and inner[0].type.name == "SELECT"


def check_read_only(sql: str) -> str:
    """Return the one read statement in ``sql``; refuse anything else, naming what was found."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise QueryError(f"SQL does not parse: {_first_line(e)}") from e
    if not statements:
        raise QueryError("empty SQL: give one SELECT statement, e.g. \"SELECT count(*) FROM imdb\"")
    if len(statements) > 1:
        kinds = ", ".join(s.type.name for s in statements)
        raise ReadOnlyQueryError(f"refused {len(statements)} statements ({kinds}): queries are read-only and run "
                                 "one statement at a time; send each SELECT separately")
    st = statements[0]
    kind = st.type.name
    if kind == "SELECT" or (kind == "EXPLAIN" and _plain_explain_of_select(st.query)):
        return st.query
    what = "EXPLAIN ANALYZE (it runs its statement) or EXPLAIN of a non-SELECT" if kind == "EXPLAIN" else kind
    raise ReadOnlyQueryError(
        f"refused {what} statement: queries are read-only (allowed: SELECT/WITH, DESCRIBE, SUMMARIZE, EXPLAIN "
        "SELECT). To export results use `nlpkit query ... --out FILE`."
    )


@dataclass(frozen=True)
class QueryResult:
    """Column names, the rows fetched, and whether more rows were left unfetched (``limit``)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool = False


Loader = Callable[[], Any]


class StoreSnapshots(Protocol):
    """What the sandbox reads of a store (:class:`nlpkit.store.Store` is the one implementation)."""

    root: StorePath

    def datasets(self) -> list[str]: ...

    def tables(self) -> list[str]: ...

    def versions(self, name: str) -> list[VersionInfo]: ...

    def version(self, name: str, version: str | int) -> VersionInfo: ...

    def dataset_table_dir(self, name: str, table: str = "data") -> StorePath: ...

    def table_dir(self, name: str) -> StorePath: ...


class SqlSandbox:
    """Read-only SQL over a :class:`~nlpkit.store.Store`; every call opens a fresh, locked-down in-memory DuckDB.

    >>> SqlSandbox(store).query("SELECT label, count(*) FROM imdb GROUP BY 1")  # doctest: +SKIP
    (['label', 'count_star()'], [(0, 25000), (1, 25000)])
    """

    def __init__(self, store: StoreSnapshots, *, timeout: float = DEFAULT_TIMEOUT, memory_limit: str | None = None,
                 as_of: Mapping[str, int | str] | None = None, spill_limit: str | None = None,
                 spill_dir: Path | None = None) -> None:
        self.store = store
        self.timeout = parse_timeout(timeout)
        self.memory_bytes = default_memory_bytes() if memory_limit is None else \
            parse_size(memory_limit, "--memory-limit", minimum=MIN_MEMORY)
        self.memory_limit = format_size(self.memory_bytes)
        #: Bytes a query may spill into its own temporary folder (0: spilling off).
        self.spill_bytes = min(4 * self.memory_bytes, MAX_DEFAULT_SPILL) if spill_limit is None else \
            parse_size(spill_limit, "--spill-limit", minimum=1 << 20, allow_zero=True)
        self.spill_dir = spill_dir
        self.as_of = dict(as_of or {})
        for name, v in self.as_of.items():
            text = str(v).removeprefix("v")
            if not (text.isascii() and text.isdigit() and int(text) <= MAX_VERSION):
                raise QueryError(f"--as-of {name}={v}: expected a whole version number, e.g. --as-of {name}=3")

    # -- what is registered --------------------------------------------------------------------
    def registry(self, only: set[str] | None = None, check: Callable[[], None] = lambda: None
                 ) -> dict[str, Loader]:
        """SQL name -> loader of a pyarrow Dataset, in precedence order (collisions: first wins, warned).

        ``only``: the names a query mentions; datasets and tables that cannot own one of them
        are not opened (a query over ``imdb`` reads one Delta log, not every dataset's). ``check``
        is called between reads (the query's deadline).
        """
        store = self.store
        refuse_old_layout(store.root)
        entries: list[tuple[str, str, Loader]] = []
        side: list[tuple[str, str, Loader]] = []
        bases = None if only is None else {n.split("__")[0] for n in only}
        prefixes = view_prefix(bases)  # a cross-dataset view (similar_docs) reads every features_<d>

        def delta(path: StorePath, version: int | None) -> Loader:
            return lambda: _source(delta_table(path, version), path)

        def wanted(d: str) -> bool:
            return bases is None or d in self.as_of or any(b == d or b.startswith(d + "_") for b in bases) \
                or d.startswith(prefixes)

        tables = [t for t in store.tables() if bases is None or t in bases or t in self.as_of]
        datasets: list[tuple[str, list[Any]]] = []
        base = store.root / "datasets"
        for folder in sorted(base.iterdir()) if base.is_dir() else []:
            if "__" in folder.name or not _IDENT.fullmatch(folder.name) or not wanted(folder.name):
                continue
            check()
            try:
                versions = store.versions(folder.name)
            except DatasetError as e:
                log.warning("%s; skipped", e)
                continue
            if versions:
                datasets.append((folder.name, versions))
        unknown = sorted(set(self.as_of) - {d for d, _ in datasets} - set(tables))
        if unknown:
            raise DatasetNotFoundError(f"--as-of {unknown[0]}: no such dataset or table; known: "
                                       f"{', '.join(store.datasets() + store.tables()) or '(none)'}")
        views: dict[str, list[Loader]] = {}
        for d, versions in datasets:
            current = store.version(d, self._as_of_key(d)) if d in self.as_of else versions[-1]
            for view, (prefix, table) in UNION_VIEWS.items():
                if d.startswith(prefix) and table in current.tables:
                    views.setdefault(view, []).append(delta(store.dataset_table_dir(d, table),
                                                            current.table_version(table)))
            for info, name_suffix in [(current, ""), *((v, f"__{v.version}") for v in versions)]:
                for table in info.tables:
                    path = store.dataset_table_dir(d, table)
                    loader = delta(path, info.table_version(table))
                    owner = f"dataset {d} {info.version} table {table}"
                    if table == "data":
                        entries.append((f"{d}{name_suffix}", owner, loader))
                    else:
                        side.append((f"{d}_{table}{name_suffix}", owner, loader))
        for t in tables:
            version = None
            if t in self.as_of:
                check()
                version = int(str(self.as_of[t]).lstrip("v"))
                latest = delta_table(store.table_dir(t)).version()
                if version > latest:
                    raise DatasetNotFoundError(f"--as-of {t}={version}: table {t} has versions 0 to {latest}; "
                                               f"pick one of those, e.g. --as-of {t}={latest}")
            entries.append((t, f"append table {t}", delta(store.table_dir(t), version)))
        out: dict[str, Loader] = {}
        owners: dict[str, str] = {}
        united = [(v, f"view {v} over {len(ls)} datasets", union_source(ls)) for v, ls in views.items()]
        for name, owner, loader in [*united, *entries, *side]:
            if name in out:
                log.warning("SQL name %r is used by both %s and %s; %s wins (rename one to reach the other)",
                            name, owners[name], owner, owners[name])
                continue
            out[name], owners[name] = loader, owner
        return out

    def _as_of_key(self, name: str) -> str:
        v = str(self.as_of[name])
        return v if v.startswith("v") else f"v{v}"

    # -- connections ---------------------------------------------------------------------------
    def connect(self, sql: str | None = None, *, spill_dir: Path | None = None,
                check: Callable[[], None] = lambda: None) -> duckdb.DuckDBPyConnection:
        """A locked-down in-memory connection with the tables ``sql`` names registered (all when None).

        Plain Delta tables become views over DuckDB's own Parquet reader, reading exactly the
        snapshot's files (``allowed_paths``: those files and nothing else); tables that need a
        Delta feature pyarrow handles (deletion vectors, column mapping) are registered as
        pyarrow datasets. Then external access goes off and the configuration is locked. Spilling
        goes into ``spill_dir`` (at most ``spill_limit``), or is off without one.
        """
        names = self._referenced(sql)
        registry = self.registry(names, check)
        wanted = [n for n in registry if n in names] if names is not None else \
            [n for n in registry if "__v" not in n]  # the latest of everything
        sources = {}
        for name in wanted:
            check()
            sources[name] = registry[name]()
        check()
        con = duckdb.connect(":memory:", config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        })
        try:
            con.execute(f"SET memory_limit = '{self.memory_bytes}B'")
            if spill_dir is not None and self.spill_bytes:
                con.execute(f"SET temp_directory = {_literal(str(spill_dir))}")
                con.execute(f"SET max_temp_directory_size = '{self.spill_bytes}B'")
            else:  # DuckDB's default would spill into ./.tmp of whatever the current directory is
                con.execute("SET temp_directory = ''")
            con.execute("SET enable_progress_bar = false")  # else a query over ~2 s prints a bar into stdout
            files = sorted({f for src in sources.values() if isinstance(src, list) for f in src})
            if files:
                con.execute(f"SET allowed_paths = [{', '.join(_literal(f) for f in files)}]")
            con.execute("SET enable_external_access = false")
            for name, src in sources.items():
                if isinstance(src, list):
                    listed = ", ".join(_literal(f) for f in src)
                    con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{listed}], union_by_name = true)")
                else:
                    con.register(name, src)
            con.execute("SET lock_configuration = true")
        except BaseException:
            con.close()
            raise
        return con

    def _referenced(self, sql: str | None) -> set[str] | None:
        """The table names ``sql`` mentions, parsed on a connection that cannot touch files; None when unknown."""
        if sql is None:
            return None
        if getattr(self, "_parser", None) is None:
            self._parser = duckdb.connect(":memory:", config={"enable_external_access": False,
                                                              "autoinstall_known_extensions": False,
                                                              "autoload_known_extensions": False,
                                                              "lock_configuration": True})
        try:
            return {n.split(".")[-1] for n in self._parser.get_table_names(sql)}
        except duckdb.Error:
            return None

    def _open(self, sql: str) -> tuple[duckdb.DuckDBPyConnection, str, Callable[[], None]]:
        """A connection for the one read statement in ``sql``, its time limit running since the call, and what
        closes both (and removes the query's spill folder)."""
        deadline = Deadline(self.timeout)
        spill: Path | None = None
        try:
            statement = check_read_only(sql)
            if self.spill_bytes:  # DuckDB makes the folder on the first spill; an unguessable name
                spill = Path(self.spill_dir or tempfile.gettempdir()) / f"nlpkit-sql-spill-{uuid.uuid4().hex}"
            with self._errors():
                con = self.connect(statement, spill_dir=spill, check=deadline.check)
            deadline.attach(con)
        except BaseException:
            deadline.cancel()
            if spill is not None:
                shutil.rmtree(spill, ignore_errors=True)
            raise

        def close() -> None:
            deadline.cancel()
            con.close()
            if spill is not None:
                shutil.rmtree(spill, ignore_errors=True)
        return con, statement, close

    def _run(self, sql: str, fetch: Callable[[duckdb.DuckDBPyConnection, str], Any]) -> Any:
        con, statement, close = self._open(sql)
        try:
            with self._errors():
                return fetch(con, statement)
        finally:
            close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """DuckDB's errors as one-line nlpkit errors that say what to change."""
        try:
            yield
        except duckdb.InterruptException as e:
            raise QueryTimeoutError(f"query stopped after the {self.timeout:g} s time limit; narrow it (WHERE, "
                                    "LIMIT) or allow more time with --timeout SECONDS") from e
        except duckdb.OutOfMemoryException as e:
            spill = "spilling to disk is off (--spill-limit 0)" if not self.spill_bytes else \
                f"spilling to disk is capped at {format_size(self.spill_bytes)} (--spill-limit)"
            raise QueryError(f"query needs more than the {self.memory_limit} memory limit ({spill}): "
                             f"{_first_line(e)}; aggregate or filter more, or raise --memory-limit") from e
        except duckdb.CatalogException as e:
            raise QueryError(self._unknown_name(e)) from e
        except duckdb.PermissionException as e:
            raise ReadOnlyQueryError(f"refused: {_first_line(e)} (queries read only the store's tables)") from e
        except duckdb.Error as e:
            raise QueryError(f"query failed: {_first_line(e)}") from e

    def _unknown_name(self, e: BaseException) -> str:
        msg = _first_line(e)
        m = re.search(r"with name (\S+) does not exist", msg)
        if not m:
            return f"query failed: {msg}"
        name = m.group(1).strip('"')
        known = sorted(self.registry())
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        latest = [k for k in known if "__v" not in k]
        return (f"unknown table {name!r}: {hint}tables: {', '.join(latest) or '(none: build a dataset first)'} "
                "(older versions as NAME__vN; `nlpkit data list` lists them)")

    # -- public calls --------------------------------------------------------------------------
    def fetch(self, sql: str, limit: int | None = None) -> QueryResult:
        """Run one read statement; fetch at most ``limit`` rows (all when None)."""
        def get(con: duckdb.DuckDBPyConnection, statement: str) -> QueryResult:
            con.execute(statement)
            columns = [d[0] for d in con.description or []]
            if limit is None:
                return QueryResult(columns, con.fetchall())
            rows = con.fetchmany(limit + 1)
            return QueryResult(columns, rows[:limit], len(rows) > limit)

        return self._run(sql, get)

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(column names, every row) of one read statement."""
        res = self.fetch(sql)
        return res.columns, res.rows

    def arrow(self, sql: str) -> pa.Table:
        """The whole result of one read statement as a pyarrow Table."""
        return self._run(sql, lambda con, statement: con.sql(statement).to_arrow_table())

    def batches(self, sql: str, *, limit: int | None = None, batch_rows: int = 10_000) -> pa.RecordBatchReader:
        """The result of one read statement as a stream of record batches, at most ``limit`` rows.

        The statement runs now (a bad one raises here, before anything is streamed); rows are then
        fetched batch by batch as the reader is consumed, so a download of a large result holds one
        batch in memory, not the whole result. The connection closes when the reader is exhausted or
        closed; the time limit counts until then.
        """
        con, statement, close = self._open(sql)
        try:
            with self._errors():
                source = con.sql(statement).to_arrow_reader(batch_rows)
        except BaseException:
            close()
            raise

        def stream() -> Iterator[pa.RecordBatch]:
            left = limit
            try:
                with self._errors(), _arrow_errors():
                    for batch in source:
                        if left is not None and batch.num_rows >= left:
                            if left:
                                yield batch.slice(0, left)
                            return
                        if left is not None:
                            left -= batch.num_rows
                        yield batch
            finally:
                close()

        return pa.RecordBatchReader.from_batches(source.schema, stream())

    def export(self, sql: str, out: Path) -> int:
        """Write the result to ``out`` (.csv, .tsv, .parquet, .json array, .jsonl); returns rows.

        nlpkit writes the file with pyarrow (SQL itself cannot write files), batch by batch; list
        and struct columns become JSON text in CSV/TSV.
        """
        from nlpkit.store.export import write_batches

        suffix = out.suffix.lower()
        if suffix not in EXPORT_FORMATS:
            raise QueryError(f"--out {out}: unknown format {suffix!r}; use {', '.join(EXPORT_FORMATS)}")
        return write_batches(self.batches(sql), out)


#: The old name, kept so that ``Catalog(store).query(sql)`` keeps working.
Catalog = SqlSandbox
