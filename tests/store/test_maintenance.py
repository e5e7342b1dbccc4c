"""vacuum (keep the last K versions, drop leftovers, compact), history, remove_version, and name collisions."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from nlpkit.errors import DatasetError, QueryError
from nlpkit.store import SqlSandbox, Store
from nlpkit.store.maintenance import history, vacuum
from nlpkit.store.tables import table_files
from tests.cli_harness import cli_invoker


def _versions(store: Store, n: int, name: str = "demo") -> None:
    for k in range(1, n + 1):
        with store.write_version(name, parameters={"k": k}) as w:
            w.write(pa.table({"x": [k] * k}))
            w.write(pa.table({"reason": ["r"] * k}), "rejects")
            (w.dir / "model.bin").write_bytes(b"m" * 100)


def test_vacuum_keeps_the_last_k_and_frees_the_rest(store: Store) -> None:
    _versions(store, 4)
    files_before = sum(1 for _ in store.root.rglob("*.parquet"))
    report = vacuum(store, keep=2)
    assert report.dropped_versions == {"demo": ["v1", "v2"]}
    assert [v.version for v in store.versions("demo")] == ["v3", "v4"]
    assert sum(1 for _ in store.root.rglob("*.parquet")) == files_before - 4  # data + rejects of v1, v2
    assert len(list((store.root / "datasets" / "demo" / "_artifacts").iterdir())) == 2
    sandbox = SqlSandbox(store)
    assert sandbox.query("SELECT count(*) FROM demo__v3")[1] == [(3,)]
    assert sandbox.query("SELECT count(*) FROM demo_rejects__v3")[1] == [(3,)]
    with pytest.raises(QueryError, match="unknown table 'demo__v1'"):
        sandbox.query("SELECT count(*) FROM demo__v1")
    rows = {r["version"]: r for r in history(store, "demo")}
    assert rows["v1"]["readable"] is False and rows["v4"]["readable"] is True
    assert rows["v4"]["parameters"] == {"k": 4} and rows["v4"]["rows"] == 4
    assert any(r["operation"].startswith("VACUUM") for r in rows.values())
    # writing goes on numbering from the Delta log
    _versions(store, 1)
    assert store.read("demo").num_rows == 1 and store.latest("demo").number > 4


def test_vacuum_compacts_append_tables_keeping_rows_and_order(store: Store) -> None:
    for i in range(30):
        store.append("runs", pa.table({"i": [i]}))
    report = vacuum(store, keep=1, append_retention_hours=0)
    assert report.compacted == ["runs"] and table_files(store.table_dir("runs")) == 1
    assert store.read_appended("runs").column("i").to_pylist() == list(range(30))
    assert len(list(store.table_dir("runs").glob("*.parquet"))) == 1  # replaced files deleted (retention 0)


def test_remove_version(store: Store) -> None:
    _versions(store, 3)
    store.remove_version("demo", "v2")
    assert [v.version for v in store.versions("demo")] == ["v1", "v3"]
    assert store.read("demo", version="v1").num_rows == 1
    with pytest.raises(DatasetError, match="latest"):
        store.remove_version("demo", "v3")


def test_cli_history_and_vacuum_use_the_retention_setting(store: Store, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _versions(store, 3)
    flows = tmp_path / "flows.yaml"
    flows.write_text(yaml.safe_dump({"data_dir": str(store.root), "store": {"retention": 1}}))
    cli = cli_invoker(tmp_path, monkeypatch)  # in-process: exit codes and stderr are the subprocess tests' job
    monkeypatch.setenv("NLPKIT_FLOWS", str(flows))
    monkeypatch.delenv("NLPKIT_DATA_DIR")

    code, out = cli("data", "vacuum")
    assert code == 0 and "demo: dropped v1, v2" in out, out
    code, out = cli("data", "history", "demo")
    assert code == 0 and "vacuumed" in out and "VACUUM" in out
    code, out = cli("data", "list", "--all")
    assert code == 0 and "v3" in out and "v1 " not in out


def test_names_that_would_collide_are_refused(store: Store) -> None:
    _versions(store, 1, "myds")
    with pytest.raises(DatasetError, match="'myds_rejects' is already used by table 'rejects' of dataset 'myds'"):
        with store.write_version("myds_rejects") as w:
            w.write(pa.table({"x": [1]}))
    with pytest.raises(DatasetError, match="already used"):
        store.append("myds", pa.table({"x": [1]}))
    with store.write_version("other") as w:  # and nothing else is affected
        w.write(pa.table({"x": [1]}))
    assert store.datasets() == ["myds", "other"]


def test_existing_collisions_and_damaged_tables_break_nothing(store: Store, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    with store.write_version("myds_rejects") as w:
        w.write(pa.table({"x": [7, 7]}))
    monkeypatch.setattr(Store, "_refuse_collision", lambda *a, **k: None)  # as a store written before the check
    _versions(store, 1, "myds")
    monkeypatch.undo()
    broken = store.root / "datasets" / "broken" / "data" / "_delta_log"
    broken.mkdir(parents=True)
    (broken / "00000000000000000000.json").write_text("{not json")
    with caplog.at_level(logging.WARNING):
        sandbox = SqlSandbox(store)
        assert sandbox.query("SELECT sum(x) FROM myds_rejects")[1] == [(14,)]  # the dataset wins, deterministically
        assert sandbox.query("SELECT count(*) FROM myds")[1] == [(1,)]
        with pytest.raises(QueryError, match="unknown table 'broken'"):
            sandbox.query("SELECT count(*) FROM broken")
        assert store.datasets() == ["myds", "myds_rejects"]
    assert "myds_rejects" in caplog.text and "wins" in caplog.text
    assert "broken" in caplog.text
    with pytest.raises(DatasetError, match="cannot be read"):
        store.latest("broken")
    with store.write_version("fresh") as w:
        w.write(pa.table({"x": [1]}))
    assert "fresh" in store.datasets()
