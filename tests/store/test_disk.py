"""A full disk and a read-only data directory: one `error:` line, exit 2, the last version intact.

The real cases mount a small tmpfs (root only); where mounting is not permitted they skip
and the patched cases below still prove the error path.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nlpkit.errors import StorageError
from nlpkit.store import Store
from tests.cli_harness import cli_invoker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip()}); test_patched_enospc covers the error path")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _jsonl(path: Path, rows: int, text_bytes: int) -> Path:
    with path.open("w") as f:
        for i in range(rows):
            f.write(json.dumps({"text": base64.b64encode(os.urandom(text_bytes)).decode() or f"row {i}", "label": i % 2})
                    + "\n")
    return path


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NLPKIT_DATA_DIR": str(data), "NLPKIT_NO_PROGRESS": "1"}
    return subprocess.run([sys.executable, "-m", "nlpkit.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def _one_error_line(res: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_full_disk(tiny_fs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tiny_fs / "data"
    cli = cli_invoker(tiny_fs, monkeypatch)  # in-process where only the outcome counts; the failure is a real child
    assert cli("data", "import", "demo", str(_jsonl(tmp_path / "small.jsonl", 10, 30)))[0] == 0
    big = _jsonl(tmp_path / "big.jsonl", 3000, 3000)  # ~12 MB of incompressible text for a 4 MB disk
    _one_error_line(_cli(data, "data", "import", "demo", str(big)), "disk is full")
    code, out = cli("query", "SELECT count(*) AS n FROM demo")
    assert code == 0 and "10" in out
    assert cli("data", "list")[0] == 0
    # the failed writer removed its files: a small import fits again
    assert cli("data", "import", "demo", str(_jsonl(tmp_path / "small2.jsonl", 5, 30)))[0] == 0
    assert [v.version for v in Store(data).versions("demo")] == ["v1", "v2"]


def test_read_only_data_dir(tiny_fs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tiny_fs / "data"
    cli = cli_invoker(tiny_fs, monkeypatch)
    small = _jsonl(tmp_path / "small.jsonl", 10, 30)
    assert cli("data", "import", "demo", str(small))[0] == 0
    Store(data).append("runs", pa.table({"flow": ["a"]}))
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    _one_error_line(_cli(data, "data", "import", "demo", str(small)), "read-only")
    _one_error_line(_cli(data, "data", "vacuum"), "read-only")
    code, out = cli("query", "SELECT count(*) AS n FROM demo")  # readers write nothing, so they keep working
    assert code == 0 and "10" in out, out
    assert cli("data", "list")[0] == 0
    assert cli("data", "history", "demo")[0] == 0


def test_patched_enospc_while_writing_rows(store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with store.write_version("demo") as w:
        w.write(pa.table({"x": [1, 2]}))

    def full(self: pq.ParquetWriter, table: pa.Table, row_group_size: int | None = None) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    with pytest.raises(StorageError, match="disk is full"):
        with store.write_version("demo") as w:
            w.write(pa.table({"x": [1, 2, 3]}))
    monkeypatch.undo()
    assert store.latest("demo").version == "v1" and store.read("demo").num_rows == 2

    from nlpkit.cli import app

    monkeypatch.setenv("NLPKIT_DATA_DIR", str(store.root))
    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    src = _jsonl(tmp_path / "x.jsonl", 3, 10)
    from nlpkit.cli import _common

    _common._state.clear()
    res = CliRunner().invoke(app, ["data", "import", "demo", str(src)])
    assert res.exit_code == 2 and "disk is full" in res.output and "Traceback" not in res.output


def test_patched_enospc_at_commit(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    with store.write_version("demo") as w:
        w.write(pa.table({"x": [1, 2]}))

    def full(*args: object, **kwargs: object) -> None:
        raise DeltaError("Generic LocalFileSystem error: No space left on device (os error 28)")

    monkeypatch.setattr(DeltaTable, "create_write_transaction", full)
    with pytest.raises(StorageError, match="disk is full"):
        with store.write_version("demo") as w:
            w.write(pa.table({"x": [1, 2, 3]}))
    monkeypatch.undo()
    assert store.latest("demo").version == "v1" and store.read("demo").num_rows == 2
    assert len(list(store.dataset_table_dir("demo").glob("*.parquet"))) == 1  # the uncommitted file was removed
