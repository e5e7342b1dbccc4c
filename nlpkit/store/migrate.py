"""``nlpkit data migrate``: convert a data dir from the old Parquet layout to Delta tables, once.

Old layout: ``datasets/<name>/v<N>/<table>.parquet + manifest.json``, ``datasets/<name>/LATEST``,
``tables/<name>/part-*.parquet`` and ``catalog.duckdb``. Every complete version (one with a
manifest) becomes a version of the new dataset, oldest first, carrying the old manifest's
parameters, source, counts and times plus ``migrated_from`` (the old version name); its extra
files become the version's artifacts. Each append table becomes one commit of its parts in
their order. Half-written versions (``.tmp-*``) are dropped.

The new store is built aside in ``<root>/.migrate-<id>/``; only when all of it is written are
the old folders moved to ``<root>/old-layout-<time>/`` and the new ones moved in. Nothing old is
deleted: remove that folder once the new store looks right.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from nlpkit.errors import DatasetError
from nlpkit.store.layout import validate_name
from nlpkit.store.store import Store

__all__ = ["MigrationReport", "migrate"]

_VERSION = re.compile(r"v(\d+)")


@dataclass
class MigrationReport:
    """What one migration converted, and where the old files were kept."""

    datasets: dict[str, list[str]] = field(default_factory=dict)  # name -> new versions
    tables: dict[str, int] = field(default_factory=dict)  # name -> rows
    backup: Path | None = None


def _old_versions(d: Path) -> list[tuple[int, Path]]:
    out = []
    for p in d.iterdir():
        m = _VERSION.fullmatch(p.name)
        if m and (p / "manifest.json").is_file():
            out.append((int(m.group(1)), p))
    return sorted(out)


def _copy_version(new: Store, name: str, folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    tables = manifest.get("tables") or {"data": {"file": "data.parquet"}}
    table_files = {str(meta.get("file", f"{t}.parquet")) for t, meta in tables.items()}
    with new.write_version(name, parameters=manifest.get("parameters"), source=manifest.get("source")) as w:
        for table, meta in tables.items():
            pf = pq.ParquetFile(folder / str(meta.get("file", f"{table}.parquet")))
            wrote = False
            for batch in pf.iter_batches(batch_size=65536):
                w.write(pa.Table.from_batches([batch]), table)
                wrote = True
            if not wrote:
                w.write(pf.schema_arrow.empty_table(), table)
        for f in sorted(folder.rglob("*")):
            rel = str(f.relative_to(folder))
            if f.is_file() and rel != "manifest.json" and rel not in table_files:
                w.add_file(f, rel)
        w.counts.update(manifest.get("counts") or {})
        keep = {"created_at", "build_seconds", "code_version"}
        w.extra.update({f"original_{k}": manifest[k] for k in keep if k in manifest})
        w.extra["migrated_from"] = folder.name


def migrate(root: Path) -> MigrationReport:
    """Convert the old-layout store at ``root`` in place (old files kept in ``old-layout-<time>/``)."""
    datasets, tables = root / "datasets", root / "tables"
    olds = [d for d in sorted(datasets.iterdir()) if d.is_dir() and _old_versions(d)] if datasets.is_dir() else []
    parts = {d: sorted(d.glob("part-*.parquet")) for d in sorted(tables.iterdir()) if d.is_dir()} \
        if tables.is_dir() else {}
    parts = {d: p for d, p in parts.items() if p and not (d / "_delta_log").is_dir()}
    if not olds and not parts:
        raise DatasetError(f"{root} holds no store in the old Parquet layout; nothing to migrate")
    work = root / f".migrate-{uuid.uuid4().hex[:8]}"
    new = Store(work)
    report = MigrationReport()
    try:
        for d in olds:
            validate_name(d.name)
            for _, folder in _old_versions(d):
                _copy_version(new, d.name, folder)
            report.datasets[d.name] = [v.version for v in new.versions(d.name)]
        for d, files in parts.items():
            merged = pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")
            new.append(d.name, merged)
            report.tables[d.name] = merged.num_rows
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    backup = root / f"old-layout-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    backup.mkdir()
    for old in ("datasets", "tables", "catalog.duckdb", "catalog.duckdb.wal"):
        if (root / old).exists():
            (root / old).rename(backup / old)
    for fresh in ("datasets", "tables"):
        if (work / fresh).exists():
            (work / fresh).rename(root / fresh)
    shutil.rmtree(work, ignore_errors=True)
    report.backup = backup
    return report
