"""Versioned datasets on Delta tables: numbered versions, one commit per version, manifests in the log."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow as pa
import pytest

from nlpkit.errors import DatasetError, DatasetNotFoundError
from nlpkit.store import SqlSandbox, Store
from nlpkit.store.layout import is_delta_table


def test_versions_are_numbered_and_latest_moves(store: Store) -> None:
    for n in (3, 5):
        with store.write_version("demo", parameters={"n": n}, source="unit") as w:
            w.write(pa.table({"x": list(range(n))}))
            (w.dir / "model.json").write_text(json.dumps({"n": n}))
    assert [v.version for v in store.versions("demo")] == ["v1", "v2"]
    latest = store.latest("demo")
    assert latest.version == "v2" and latest.rows == 5
    assert latest.manifest["parameters"] == {"n": 5}
    assert store.read("demo", version="v1").num_rows == 3
    assert json.loads((latest.path / "model.json").read_text()) == {"n": 5}
    assert json.loads((store.version("demo", "v1").path / "model.json").read_text()) == {"n": 3}
    files = latest.manifest["files"]
    assert set(files) == {"model.json"} and len(files["model.json"]["sha256"]) == 64
    assert store.columns("demo") == ["x"]


def test_version_is_the_delta_version_readable_by_plain_deltalake(store: Store) -> None:
    from deltalake import DeltaTable

    for rows in ([1], [1, 2]):
        with store.write_version("demo") as w:
            w.write(pa.table({"x": rows}))
    path = store.dataset_table_dir("demo")
    assert DeltaTable(str(path), version=1).to_pyarrow_dataset().count_rows() == 1  # VERSION AS OF 1 == v1
    assert DeltaTable(str(path)).version() == store.latest("demo").number == 2
    history = DeltaTable(str(path)).history()
    manifest = json.loads(next(h for h in history if h["version"] == 2)["nlpkit"])
    assert manifest["tables"]["data"]["rows"] == 2


def test_schema_can_change_between_versions(store: Store) -> None:
    with store.write_version("demo") as w:
        w.write(pa.table({"x": [1]}))
    with store.write_version("demo") as w:
        w.write(pa.table({"y": ["a", "b"], "tokens": [["a"], ["b", "c"]]}))
    assert store.read("demo").column_names == ["y", "tokens"]
    assert store.read("demo", version="v1").column_names == ["x"]


def test_failed_write_leaves_previous_version_and_no_files(store: Store) -> None:
    with store.write_version("demo") as w:
        w.write(pa.table({"x": [1]}))
    data = store.dataset_table_dir("demo")
    before = sorted(p.name for p in data.glob("*.parquet"))
    with pytest.raises(RuntimeError, match="boom"):
        with store.write_version("demo") as w:
            w.write(pa.table({"x": [1, 2]}))
            (w.dir / "model.bin").write_bytes(b"x")
            raise RuntimeError("boom")
    assert store.latest("demo").version == "v1"
    assert sorted(p.name for p in data.glob("*.parquet")) == before
    assert not any((store.root / "datasets" / "demo" / "_artifacts").glob("*"))


def test_first_write_failing_leaves_no_dataset(store: Store) -> None:
    with pytest.raises(RuntimeError):
        with store.write_version("demo") as w:
            w.write(pa.table({"x": [1]}))
            raise RuntimeError("boom")
    assert store.datasets() == []
    with pytest.raises(DatasetNotFoundError, match="no version"):
        store.latest("demo")


def test_nothing_written_is_an_error(store: Store) -> None:
    with pytest.raises(DatasetError, match="nothing was written"):
        with store.write_version("demo"):
            pass


def test_unknown_dataset_error_names_known_ones(store: Store) -> None:
    with store.write_version("alpha") as w:
        w.write(pa.table({"x": [1]}))
    with pytest.raises(DatasetNotFoundError, match=r"'beta'.*known datasets: alpha"):
        store.latest("beta")
    with pytest.raises(DatasetNotFoundError, match="no version 'v9'"):
        store.version("alpha", "v9")


@pytest.mark.parametrize(("bad", "why"), [
    ("Imdb", "lower-case"), ("1abc", "lower-case"), ("a-b", "lower-case"), ("a b", "lower-case"), ("", "non-empty"),
    ("abc\n", "lower-case"), ("x__v1", "reserved for version names"), ("a" * 64, "at most 63"),
])
def test_bad_names_are_refused(store: Store, bad: str, why: str) -> None:
    with pytest.raises(DatasetError, match=why):
        with store.write_version(bad):
            pass
    with pytest.raises(DatasetError, match=why):
        store.append(bad, pa.table({"x": [1]}))


def test_append_table_is_queryable_and_keeps_order(store: Store) -> None:
    store.append("model_runs", pa.table({"model": ["a"], "accuracy": [0.5]}))
    store.append("model_runs", pa.table({"model": ["b"], "accuracy": [0.75], "f1": [0.7]}))
    for i in range(10):
        store.append("model_runs", pa.table({"model": [f"m{i}"], "accuracy": [0.1]}))
    cols, rows = SqlSandbox(store).query("SELECT model, accuracy, f1 FROM model_runs WHERE model IN ('a', 'b') ORDER BY model")
    assert rows == [("a", 0.5, None), ("b", 0.75, 0.7)]
    models = store.read_appended("model_runs").column("model").to_pylist()
    assert models == ["a", "b", *(f"m{i}" for i in range(10))]
    assert is_delta_table(store.table_dir("model_runs"))


def test_manifest_travels_with_the_commit(store: Store) -> None:
    with store.write_version("demo", source="here") as w:
        w.write(pa.table({"x": [1]}))
        w.write(pa.table({"item": ["bad"], "reason": ["empty_text"]}), "rejects")
        w.counts["rejected"] = 2
    m = store.latest("demo").manifest
    assert m["source"] == "here" and m["counts"] == {"rejected": 2}
    assert m["code_version"].startswith("0.")
    assert time.strptime(m["created_at"][:19], "%Y-%m-%dT%H:%M:%S")
    assert m["tables"]["rejects"]["rows"] == 1 and m["tables"]["data"]["delta_version"] == 1
    assert store.read("demo", "rejects").column("reason").to_pylist() == ["empty_text"]


def test_old_layout_is_refused_with_the_fix(store: Store, tmp_path: Path) -> None:
    old = store.root / "datasets" / "demo"
    (old / "v1").mkdir(parents=True)
    (old / "LATEST").write_text("v1\n")
    with pytest.raises(DatasetError, match="nlpkit data migrate"):
        store.datasets()


def test_append_of_a_many_chunk_table_keeps_row_order(store: Store) -> None:
    chunks = [pa.table({"n": list(range(i * 1000, (i + 1) * 1000))}) for i in range(8)]
    store.append("fetch_log", pa.concat_tables(chunks))
    assert store.read_appended("fetch_log").column("n").to_pylist() == list(range(8000))


def test_an_error_after_the_commit_deletes_nothing_committed(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from nlpkit.store import datasets

    def fail_after(step: str) -> None:
        if step == "committed":
            raise RuntimeError("after commit")

    monkeypatch.setattr(datasets, "crash_hook", fail_after)
    with pytest.raises(RuntimeError, match="after commit"):
        with store.write_version("demo") as w:
            w.write(pa.table({"x": [1, 2]}))
            w.write(pa.table({"r": ["a"]}), "rejects")
            (w.dir / "m.bin").write_bytes(b"m")
    monkeypatch.undo()
    info = store.latest("demo")
    assert store.read("demo").num_rows == 2 and store.read("demo", "rejects").num_rows == 1
    assert (info.path / "m.bin").read_bytes() == b"m"
