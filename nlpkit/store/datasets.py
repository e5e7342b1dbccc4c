"""Versioned datasets on Delta tables: one commit of ``data`` makes a version, or nothing does.

A write streams each table's rows into a Parquet file inside that table's folder (invisible:
no commit names it yet), writes the artifact files into a fresh ``_artifacts/<id>/`` folder,
commits the side tables (``rejects`` ...), and last commits ``data`` with the whole manifest
in the commit's metadata: rows, parameters, source, code version, build time, counts, the
artifact folder and its files' sha256, and the Delta version of every side table. A dataset
version *is* that commit (``v<N>``, N the Delta version of ``data``, so ``VERSION AS OF N``
in Spark reads the same rows); side tables are read at the versions it names.

A kill before the last commit leaves the previous version exactly as it was; a first build
killed leaves no version (the dataset is absent). What the killed writer left (uncommitted
Parquet files, an unnamed artifact folder, an extra side-table commit) is never read, and
``nlpkit data vacuum`` deletes it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from nlpkit.errors import DatasetError, DatasetNotFoundError
from nlpkit.store.layout import (
    StorePath,
    arrow_fs,
    code_version,
    delta_compatible,
    delta_table,
    file_sha256,
    is_delta_table,
    remove_tree,
    storage_options,
    validate_name,
)

__all__ = ["VersionInfo", "VersionWriter", "commit_version", "list_versions", "MANIFEST_KEY", "KEPT_KEY"]

log = logging.getLogger(__name__)

#: Commit-metadata key holding a version's manifest (JSON) in the ``data`` table's log.
MANIFEST_KEY = "nlpkit"
#: Commit-metadata key of a vacuum commit: the dataset versions it kept (JSON list of ints).
KEPT_KEY = "nlpkit_kept"
ARTIFACTS = "_artifacts"

#: Test hook: called with the name of each step of a write (``files``, ``artifacts``,
#: ``side_tables``, ``created``, ``committed``). Crash tests set it to kill the process there.
crash_hook: Callable[[str], None] | None = None


def _step(name: str) -> None:
    if crash_hook is not None:
        crash_hook(name)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One committed version of a dataset: its manifest and the folder of its artifact files.

    ``location`` is where the artifact files are stored; ``path`` is a local folder holding
    them (the same folder for a local store; for a store on object storage, a local copy
    made on first use and checked against the manifest's sha256).
    """

    dataset: str
    version: str
    location: StorePath
    manifest: dict[str, Any]

    @property
    def path(self) -> Path:
        """A local folder with this version's artifact files (``np.load(info.path / "x.npy")``)."""
        if isinstance(self.location, Path):
            return self.location
        return _materialise(self.location, self.dataset, self.manifest)

    @property
    def created_at(self) -> str:
        return str(self.manifest.get("created_at", ""))

    @property
    def tables(self) -> dict[str, dict[str, Any]]:
        """Table name -> ``{"rows": n, "delta_version": v}`` for every table of this version."""
        return dict(self.manifest.get("tables", {}))

    @property
    def rows(self) -> int:
        return int(self.tables.get("data", {}).get("rows", 0))

    @property
    def number(self) -> int:
        """The Delta version of the ``data`` table (``v3`` -> 3)."""
        return int(self.version[1:])

    def table_version(self, table: str = "data") -> int:
        """The Delta version at which ``table`` is read for this dataset version."""
        if table not in self.tables:
            raise DatasetNotFoundError(
                f"dataset {self.dataset!r} {self.version} has no table {table!r}; tables: {', '.join(self.tables)}"
            )
        return self.number if table == "data" else int(self.tables[table]["delta_version"])


def _materialise(location: Any, dataset: str, manifest: dict[str, Any]) -> Path:
    """A local copy of the artifact folder ``location`` (object storage), downloaded once and verified."""
    dest = Path(location.conn.cache_dir) / "artifacts" / dataset / location.name
    if dest.is_dir() or not manifest.get("artifacts"):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    location.download_tree(dest)
    for rel, meta in (manifest.get("files") or {}).items():
        f = dest / rel
        if not f.is_file() or file_sha256(f) != meta.get("sha256"):
            shutil.rmtree(dest, ignore_errors=True)
            raise DatasetError(f"dataset {dataset!r} {manifest.get('version')}: artifact {rel} in {location} is "
                               "missing or does not match its sha256; rebuild the dataset")
    return dest


