"""kill -9 at every step of a first build and of a rebuild: the store stays readable, nothing half-visible.

A child process sets ``nlpkit.store.datasets.crash_hook`` to SIGKILL itself at one named step
of ``Store.write_version`` (files written, artifacts hashed, a table created, side tables
committed, data committed). After each kill every command still works, the dataset shows its
last committed version (or is absent after a killed first build), and ``vacuum`` removes
what the dead writer left.

Only the killed writer needs a process of its own; the commands read afterwards and the next
build run in this process (``_crash_writer.build`` is the one writer both use; a child
start-up costs ~1.5 CPU s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlpkit.store import SqlSandbox, Store
from nlpkit.store.layout import file_sha256
from nlpkit.store.maintenance import vacuum
from tests.cli_harness import cli_invoker
from tests.store._crash_writer import build

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("_crash_writer.py")

#: (step, occurrence): "created" fires once per table created (rejects first, then data) on a first build.
FIRST_BUILD_STEPS = [("files", 1), ("artifacts", 1), ("created", 1), ("created", 2), ("side_tables", 1),
                     ("committed", 1)]
REBUILD_STEPS = [("files", 1), ("artifacts", 1), ("side_tables", 1), ("committed", 1)]


def _write(root: Path, step: str, occurrence: int, n: int) -> int:
    """Run :func:`build` in a child that SIGKILLs itself at ``step``; returns the child's exit code."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(WRITER), str(root), step, str(occurrence), str(n)],
                          env=env, capture_output=True, text=True, timeout=120)
    return proc.returncode


def _untracked_files(store: Store) -> list[Path]:
    from deltalake import DeltaTable

    out = []
    base = store.root / "datasets" / "demo"
    for table in ("data", "rejects"):
        path = base / table
        if not (path / "_delta_log").is_dir():
            out += list(path.glob("*.parquet")) if path.is_dir() else []
            continue
        dt = DeltaTable(str(path))
        live = {Path(u).name for v in range(dt.version() + 1) for u in _files_at(path, v)}
        out += [p for p in path.glob("*.parquet") if p.name not in live]
    return out


def _files_at(path: Path, version: int) -> list[str]:
    from deltalake import DeltaTable

    try:
        return DeltaTable(str(path), version=version).file_uris()
    except Exception:  # a version vacuumed away
        return []


@pytest.mark.parametrize(("step", "occurrence"), FIRST_BUILD_STEPS)
def test_kill_9_during_first_build(store: Store, step: str, occurrence: int, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = cli_invoker(store.root.parent, monkeypatch)
    rc = _write(store.root, step, occurrence, 3)
    assert rc == -9
    committed = step == "committed"
    assert store.datasets() == (["demo"] if committed else [])
    assert cli("data", "list")[0] == 0
    assert cli("query", "SELECT 1")[0] == 0
    if committed:
        assert SqlSandbox(store).query("SELECT count(*) FROM demo")[1] == [(300,)]
    # the next build works and nothing of the dead writer is visible
    build(store, 2)
    info = store.latest("demo")
    assert info.version == ("v2" if committed else "v1") and info.rows == 200
    assert store.read("demo", "rejects").num_rows == 2
    report = vacuum(store, keep=1)
    assert _untracked_files(store) == []
    assert [d.name for d in (store.root / "datasets" / "demo" / "_artifacts").iterdir()] == [info.manifest["artifacts"]]
    assert report.artifacts_deleted == 1  # the dead writer's folder, or v1's once v2 replaced it


@pytest.mark.parametrize(("step", "occurrence"), REBUILD_STEPS)
def test_kill_9_during_rebuild(store: Store, step: str, occurrence: int, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = cli_invoker(store.root.parent, monkeypatch)
    build(store, 2)
    v1 = store.latest("demo")
    assert _write(store.root, step, occurrence, 4) == -9
    committed = step == "committed"
    latest = store.latest("demo")
    assert (latest.version, latest.rows) == (("v2", 400) if committed else ("v1", 200))
    rejects = store.read("demo", "rejects")
    assert rejects.num_rows == (4 if committed else 2)  # the side table is read at the version the commit names
    assert set(rejects.column("item").to_pylist()) == {"4" if committed else "2"}
    code, out = cli("query", "SELECT count(*) AS n, min(x) AS lo, max(x) AS hi FROM demo")
    assert code == 0, out
    assert cli("data", "list")[0] == 0
    # the previous version's artifacts are untouched and match the manifest
    for name, meta in v1.manifest["files"].items():
        assert file_sha256(v1.path / name) == meta["sha256"]
    build(store, 5)
    assert store.latest("demo").rows == 500
    assert store.read("demo", version="v1").num_rows == 200
    vacuum(store, keep=2)
    assert _untracked_files(store) == []
    kept = {v.manifest["artifacts"] for v in store.versions("demo")}
    assert {d.name for d in (store.root / "datasets" / "demo" / "_artifacts").iterdir()} == kept


def test_manifest_is_never_half_written(store: Store) -> None:
    """The manifest lives inside the data commit's JSON: each commit file is parsed whole or not at all."""
    build(store, 2)
    log = store.dataset_table_dir("demo") / "_delta_log"
    for f in sorted(log.glob("*.json")):
        for line in f.read_text().splitlines():
            json.loads(line)
