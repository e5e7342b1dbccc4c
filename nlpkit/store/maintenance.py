"""Keeping a store small and inspectable: ``vacuum`` (old versions, orphans, compaction) and ``history``.

``vacuum`` keeps the last ``keep`` versions of every dataset and deletes the files of older
ones (Delta ``vacuum`` with ``keep_versions``), the Parquet files and artifact folders that a
killed or failed writer left uncommitted, and the folder of a dataset whose first build never
committed. The versions it kept are written into its vacuum commit, so ``versions()`` stops
listing the dropped ones in the same step. Append tables are compacted into one file; the
files compaction replaced are deleted only once older than ``append_retention_hours``, because
an append may be writing a file that its commit has not named yet.

``vacuum`` deletes only inside the data directory: a dataset or table folder that is a symbolic
link, or resolves outside it (into another store), is skipped and reported with the reason, and
it reports only what it did (a folder it could not remove is a skip, never "removed").
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlpkit.errors import DatasetError
from nlpkit.store.datasets import ARTIFACTS, KEPT_KEY, MANIFEST_KEY, VersionInfo, sweep_leftovers
from nlpkit.store.layout import delta_table, is_delta_table, remove_tree, validate_name
from nlpkit.store.tables import compact_table

if TYPE_CHECKING:
    from nlpkit.store.store import Store

__all__ = ["VacuumReport", "escapes", "history", "vacuum", "vacuum_dataset"]


@dataclass
class VacuumReport:
    """What one vacuum did."""

    dropped_versions: dict[str, list[str]] = field(default_factory=dict)
    files_deleted: int = 0
    artifacts_deleted: int = 0
    compacted: list[str] = field(default_factory=list)
    removed_datasets: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # dataset or table -> why vacuum left it alone


def escapes(store: Store, path: Any) -> str | None:
    """Why deleting under ``path`` could reach outside the data directory, or None when it cannot.

    A symbolic link (to anywhere) or a folder that resolves outside the data directory escapes; so
    does a dataset folder any of whose direct children (``data``, ``_artifacts`` ...) or artifact
    folders does. Object-storage paths have no links and never escape.
    """
    if not isinstance(path, Path):
        return None
    root = Path(store.root).resolve()
    for p in [path, *_children(path)]:
        if p.is_symlink():
            return f"{p} is a symbolic link (to {p.readlink()}); vacuum deletes only inside {root}"
        if not p.resolve().is_relative_to(root):
            return f"{p} resolves to {p.resolve()}, outside the data directory {root}"
    return None


def _children(path: Path) -> list[Path]:
    if path.is_symlink() or not path.is_dir():
        return []
    kids = list(path.iterdir())
    art = path / ARTIFACTS
    if art.is_dir() and not art.is_symlink():
        kids += list(art.iterdir())
    return kids


def vacuum_dataset(store: Store, name: str, keep: list[VersionInfo]) -> tuple[int, int]:
    """Delete every file of dataset ``name`` that the versions ``keep`` do not read (caller holds its lock).

    Returns (data files deleted, artifact folders deleted). Refuses a dataset folder that reaches
    outside the data directory (see :func:`escapes`).
    """
    from deltalake import CommitProperties

    root = store._dataset_dir(name)
    why = escapes(store, root)
    if why:
        raise DatasetError(f"refusing to vacuum dataset {name!r}: {why}; replace the link by the folder itself")
    deleted = 0
    for folder in sorted(root.iterdir()):
        if folder.name == ARTIFACTS or not is_delta_table(folder):
            continue
        dt = delta_table(folder)
        versions = sorted({v.table_version(folder.name) for v in keep if folder.name in v.tables})
        props = None
        if folder.name == "data":
            props = CommitProperties(custom_metadata={KEPT_KEY: json.dumps([v.number for v in keep])})
        # full=True: also the files no commit names (what a killed writer wrote); we hold the lock,
        # so no nlpkit writer of this dataset has a file in flight
        deleted += len(dt.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False, full=True,
                                 keep_versions=versions, commit_properties=props))
    referenced = {str(v.manifest["artifacts"]) for v in keep if v.manifest.get("artifacts")}
    return deleted, len(sweep_leftovers(root, referenced))


def vacuum(store: Store, keep: int = 3, append_retention_hours: int = 1, compact: bool = True) -> VacuumReport:
    """Keep the last ``keep`` versions of every dataset, drop the rest and every leftover; compact append tables."""
    if keep < 1:
        raise DatasetError(f"vacuum keep={keep}: keep at least the latest version (keep >= 1)")
    report = VacuumReport()
    base = store.root / "datasets"
    for folder in sorted(base.iterdir()) if base.is_dir() else []:
        try:
            validate_name(folder.name)
        except DatasetError:
            continue
        why = escapes(store, folder)
        if why:
            report.skipped[folder.name] = why
            continue
        with store._lock(folder.name):
            versions = store.versions(folder.name)
            if not versions:  # a first build that never committed: nothing in it is a version
                why = _remove(folder)
                if why:
                    report.skipped[folder.name] = why
                else:
                    report.removed_datasets.append(folder.name)
                continue
            kept = versions[-keep:]
            files, arts = vacuum_dataset(store, folder.name, kept)
            report.files_deleted += files
            report.artifacts_deleted += arts
            dropped = [v.version for v in versions[:-keep]]
            if dropped:
                report.dropped_versions[folder.name] = dropped
    for name in store.tables():
        path = store.table_dir(name)
        why = escapes(store, path)
        if why:
            report.skipped[name] = why
            continue
        if compact and compact_table(path):
            report.compacted.append(name)
        deleted = delta_table(path).vacuum(retention_hours=append_retention_hours, enforce_retention_duration=False,
                                               dry_run=False)
        report.files_deleted += len(deleted)
    return report


def _remove(folder: Any) -> str | None:
    """Delete ``folder``; None when it is gone, else why it is still there."""
    if not isinstance(folder, Path):
        remove_tree(folder)
        return None
    try:
        shutil.rmtree(folder)
    except OSError as e:
        return f"could not remove {folder}: {e.strerror or e}"
    return None if not folder.exists() else f"could not remove {folder}"


def history(store: Store, name: str) -> list[dict[str, Any]]:
    """Every commit of dataset ``name``'s main table, newest first: version, time, operation, rows, parameters.

    ``kept`` is False for versions a vacuum dropped (their rows can no longer be read).
    """
    path = store.dataset_table_dir(name)
    if not is_delta_table(path):
        store.latest(name)  # raises the usual "no version; known datasets" error
    live = {v.version for v in store.versions(name)}
    out = []
    for h in delta_table(path).history():
        v = int(h["version"])
        manifest = json.loads(h[MANIFEST_KEY]) if MANIFEST_KEY in h else None
        out.append({
            "version": f"v{v}",
            "time": datetime.fromtimestamp(int(h.get("timestamp", 0)) / 1000, UTC).isoformat(timespec="seconds"),
            "operation": h.get("operation", ""),
            "rows": manifest["tables"]["data"]["rows"] if manifest else None,
            "parameters": manifest.get("parameters") if manifest else None,
            "source": manifest.get("source") if manifest else None,
            "readable": f"v{v}" in live if manifest else None,
        })
    return sorted(out, key=lambda r: -int(r["version"][1:]))
