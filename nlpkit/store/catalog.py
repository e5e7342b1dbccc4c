"""The DuckDB catalog: one view per dataset over its Parquet files, and read-only SQL.

Views in ``<data_dir>/catalog.duckdb``:

- ``<dataset>``: the latest version's main table; ``<dataset>_<table>`` for its other tables
  (e.g. ``imdb_rejects``);
- ``<dataset>__v<N>`` and ``<dataset>_<table>__v<N>``: every older version, by name;
- ``<table>``: every append-only table (``model_runs``, ``fetch_log``, ``runs`` ...).

Writers refresh the views in a few milliseconds after each swap; readers open the file
read-only, so queries keep working while a rebuild runs (a reader that meets the refresh
lock retries briefly).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from nlpkit.errors import DatasetError, ReadOnlyQueryError
from nlpkit.store.versions import Store

__all__ = ["Catalog", "ALLOWED_STATEMENTS"]

#: Statement types an analyst may run. Everything else (DDL, DML, COPY, ATTACH, SET, ...) is refused.
ALLOWED_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class Catalog:
    """Views over a Store, kept in a DuckDB file that analysts (and other tools) can open."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.root / "catalog.duckdb"

    def _views(self) -> Iterator[tuple[str, str]]:
        """(view name, SELECT) pairs describing the store as it is on disk now."""
        for name in self.store.datasets():
            latest = self.store.latest(name)
            for info in self.store.versions(name):
                for table in info.tables:
                    base = name if table == "data" else f"{name}_{table}"
                    select = f"SELECT * FROM read_parquet({_literal(info.table_path(table))})"
                    yield f"{base}__{info.version}", select
                    if info.version == latest.version:
                        yield base, select
        for table in self.store.tables():
            glob = self.store.root / "tables" / table / "part-*.parquet"
            yield table, f"SELECT * FROM read_parquet({_literal(glob)}, union_by_name = true)"

    def refresh(self, retries: int = 50) -> list[str]:
        """Recreate every view from the store's current state; returns the view names."""
        self.store.root.mkdir(parents=True, exist_ok=True)
        views = list(self._views())
        con = self._connect(read_only=False, retries=retries)
        try:
            con.execute("BEGIN TRANSACTION")
            existing = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
            for v in existing:
                con.execute(f"DROP VIEW IF EXISTS {_quote(v)}")
            for view, select in views:
                con.execute(f"CREATE VIEW {_quote(view)} AS {select}")
            con.execute("COMMIT")
        finally:
            con.close()
        return [v for v, _ in views]

    def _connect(self, *, read_only: bool, retries: int = 50) -> duckdb.DuckDBPyConnection:
        delay = 0.02
        for attempt in range(retries + 1):
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as e:  # another process holds the write lock for a moment
                if "lock" not in str(e).lower() or attempt == retries:
                    raise DatasetError(f"cannot open catalog {self.path}: {e}") from e
                time.sleep(delay)
                delay = min(delay * 1.5, 0.5)
        raise AssertionError("unreachable")

    def connect_read_only(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the catalog (building it first if it does not exist)."""
        if not self.path.exists():
            self.refresh()
        return self._connect(read_only=True)

    @staticmethod
    def check_read_only(sql: str, con: duckdb.DuckDBPyConnection) -> None:
        """Refuse any statement that is not a plain query, naming it."""
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as e:
            raise DatasetError(f"SQL does not parse: {e}") from e
        if not statements:
            raise DatasetError("empty SQL: give a SELECT statement")
        for st in statements:
            kind = st.type.name
            if kind not in ALLOWED_STATEMENTS:
                raise ReadOnlyQueryError(
                    f"refused {kind} statement: queries are read-only (allowed: {', '.join(sorted(ALLOWED_STATEMENTS))}). "
                    "To export results use `nlpkit query ... --out FILE`."
                )

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run analysts' SQL read-only; returns (column names, rows)."""
        con = self.connect_read_only()
        try:
            self.check_read_only(sql, con)
            rel = con.sql(sql)
            if rel is None:
                return [], []
            return list(rel.columns), rel.fetchall()
        finally:
            con.close()

    def export(self, sql: str, out: Path) -> int:
        """Run read-only SQL and write its result to CSV/TSV/Parquet by ``out``'s suffix; returns rows."""
        suffix = out.suffix.lower()
        if suffix not in {".csv", ".tsv", ".parquet"}:
            raise DatasetError(f"--out {out}: unknown format {suffix!r}; use .csv, .tsv or .parquet")
        con = self.connect_read_only()
        try:
            self.check_read_only(sql, con)
            table = con.sql(sql).to_arrow_table()
        finally:
            con.close()
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, out)
        else:
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, out, pacsv.WriteOptions(delimiter="\t" if suffix == ".tsv" else ","))
        return table.num_rows
