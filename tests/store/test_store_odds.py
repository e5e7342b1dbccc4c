"""Issue 19 store odds: a data directory that is a file, and a vacuum that never deletes through a link."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from nlpkit.errors import DatasetError, StoreLayoutError
from nlpkit.store import SqlSandbox, Store
from nlpkit.store.maintenance import vacuum
from tests.cli_harness import cli_invoker, run_cli_child


def _versions(store: Store, name: str, n: int) -> None:
    for k in range(1, n + 1):
        with store.write_version(name, parameters={"k": k}) as w:
            w.write(pa.table({"x": [k] * k}))
            (w.dir / "model.bin").write_bytes(b"m" * 10)


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("args", [("data", "list"), ("query", "SELECT 1"), ("data", "vacuum")])
def test_a_data_dir_that_is_a_file_is_one_error_naming_it(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "data").write_text("not a store")
    code, _, out = run_cli_child(tmp_path, *args)
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, out
    assert f"data directory {tmp_path / 'data'} is not a folder" in errors[0] and "Traceback" not in out


def test_a_data_dir_below_a_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(StoreLayoutError, match=r"is not a folder \(.*/f is a file\)"):
        Store(tmp_path / "f" / "data")
    Store(tmp_path / "missing" / "data")  # a folder yet to be made is fine


def test_vacuum_never_deletes_through_a_dataset_link_into_another_store(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19 probe: ``datasets/victim`` is a symlink to a dataset of another store. Vacuum used to follow it
    and delete that store's Parquet files; now it leaves it alone and says so."""
    other = Store(tmp_path / "other")
    _versions(other, "victim", 4)
    before = _files(other.root)
    store = Store(tmp_path / "data")
    _versions(store, "mine", 3)
    os.symlink(other.root / "datasets" / "victim", store.root / "datasets" / "victim")
    (other.root / "datasets" / "ghost").mkdir()  # an uncommitted first build, reached through a link too
    os.symlink(other.root / "datasets" / "ghost", store.root / "datasets" / "ghost")

    report = vacuum(store, keep=1)
    assert report.dropped_versions == {"mine": ["v1", "v2"]}
    assert set(report.skipped) == {"victim", "ghost"} and "symbolic link" in report.skipped["victim"]
    assert report.removed_datasets == []
    assert _files(other.root) >= before and (other.root / "datasets" / "ghost").is_dir()
    assert [v.version for v in other.versions("victim")] == ["v1", "v2", "v3", "v4"]
    assert SqlSandbox(other).query("SELECT count(*) FROM victim__v1")[1] == [(1,)]

    cli = cli_invoker(tmp_path, monkeypatch)
    code, out = cli("data", "vacuum", "--keep", "1")
    assert code == 0 and "victim: skipped" in out and "ghost: skipped" in out and "removed" not in out, out
    assert _files(other.root) >= before


def test_vacuum_refuses_a_dataset_whose_table_folder_leaves_the_data_dir(tmp_path: Path) -> None:
    other = Store(tmp_path / "other")
    _versions(other, "victim", 3)
    store = Store(tmp_path / "data")
    _versions(store, "mixed", 3)
    data = store.root / "datasets" / "mixed" / "data"
    data.rename(tmp_path / "moved")
    os.symlink(tmp_path / "moved", data)  # the table itself lives outside the store
    before = _files(tmp_path / "moved")
    report = vacuum(store, keep=1)
    assert "mixed" in report.skipped and "mixed" not in report.dropped_versions
    assert _files(tmp_path / "moved") == before
    with pytest.raises(DatasetError, match="refusing to vacuum dataset 'mixed'.*symbolic link"):
        store.remove_version("mixed", "v1")


def test_vacuum_reports_removed_only_for_folders_it_removed(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    _versions(store, "mine", 1)
    (store.root / "datasets" / "half").mkdir()  # a first build that never committed
    report = vacuum(store, keep=1)
    assert report.removed_datasets == ["half"] and not (store.root / "datasets" / "half").exists()
    assert report.skipped == {}
