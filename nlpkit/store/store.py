"""The ``Store``: versioned datasets and append-only tables on Delta Lake under one data directory.

See :mod:`nlpkit.store.layout` for the folders, :mod:`nlpkit.store.datasets` for what makes
a version (and why a crash never shows half of one), :mod:`nlpkit.store.tables` for appends
and :mod:`nlpkit.store.sql` for the analysts' SQL over all of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from nlpkit.errors import DatasetError, DatasetNotFoundError, StorageError, StoreLayoutError
from nlpkit.store.datasets import VersionInfo, VersionWriter, commit_version, list_versions
from nlpkit.store.layout import (
    StorePath,
    arrow_dataset,
    delta_table,
    is_delta_table,
    os_error_message,
    refuse_old_layout,
    validate_name,
)
from nlpkit.store.remote import is_uri, parse_store_uri
from nlpkit.store.sql import SqlSandbox
from nlpkit.store.tables import append_rows, read_table
from nlpkit.store.views import UNION_VIEWS
from nlpkit.suggest import did_you_mean

__all__ = ["Store"]

log = logging.getLogger(__name__)


def _storage_errors(what: str) -> contextlib.AbstractContextManager[None]:
    """Turn a full disk / read-only / permission failure into one StorageError naming the fix."""

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except DatasetError:
            raise
        except Exception as e:  # OSError from our own writes, DeltaError (Rust I/O) from commits
            msg = os_error_message(e, what)
            if msg is None:
                raise
            raise StorageError(msg) from e

    return guard()


class Store:
    """The data directory: versioned datasets and append-only tables, each a Delta table.

    ``root`` is a local folder or an object-storage URI (``s3://bucket/prefix``) with its
    ``storage_options`` (delta-rs names: ``endpoint_url``, ``access_key_id``, ``secret_access_key``,
    ``region``, ``allow_http``, ``conditional_put``; see :mod:`nlpkit.store.remote`). On object
    storage, ``cache_dir`` is the local folder that holds writer locks and artifact copies.
    """

    def __init__(self, root: str | Path, storage_options: Mapping[str, str] | None = None,
                 cache_dir: Path | None = None) -> None:
        self.root: StorePath
        if is_uri(root):
            self.root = parse_store_uri(str(root), storage_options, cache_dir)
        else:
            self.root = Path(root)
            existing = next((p for p in (self.root, *self.root.parents) if p.exists()), None)
            if existing is not None and not existing.is_dir():
                where = "" if existing == self.root else f" ({existing} is a file)"
                raise StoreLayoutError(f"data directory {root} is not a folder{where}; point NLPKIT_DATA_DIR (or "
                                       "data_dir in flows.yaml) at a folder")
        self.storage_options = dict(storage_options or {})

    @property
    def remote(self) -> bool:
        """True when the store lives on object storage."""
        return not isinstance(self.root, Path)

    # -- layout -------------------------------------------------------------------------------
    def _dataset_dir(self, name: str) -> StorePath:
        return self.root / "datasets" / validate_name(name)

    def table_dir(self, name: str) -> StorePath:
        """The folder of append-only table ``name`` (a Delta table; readable by any Delta reader)."""
        return self.root / "tables" / validate_name(name, "table")

    def dataset_table_dir(self, name: str, table: str = "data") -> StorePath:
        """The folder of table ``table`` of dataset ``name`` (a Delta table)."""
        return self._dataset_dir(name) / validate_name(table, "table")

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        """Serialise nlpkit writers of one dataset across processes (readers never take it)."""
        # on object storage the lock file is local: it serialises this machine's writers only
        lock_dir = self.root.conn.cache_dir / "locks" if self.remote else self.root / "locks"
        with _storage_errors(f"cannot lock dataset {name!r} in {self.root}"):
            lock_dir.mkdir(parents=True, exist_ok=True)
            f = (lock_dir / f"{name}.lock").open("a")
        with f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _sql_names(self) -> dict[str, str]:
        """SQL name -> what owns it, for every dataset table and append table now in the store."""
        owners: dict[str, str] = {v: f"the cross-dataset view {v!r}" for v in UNION_VIEWS}
        for t in self.tables():
            owners.setdefault(t, f"append table {t!r}")
        for d in self.datasets():
            owners.setdefault(d, f"dataset {d!r}")
            for table in self.latest(d).tables:
                if table != "data":
                    owners.setdefault(f"{d}_{table}", f"table {table!r} of dataset {d!r}")
        return owners

    def _refuse_collision(self, sql_names: list[str], owner: str) -> None:
        taken = self._sql_names()
        for n in sql_names:
            if n in taken and taken[n] != owner:
                raise DatasetError(
                    f"cannot create {owner}: its SQL name {n!r} is already used by {taken[n]}; choose another name"
                )

    # -- reading ------------------------------------------------------------------------------
    def datasets(self) -> list[str]:
        """Names of datasets with at least one committed version."""
        refuse_old_layout(self.root)
        base = self.root / "datasets"
        if not base.is_dir():
            return []
        out = []
        for p in sorted(base.iterdir()):
            try:
                validate_name(p.name)
            except DatasetError:
                continue
            try:
                if list_versions(p.name, p):
                    out.append(p.name)
            except Exception as e:  # a damaged table must not break every other dataset
                log.warning("dataset %s cannot be read (%s); skipped", p.name, str(e).splitlines()[0] if str(e) else e)
        return out

    def tables(self) -> list[str]:
        """Names of append-only tables with at least one commit."""
        base = self.root / "tables"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if is_delta_table(p) and "__" not in p.name)

    def versions(self, name: str) -> list[VersionInfo]:
        """Committed versions of ``name``, oldest first."""
        try:
            return list_versions(name, self._dataset_dir(name))
        except DatasetError:
            raise
        except Exception as e:
            raise DatasetError(f"dataset {name!r} cannot be read from {self.root}: {str(e).splitlines()[0]}; "
                               f"rebuild it, or move datasets/{name} away") from e

    def latest(self, name: str) -> VersionInfo:
        """The newest committed version; raises DatasetNotFoundError listing the known datasets."""
        versions = self.versions(name)
        if versions:
            return versions[-1]
        datasets = self.datasets()
        known = ", ".join(datasets) or "(none yet)"
        hint = did_you_mean(name, datasets)
        if hint:
            raise DatasetNotFoundError(f"dataset {name!r} is not in {self.root}; {hint} Known datasets: {known}.",
                                       dataset=name)
        raise DatasetNotFoundError(
            f"dataset {name!r} has no version in {self.root}; known datasets: {known}. "
            f"Build it first (e.g. `nlpkit data rebuild {name}` or `nlpkit data import {name} FILE`).",
            dataset=name,
        )

    def version(self, name: str, version: str | int) -> VersionInfo:
        """Version ``version`` (``"v3"`` or 3) of ``name``."""
        versions = self.versions(name)
        key = f"v{version}" if isinstance(version, int) else version
        for info in versions:
            if info.version == key:
                return info
        have = ", ".join(v.version for v in versions) or "(none)"
        raise DatasetNotFoundError(f"dataset {name!r} has no version {key!r}; versions: {have}")

    def _delta(self, name: str, table: str, version: str | int | None) -> tuple[Any, StorePath]:
        info = self.version(name, version) if version is not None else self.latest(name)
        path = self.dataset_table_dir(name, table)
        return delta_table(path, info.table_version(table)), path

    def read(self, name: str, table: str = "data", version: str | int | None = None,
             columns: list[str] | None = None, filter: Any = None) -> pa.Table:
        """Read one table of a dataset version (latest by default) into memory.

        ``filter`` is a pyarrow expression (``pc.field("id").isin(ids)``) applied while reading.
        """
        dt, path = self._delta(name, table, version)
        return arrow_dataset(dt, path).to_table(columns=columns, filter=filter)

    def columns(self, name: str, table: str = "data", version: str | int | None = None) -> list[str]:
        """Column names of one table of a dataset version, without reading any rows."""
        dt, _ = self._delta(name, table, version)
        return list(pa.schema(dt.schema().to_arrow()).names)

    def read_appended(self, name: str, columns: list[str] | None = None) -> pa.Table:
        """All rows of an append-only table, in append order (columns added later read as null)."""
        path = self.table_dir(name)
        if not is_delta_table(path):
            refuse_old_layout(self.root)
        return read_table(path, columns)

    # -- writing ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def write_version(
        self,
        name: str,
        *,
        parameters: Mapping[str, Any] | None = None,
        source: str | None = None,
    ) -> Iterator[VersionWriter]:
        """Write a new version of ``name``: visible only once its single ``data`` commit lands.

        >>> with store.write_version("imdb", source="aclImdb_v1.tar.gz") as w:   # doctest: +SKIP
        ...     w.write(table)              # main table 'data'
        ...     w.write(rejects, "rejects")
        """
        d = self._dataset_dir(name)
        refuse_old_layout(self.root)
        with self._lock(name):
            if not self.versions(name):
                self._refuse_collision([name], f"dataset {name!r}")
            with _storage_errors(f"cannot write dataset {name!r} in {self.root}"):
                d.mkdir(parents=True, exist_ok=True)
            writer = VersionWriter(dataset=name, root=d)
            started = time.time()
            try:
                yield writer
                for t in writer._parts:
                    if t != "data":
                        self._refuse_collision([f"{name}_{t}"], f"table {t!r} of dataset {name!r}")
                with _storage_errors(f"cannot write dataset {name!r} in {self.root}"):
                    commit_version(writer, parameters=parameters, source=source, started=started)
            except BaseException as e:
                writer._discard()
                msg = os_error_message(e, f"cannot write dataset {name!r} in {self.root}")
                if msg is not None and not isinstance(e, DatasetError):  # e.g. ENOSPC while writing rows
                    raise StorageError(msg) from e
                raise

    def append(self, name: str, table: pa.Table | Any) -> int:
        """Append rows to append-only table ``name`` as one commit; returns the table's new version."""
        if not isinstance(table, pa.Table):
            table = pa.Table.from_pandas(table, preserve_index=False)
        path = self.table_dir(name)
        if not is_delta_table(path):
            refuse_old_layout(self.root)
            self._refuse_collision([name], f"append table {name!r}")
        with _storage_errors(f"cannot append to table {name!r} in {self.root}"):
            return append_rows(path, table)

    def remove_version(self, name: str, version: str) -> None:
        """Delete an old version's files (never the latest one's)."""
        from nlpkit.store.maintenance import vacuum_dataset

        with self._lock(name):
            versions = self.versions(name)
            if versions and versions[-1].version == version:
                raise DatasetError(f"refusing to delete {name} {version}: it is the latest version")
            self.version(name, version)
            vacuum_dataset(self, name, keep=[v for v in versions if v.version != version])

    def sql(self) -> SqlSandbox:
        """The analysts' sandbox over this store (see :class:`nlpkit.store.sql.SqlSandbox`)."""
        return SqlSandbox(self)

    def refresh_catalog(self) -> None:
        """Kept for callers of the old API: there is no persistent catalog any more (a no-op)."""

