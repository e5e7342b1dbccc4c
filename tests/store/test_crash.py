"""kill -9 at every step of a first build and of a rebuild: the store stays readable, nothing half-visible.

A child process sets ``nlpkit.store.datasets.crash_hook`` to SIGKILL itself at one named step
of ``Store.write_version`` (files written, artifacts hashed, a table created, side tables
committed, data committed). After each kill every command still works, the dataset shows its
last committed version (or is absent after a killed first build), and ``vacuum`` removes
what the dead writer left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nlpkit.store import SqlSandbox, Store
from nlpkit.store.layout import file_sha256
from nlpkit.store.maintenance import vacuum

ROOT = Path(__file__).resolve().parents[2]

_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    import pyarrow as pa
    from nlpkit.store import Store, datasets

    root, step, occurrence, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    seen = {}

    def hook(name):
        seen[name] = seen.get(name, 0) + 1
        if name == step and seen[name] == occurrence:
            os.kill(os.getpid(), signal.SIGKILL)

    datasets.crash_hook = hook
    with Store(root).write_version("demo", parameters={"n": n}, source="crash test") as w:
        for _ in range(n):
            w.write(pa.table({"x": [n] * 100}))
        w.write(pa.table({"item": [str(n)] * n, "reason": ["r"] * n}), "rejects")
        (w.dir / "model.bin").write_bytes(bytes([n]) * 1000)
    print("committed", flush=True)
    """
)

#: (step, occurrence): "created" fires once per table created (rejects first, then data) on a first build.
FIRST_BUILD_STEPS = [("files", 1), ("artifacts", 1), ("created", 1), ("created", 2), ("side_tables", 1),
                     ("committed", 1)]
REBUILD_STEPS = [("files", 1), ("artifacts", 1), ("side_tables", 1), ("committed", 1)]


def _write(root: Path, step: str, occurrence: int, n: int) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _WRITER, str(root), step, str(occurrence), str(n)],
                          env=env, capture_output=True, text=True, timeout=120)
    return proc.returncode


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NLPKIT_DATA_DIR": str(root), "NLPKIT_NO_PROGRESS": "1"}
    return subprocess.run([sys.executable, "-m", "nlpkit.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=root.parent)


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
def test_kill_9_during_first_build(store: Store, step: str, occurrence: int) -> None:
    rc = _write(store.root, step, occurrence, 3)
    assert rc == -9
    committed = step == "committed"
    assert store.datasets() == (["demo"] if committed else [])
    assert _cli(store.root, "datasets").returncode == 0
    assert _cli(store.root, "query", "SELECT 1").returncode == 0
    if committed:
        assert SqlSandbox(store).query("SELECT count(*) FROM demo")[1] == [(300,)]
    # the next build works and nothing of the dead writer is visible
    assert _write(store.root, "none", 1, 2) == 0
    info = store.latest("demo")
    assert info.version == ("v2" if committed else "v1") and info.rows == 200
    assert store.read("demo", "rejects").num_rows == 2
    report = vacuum(store, keep=1)
    assert _untracked_files(store) == []
    assert [d.name for d in (store.root / "datasets" / "demo" / "_artifacts").iterdir()] == [info.manifest["artifacts"]]
    assert report.artifacts_deleted == 1  # the dead writer's folder, or v1's once v2 replaced it


@pytest.mark.parametrize(("step", "occurrence"), REBUILD_STEPS)
def test_kill_9_during_rebuild(store: Store, step: str, occurrence: int) -> None:
    assert _write(store.root, "none", 1, 2) == 0
    v1 = store.latest("demo")
    assert _write(store.root, step, occurrence, 4) == -9
    committed = step == "committed"
    latest = store.latest("demo")
    assert (latest.version, latest.rows) == (("v2", 400) if committed else ("v1", 200))
    rejects = store.read("demo", "rejects")
    assert rejects.num_rows == (4 if committed else 2)  # the side table is read at the version the commit names
    assert set(rejects.column("item").to_pylist()) == {"4" if committed else "2"}
    res = _cli(store.root, "query", "SELECT count(*) AS n, min(x) AS lo, max(x) AS hi FROM demo")
    assert res.returncode == 0, res.stderr
    assert _cli(store.root, "datasets").returncode == 0
    # the previous version's artifacts are untouched and match the manifest
    for name, meta in v1.manifest["files"].items():
        assert file_sha256(v1.path / name) == meta["sha256"]
    assert _write(store.root, "none", 1, 5) == 0
    assert store.latest("demo").rows == 500
    assert store.read("demo", version="v1").num_rows == 200
    vacuum(store, keep=2)
    assert _untracked_files(store) == []
    kept = {v.manifest["artifacts"] for v in store.versions("demo")}
    assert {d.name for d in (store.root / "datasets" / "demo" / "_artifacts").iterdir()} == kept


def test_manifest_is_never_half_written(store: Store) -> None:
    """The manifest lives inside the data commit's JSON: each commit file is parsed whole or not at all."""
    assert _write(store.root, "none", 1, 2) == 0
    log = store.dataset_table_dir("demo") / "_delta_log"
    for f in sorted(log.glob("*.json")):
        for line in f.read_text().splitlines():
            json.loads(line)
