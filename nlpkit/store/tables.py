"""Append-only tables (articles, fetch_log, runs, model_runs ...): one Delta append commit per call.

Appends never take a lock: Delta's optimistic concurrency lets two processes append to one
table at once (both commits land, in some order). A commit that still conflicts is retried
with back-off; after that the caller gets a :class:`StoreConflictError` and nothing is lost
(its rows were never committed, the table is unchanged). New columns are merged into the
table's schema (``schema_mode="merge"``); older rows read them as null.

Reading returns rows in the order they were appended. ``compact`` rewrites a table's many
small files as one file in one commit (same rows, same order); files it replaced stay
readable by older versions until ``vacuum`` deletes them.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from nlpkit.errors import DatasetNotFoundError, StoreConflictError
from nlpkit.store.layout import (
    StorePath,
    arrow_dataset,
    arrow_fs,
    delta_compatible,
    delta_table,
    is_delta_table,
    storage_options,
)

__all__ = ["append_rows", "compact_table", "read_table", "replace_rows", "table_files"]

log = logging.getLogger(__name__)
RETRIES = 8


def _with_retries(what: str, func: Any) -> Any:
    from deltalake.exceptions import CommitFailedError, DeltaError

    delay = 0.05
    for attempt in range(RETRIES + 1):
        try:
            return func()
        except (CommitFailedError, DeltaError) as e:
            text = str(e)
            retryable = isinstance(e, CommitFailedError) or "already exists" in text or "conflict" in text.lower()
            if not retryable:
                raise
            if attempt == RETRIES:
                raise StoreConflictError(
                    f"{what}: another writer kept committing first ({RETRIES + 1} tries): {text.splitlines()[0]}; "
                    "nothing was written, run the command again"
                ) from e
            log.info("%s: commit conflict (%s), retrying", what, text.splitlines()[0])
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")


_open_tables: dict[str, Any] = {}
_open_lock = threading.Lock()


def _cached(path: StorePath) -> Any | None:
    """The DeltaTable at ``path``, kept open between appends and brought up to date (None if none yet).

    Re-opening replays the log since the last checkpoint on every append; an open table only
    reads the commits that are new since it last looked.
    """
    key = str(path.resolve())
    dt = _open_tables.get(key)
    if dt is not None:
        try:
            dt.update_incremental()
            return dt
        except Exception:  # the folder was replaced or removed: open it afresh
            _open_tables.pop(key, None)
    if not is_delta_table(path):
        return None
    dt = _open_tables[key] = delta_table(path.resolve())
    return dt


def append_rows(path: StorePath, table: pa.Table) -> int:
    """Append ``table`` to the Delta table at ``path`` (created on first use); returns the new version."""
    from deltalake import write_deltalake

    # one chunk: write_deltalake writes the batches of a many-chunk table out of order
    table = delta_compatible(table).combine_chunks()
    path.mkdir(parents=True, exist_ok=True)

    def commit() -> int:
        with _open_lock:
            dt = _cached(path)
            if dt is None:
                write_deltalake(str(path), table, mode="append", schema_mode="merge",
                                storage_options=storage_options(path))
                dt = _cached(path)
            else:
                write_deltalake(dt, table, mode="append", schema_mode="merge")
            assert dt is not None
            return int(dt.version())

    return int(_with_retries(f"append to {path.name}", commit))


def read_table(path: StorePath, columns: list[str] | None = None, version: int | None = None) -> pa.Table:
    """Every row of the append table at ``path`` (in append order); only ``columns`` that exist."""
    if not is_delta_table(path):
        raise DatasetNotFoundError(f"table {path.name!r} has no rows yet in {path.parent.parent}")
    dt = delta_table(path, version)
    ds = arrow_dataset(dt, path, commit_order=True)
    if columns is not None:
        columns = [c for c in columns if c in ds.schema.names]
    return ds.to_table(columns=columns)


def table_files(path: StorePath) -> int:
    """How many data files the latest version of ``path`` reads (compaction brings it to 1)."""
    return len(delta_table(path).file_uris())


def compact_table(path: StorePath, min_files: int = 2) -> bool:
    """Rewrite the table as one file in one commit when it has at least ``min_files``; True if it did.

    Done as an overwrite from the snapshot that was read, so an append committed meanwhile
    is kept (its file is not among those the overwrite removes) and nothing is lost.
    ``DeltaTable.optimize.compact()`` would do the same without changing data, but it writes
    the rows newest file first, which would reverse the append order readers rely on.
    """
    if not is_delta_table(path):
        return False

    def run() -> bool:
        dt = delta_table(path)
        if len(dt.file_uris()) < min_files:
            return False
        rows = arrow_dataset(dt, path, commit_order=True).to_table()
        _overwrite(dt, path, rows)
        return True

    return bool(_with_retries(f"compact {path.name}", run))


def replace_rows(path: StorePath, table: pa.Table) -> int:
    """Replace every row of the table at ``path`` by ``table`` in one overwrite commit; returns the version."""
    from deltalake import write_deltalake

    table = delta_compatible(table).combine_chunks()
    path.mkdir(parents=True, exist_ok=True)

    def commit() -> int:
        if not is_delta_table(path):
            write_deltalake(str(path), table, mode="append", storage_options=storage_options(path))
        else:
            _overwrite(delta_table(path), path, table)
        return int(delta_table(path).version())

    return int(_with_retries(f"replace {path.name}", commit))


def _overwrite(dt: Any, path: StorePath, table: pa.Table) -> None:
    """Commit ``table`` as the whole content of snapshot ``dt``, written by us as one Parquet file.

    ``write_deltalake`` may write record batches out of order (it writes them in parallel);
    writing the file ourselves keeps the rows in the order given.
    """
    import json
    import uuid

    import pyarrow.parquet as pq
    from deltalake.transaction import AddAction

    file = path / f"part-{uuid.uuid4().hex}.zstd.parquet"
    try:
        fs, where = arrow_fs(file)
        pq.write_table(table, where, compression="zstd", filesystem=fs)
        st = file.stat()
        add = AddAction(file.name, st.st_size, {}, int(st.st_mtime * 1000), True, json.dumps({"numRecords": table.num_rows}))
        dt.create_write_transaction([add], mode="overwrite", schema=table.schema)
    except BaseException:
        file.unlink(missing_ok=True)
        raise
