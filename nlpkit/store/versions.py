"""Versioned Parquet datasets: immutable version folders, written aside then swapped in.

Layout under the data directory::

    datasets/<name>/v<N>/<table>.parquet   one file per table (``data`` is the main one)
    datasets/<name>/v<N>/manifest.json     rows, sha256, parameters, source, times, code version
    datasets/<name>/LATEST                 the current version id, replaced atomically
    datasets/<name>/.tmp-*/                a version being written (never listed, never queried)
    tables/<name>/part-*.parquet           append-only tables (fetch logs, run history, metrics)

A writer builds the whole version in a hidden temporary folder, writes the manifest last,
renames the folder into place and only then points ``LATEST`` at it: a crash at any moment
leaves the previous version intact and no half-written version visible.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from nlpkit import __version__
from nlpkit.errors import DatasetError, DatasetNotFoundError

__all__ = ["Store", "VersionInfo", "VersionWriter", "validate_name"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_VERSION = re.compile(r"^v(\d+)$")


def validate_name(name: str, what: str = "dataset") -> str:
    """Dataset and table names become SQL view names: lower-case identifiers only."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise DatasetError(
            f"invalid {what} name {name!r}: use lower-case letters, digits and '_', starting with a letter"
        )
    return name


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def code_version() -> str:
    """nlpkit's version plus the git commit of the working tree when there is one."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One complete, immutable version of a dataset, as its manifest describes it."""

    dataset: str
    version: str
    path: Path
    manifest: dict[str, Any]

    @property
    def created_at(self) -> str:
        return str(self.manifest.get("created_at", ""))

    @property
    def tables(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest.get("tables", {}))

    def table_path(self, table: str = "data") -> Path:
        if table not in self.tables:
            raise DatasetNotFoundError(
                f"dataset {self.dataset!r} {self.version} has no table {table!r}; tables: {', '.join(self.tables)}"
            )
        return self.path / self.tables[table]["file"]

    @property
    def rows(self) -> int:
        return int(self.tables.get("data", {}).get("rows", 0))