@dataclass
class _Part:
    path: StorePath
    writer: pq.ParquetWriter
    rows: int = 0
    committed: bool = False  # a commit names the file: it is no longer ours to delete


@dataclass
class VersionWriter:
    """Collects the tables and artifact files of one version (see ``Store.write_version``)."""

    dataset: str
    root: StorePath
    counts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    _parts: dict[str, _Part] = field(default_factory=dict)
    _artifact_id: str | None = None
    _staging: Path | None = None  # object storage: artifacts are written here, uploaded at commit

    def write(self, table: pa.Table | Any, name: str = "data") -> None:
        """Append rows (a pyarrow Table or a pandas DataFrame) to table ``name`` of this version."""
        validate_name(name, "table")
        if not isinstance(table, pa.Table):
            table = pa.Table.from_pandas(table, preserve_index=False)
        table = delta_compatible(table)
        part = self._parts.get(name)
        if part is None:
            folder = self.root / name
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-{uuid.uuid4().hex}.zstd.parquet"
            fs, where = arrow_fs(path)
            part = _Part(path, pq.ParquetWriter(where, table.schema, compression="zstd", filesystem=fs))
            self._parts[name] = part
        elif not table.schema.equals(part.writer.schema, check_metadata=False):
            table = table.cast(part.writer.schema)
        part.writer.write_table(table)
        part.rows += table.num_rows

    @property
    def dir(self) -> Path:
        """A folder for extra artifact files (model, index ...); their sha256 go into the manifest."""
        if self._artifact_id is None:
            self._artifact_id = uuid.uuid4().hex
        if not isinstance(self.root, Path):  # object storage: a local folder, uploaded at commit
            if self._staging is None:  # inside the cache, so that it can become the cached copy by a rename
                staging = Path(self.root.conn.cache_dir) / "staging"
                staging.mkdir(parents=True, exist_ok=True)
                self._staging = Path(tempfile.mkdtemp(prefix=f"{self.dataset}-", dir=staging))
            return self._staging
        d = self.root / ARTIFACTS / self._artifact_id
        d.mkdir(parents=True, exist_ok=True)
        return d

    def add_file(self, src: Path, name: str | None = None) -> Path:
        """Copy an extra artifact file into this version's artifact folder."""
        dest = self.dir / (name or src.name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        return dest

    def _close(self) -> None:
        for part in self._parts.values():
            part.writer.close()

    def _discard(self) -> None:
        """Delete what this writer put on disk that no commit names (all of it unless ``data`` committed)."""
        for part in self._parts.values():
            with contextlib.suppress(Exception):
                part.writer.close()
            if not part.committed:
                part.path.unlink(missing_ok=True)
        data = self._parts.get("data")
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
        if self._artifact_id is not None and not (data is not None and data.committed):
            remove_tree(self.root / ARTIFACTS / self._artifact_id)


def _commit_table(path: StorePath, part: _Part, metadata: Mapping[str, str] | None) -> int:
    """One overwrite commit of ``path`` holding only ``part``'s file; returns the new Delta version."""
    from deltalake import CommitProperties, DeltaTable
    from deltalake.transaction import AddAction

    schema = part.writer.schema
    if not is_delta_table(path):
        # version 0: the table exists, with no rows
        DeltaTable.create(str(path), schema=schema, storage_options=storage_options(path))
        _step("created")
    dt = delta_table(path)
    st = part.path.stat()
    stats = json.dumps({"numRecords": part.rows})
    action = AddAction(part.path.name, st.st_size, {}, int(st.st_mtime * 1000), True, stats)
    props = CommitProperties(custom_metadata=dict(metadata)) if metadata else None
    dt.create_write_transaction([action], mode="overwrite", schema=schema, commit_properties=props)
    part.committed = True
    return int(delta_table(path).version())


def commit_version(
    writer: VersionWriter,
    *,
    parameters: Mapping[str, Any] | None,
    source: str | None,
    started: float,
) -> int:
    """Commit the side tables, then ``data`` with the manifest; returns the new version number.

    The caller holds the dataset's writer lock, so no other nlpkit writer commits in between.
    """
    writer._close()
    _step("files")
    if "data" not in writer._parts:
        raise DatasetError(f"dataset {writer.dataset!r}: nothing was written to the main table 'data'")
    files: dict[str, dict[str, Any]] = {}
    if writer._artifact_id is not None:
        target = writer.root / ARTIFACTS / writer._artifact_id
        art = writer._staging if writer._staging is not None else target
        for f in sorted(art.rglob("*")):
            if f.is_file():
                rel = str(f.relative_to(art))
                files[rel] = {"bytes": f.stat().st_size, "sha256": file_sha256(f)}
                if writer._staging is not None:
                    (target / rel).upload(f)
    _step("artifacts")
    tables: dict[str, dict[str, Any]] = {}
    for name, part in writer._parts.items():
        if name != "data":
            tables[name] = {"rows": part.rows, "delta_version": _commit_table(writer.root / name, part, None)}
    _step("side_tables")
    tables = {"data": {"rows": writer._parts["data"].rows}, **tables}
    manifest = {
        "dataset": writer.dataset,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.time() - started, 3),
        "source": source,
        "parameters": dict(parameters or {}),
        "code_version": code_version(),
        "tables": tables,
        "counts": dict(writer.counts),
        "artifacts": writer._artifact_id,
        "files": files,
        **writer.extra,
    }
    text = json.dumps(manifest, ensure_ascii=False, default=str)
    version = _commit_table(writer.root / "data", writer._parts["data"], {MANIFEST_KEY: text})
    _step("committed")
    if writer._staging is not None:  # object storage: the staged files become this version's local copy
        cached = Path(writer.root.conn.cache_dir) / "artifacts" / writer.dataset / str(writer._artifact_id)
        with contextlib.suppress(OSError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            writer._staging.rename(cached)
        shutil.rmtree(writer._staging, ignore_errors=True)  # when the rename failed (a copy already cached)
    return version


def _info(name: str, root: StorePath, version: int, manifest: dict[str, Any]) -> VersionInfo:
    art = manifest.get("artifacts")
    path = root / ARTIFACTS / art if art else root / ARTIFACTS / f"v{version}-none"
    manifest = {**manifest, "dataset": name, "version": f"v{version}"}
    manifest["tables"] = {**manifest.get("tables", {})}
    if "data" in manifest["tables"]:
        manifest["tables"]["data"] = {**manifest["tables"]["data"], "delta_version": version}
    return VersionInfo(name, f"v{version}", path, manifest)


def list_versions(name: str, root: StorePath, history: list[dict[str, Any]] | None = None) -> list[VersionInfo]:
    """Committed versions of dataset ``name`` stored under ``root``, oldest first.

    A version is a commit of ``data`` that carries a manifest. Versions a vacuum dropped (not
    in the kept list of the latest vacuum commit, and older than it) are left out.
    """
    data = root / "data"
    if history is None:
        if not is_delta_table(data):
            return []
        history = delta_table(data).history()
    kept: set[int] | None = None
    kept_at = -1
    found: list[tuple[int, dict[str, Any]]] = []
    for h in history:
        v = int(h["version"])
        if KEPT_KEY in h and v > kept_at:
            kept_at, kept = v, set(json.loads(h[KEPT_KEY]))
        raw = h.get(MANIFEST_KEY)
        if raw is None:
            continue
        try:
            manifest = json.loads(raw)
        except (TypeError, ValueError):
            log.warning("dataset %s: commit %d has an unreadable manifest; skipped", name, v)
            continue
        found.append((v, manifest))
    out = [(v, m) for v, m in found if kept is None or v > kept_at or v in kept]
    return [_info(name, root, v, m) for v, m in sorted(out, key=lambda t: t[0])]


def sweep_leftovers(root: StorePath, referenced_artifacts: set[str], older_than: float = 0.0) -> list[Path]:
    """Delete artifact folders no version names (a killed or failed writer's), older than ``older_than`` s."""
    removed = []
    art = root / ARTIFACTS
    if art.is_dir():
        now = time.time()
        for d in art.iterdir():
            if d.name not in referenced_artifacts and now - d.stat().st_mtime >= older_than:
                remove_tree(d)
                removed.append(d)
    return removed

