"""Versioned datasets: immutable versions, atomic swap, crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

from nlpkit.errors import DatasetError, DatasetNotFoundError
from nlpkit.store import Catalog, Store


def test_versions_are_numbered_and_latest_moves(store: Store) -> None:
    for n in (3, 5):
        with store.write_version("demo", parameters={"n": n}, source="unit") as w:
            w.write(pa.table({"x": list(range(n))}))
    assert [v.version for v in store.versions("demo")] == ["v1", "v2"]
    latest = store.latest("demo")
    assert latest.version == "v2" and latest.rows == 5
    assert latest.manifest["parameters"] == {"n": 5}
    assert store.read("demo", version="v1").num_rows == 3
    files = latest.manifest["files"]
    assert set(files) == {"data.parquet"} and len(files["data.parquet"]["sha256"]) == 64


def test_failed_write_leaves_previous_version(store: Store) -> None:
    with store.write_version("demo") as w:
        w.write(pa.table({"x": [1]}))
    with pytest.raises(RuntimeError, match="boom"):
        with store.write_version("demo") as w:
            w.write(pa.table({"x": [1, 2]}))
            raise RuntimeError("boom")
    assert store.latest("demo").version == "v1"
    assert [p.name for p in (store.root / "datasets" / "demo").iterdir() if p.name.startswith(".tmp")] == []


def test_unknown_dataset_error_names_known_ones(store: Store) -> None:
    with store.write_version("alpha") as w:
        w.write(pa.table({"x": [1]}))
    with pytest.raises(DatasetNotFoundError, match=r"'beta'.*known datasets: alpha"):
        store.latest("beta")
    with pytest.raises(DatasetNotFoundError, match="no version 'v9'"):
        store.version("alpha", "v9")


@pytest.mark.parametrize("bad", ["Imdb", "1abc", "a-b", "a b", ""])
def test_bad_names_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(DatasetError, match="invalid dataset name"):
        with store.write_version(bad):
            pass


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time, pyarrow as pa
    from nlpkit.store import Store
    store = Store(sys.argv[1])
    with store.write_version("demo") as w:
        for i in range(10_000):
            w.write(pa.table({"x": list(range(1000))}))
            if i == 3:
                print("writing", flush=True)
            time.sleep(0.01)
    """
)


def test_kill_9_mid_rebuild_keeps_previous_version_queryable(store: Store, tmp_path: Path) -> None:
    with store.write_version("demo") as w:
        w.write(pa.table({"x": [1, 2, 3]}))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(store.root)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    tmp_dirs = list((store.root / "datasets" / "demo").glob(".tmp-*"))
    assert tmp_dirs, "the writer should be building its version aside"
    # a reader during the rebuild sees the old version
    assert Catalog(store).query("SELECT count(*) FROM demo")[1] == [(3,)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert [v.version for v in store.versions("demo")] == ["v1"]
    assert store.latest("demo").version == "v1"
    assert Catalog(store).query("SELECT sum(x) FROM demo")[1] == [(6,)]
    # the next writer cleans the leftovers and numbers on from the last complete version
    with store.write_version("demo") as w:
        w.write(pa.table({"x": [7]}))
    assert store.latest("demo").version == "v2"
    assert not list((store.root / "datasets" / "demo").glob(".tmp-*"))


def test_append_table_is_queryable(store: Store) -> None:
    store.append("model_runs", pa.table({"model": ["a"], "accuracy": [0.5]}))
    store.append("model_runs", pa.table({"model": ["b"], "accuracy": [0.75], "f1": [0.7]}))
    cols, rows = Catalog(store).query("SELECT model, accuracy, f1 FROM model_runs ORDER BY model")
    assert rows == [("a", 0.5, None), ("b", 0.75, 0.7)]
    assert store.read_appended("model_runs").num_rows == 2


def test_manifest_is_json_with_code_version(store: Store) -> None:
    with store.write_version("demo", source="here") as w:
        w.write(pa.table({"x": [1]}))
        w.counts["rejected"] = 2
    m = json.loads((store.latest("demo").path / "manifest.json").read_text())
    assert m["source"] == "here" and m["counts"] == {"rejected": 2}
    assert m["code_version"].startswith("0.")
    assert time.strptime(m["created_at"][:19], "%Y-%m-%dT%H:%M:%S")