@dataclass
class VersionWriter:
    """Collects the tables of one version inside its temporary folder (see Store.write_version)."""

    dataset: str
    tmp_dir: Path
    counts: dict[str, int] = field(default_factory=dict)
    _writers: dict[str, pq.ParquetWriter] = field(default_factory=dict)
    _rows: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def write(self, table: pa.Table | Any, name: str = "data") -> None:
        """Append rows (a pyarrow Table or a pandas DataFrame) to table ``name`` of this version."""
        validate_name(name, "table")
        if not isinstance(table, pa.Table):
            table = pa.Table.from_pandas(table, preserve_index=False)
        writer = self._writers.get(name)
        if writer is None:
            writer = pq.ParquetWriter(self.tmp_dir / f"{name}.parquet", table.schema, compression="zstd")
            self._writers[name] = writer
            self._rows[name] = 0
        elif not table.schema.equals(writer.schema, check_metadata=False):
            table = table.cast(writer.schema)
        writer.write_table(table)
        self._rows[name] += table.num_rows

    def add_file(self, src: Path, name: str | None = None) -> Path:
        """Copy an extra artifact (model file, JSON, plot) into the version folder."""
        dest = self.tmp_dir / (name or src.name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        return dest

    @property
    def dir(self) -> Path:
        """Folder to write extra artifacts into directly (they get hashed into the manifest)."""
        return self.tmp_dir

    def _close(self) -> dict[str, dict[str, Any]]:
        tables: dict[str, dict[str, Any]] = {}
        for name, writer in self._writers.items():
            writer.close()
            tables[name] = {"file": f"{name}.parquet", "rows": self._rows[name]}
        self._writers.clear()
        return tables


class Store:
    """The local data directory: versioned datasets and append-only tables."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- layout -------------------------------------------------------------------------
    def _dataset_dir(self, name: str) -> Path:
        return self.root / "datasets" / validate_name(name)

    def _table_dir(self, name: str) -> Path:
        return self.root / "tables" / validate_name(name, "table")

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        """Serialize writers of one dataset across processes (readers never wait)."""
        lock_dir = self.root / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with (lock_dir / f"{name}.lock").open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # -- reading ------------------------------------------------------------------------
    def datasets(self) -> list[str]:
        """Names of datasets that have at least one complete version."""
        base = self.root / "datasets"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir() and _NAME.match(p.name) and self.versions(p.name))

    def tables(self) -> list[str]:
        """Names of append-only tables that hold at least one part."""
        base = self.root / "tables"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir() and any(p.glob("part-*.parquet")))

    def versions(self, name: str) -> list[VersionInfo]:
        """Complete versions of ``name``, oldest first (folders without a manifest are ignored)."""
        d = self._dataset_dir(name)
        if not d.is_dir():
            return []
        out = []
        for p in d.iterdir():
            m = _VERSION.match(p.name)
            manifest = p / "manifest.json"
            if m and manifest.is_file():
                out.append((int(m.group(1)), VersionInfo(name, p.name, p, json.loads(manifest.read_text("utf-8")))))
        return [v for _, v in sorted(out, key=lambda t: t[0])]

    def latest(self, name: str) -> VersionInfo:
        """The version ``LATEST`` points at; raises DatasetNotFoundError listing known datasets."""
        d = self._dataset_dir(name)
        pointer = d / "LATEST"
        if pointer.is_file():
            version = pointer.read_text("utf-8").strip()
            return self.version(name, version)
        known = ", ".join(self.datasets()) or "(none yet)"
        raise DatasetNotFoundError(
            f"dataset {name!r} has no version in {self.root}; known datasets: {known}. "
            f"Build it first (e.g. `nlpkit rebuild {name}` or `nlpkit import {name} FILE`)."
        )

    def version(self, name: str, version: str) -> VersionInfo:
        p = self._dataset_dir(name) / version
        manifest = p / "manifest.json"
        if not _VERSION.match(version) or not manifest.is_file():
            have = ", ".join(v.version for v in self.versions(name)) or "(none)"
            raise DatasetNotFoundError(f"dataset {name!r} has no version {version!r}; versions: {have}")
        return VersionInfo(name, version, p, json.loads(manifest.read_text("utf-8")))

    def read(self, name: str, table: str = "data", version: str | None = None, columns: list[str] | None = None) -> pa.Table:
        """Read one table of a dataset version (latest by default) into memory."""
        info = self.version(name, version) if version else self.latest(name)
        return pq.read_table(info.table_path(table), columns=columns)

    def read_appended(self, name: str) -> pa.Table:
        """All parts of an append-only table, concatenated (schemas unified by name)."""
        parts = sorted(self._table_dir(name).glob("part-*.parquet"))
        if not parts:
            raise DatasetNotFoundError(f"table {name!r} has no rows yet in {self.root}")
        tables = [pq.read_table(p) for p in parts]
        return pa.concat_tables(tables, promote_options="permissive")

    # -- writing ------------------------------------------------------------------------
    @contextlib.contextmanager
    def write_version(
        self,
        name: str,
        *,
        parameters: Mapping[str, Any] | None = None,
        source: str | None = None,
    ) -> Iterator[VersionWriter]:
        """Write a new version of ``name``; it becomes visible and ``LATEST`` only on success.

        >>> with store.write_version("imdb", source="aclImdb_v1.tar.gz") as w:   # doctest: +SKIP
        ...     w.write(table)              # main table 'data'
        ...     w.write(rejects, "rejects")
        """
        d = self._dataset_dir(name)
        d.mkdir(parents=True, exist_ok=True)
        with self._lock(name):
            for stale in d.glob(".tmp-*"):  # leftovers of a killed writer; we hold the lock
                shutil.rmtree(stale, ignore_errors=True)
            tmp = d / f".tmp-{uuid.uuid4().hex}"
            tmp.mkdir()
            writer = VersionWriter(dataset=name, tmp_dir=tmp)
            started = time.time()
            try:
                yield writer
                tables = writer._close()
                if "data" not in tables:
                    raise DatasetError(f"dataset {name!r}: nothing was written to the main table 'data'")
                numbers = [int(m.group(1)) for p in d.iterdir() if (m := _VERSION.match(p.name))]
                version = f"v{max(numbers, default=0) + 1}"
                files = {}
                for f in sorted(tmp.rglob("*")):
                    if f.is_file():
                        files[str(f.relative_to(tmp))] = {"bytes": f.stat().st_size, "sha256": file_sha256(f)}
                manifest = {
                    "dataset": name,
                    "version": version,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "build_seconds": round(time.time() - started, 3),
                    "source": source,
                    "parameters": dict(parameters or {}),
                    "code_version": code_version(),
                    "tables": tables,
                    "counts": dict(writer.counts),
                    "files": files,
                    **writer.extra,
                }
                _atomic_write_text(tmp / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False, default=str))
                final = d / version
                os.rename(tmp, final)
                _fsync_dir(d)
                _atomic_write_text(d / "LATEST", version + "\n")
            except BaseException:
                for w in writer._writers.values():
                    with contextlib.suppress(Exception):
                        w.close()
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        self.refresh_catalog()

    def append(self, name: str, table: pa.Table | Any) -> Path:
        """Append rows to an append-only table as a new part file (written aside, then renamed)."""
        if not isinstance(table, pa.Table):
            table = pa.Table.from_pandas(table, preserve_index=False)
        d = self._table_dir(name)
        d.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        final = d / f"part-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = d / f".{final.name}.tmp"
        first = not any(d.glob("part-*.parquet"))
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, final)
        if first:  # the view's glob picks up later parts by itself
            self.refresh_catalog()
        return final

    def refresh_catalog(self) -> None:
        """Point the DuckDB catalog's views at the store's current versions."""
        from nlpkit.store.catalog import Catalog

        Catalog(self).refresh()

    def remove_version(self, name: str, version: str) -> None:
        """Delete an old version (never the one LATEST points at)."""
        with self._lock(name):
            if self.latest(name).version == version:
                raise DatasetError(f"refusing to delete {name} {version}: it is the latest version")
            shutil.rmtree(self.version(name, version).path)
        self.refresh_catalog()
