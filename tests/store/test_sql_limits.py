"""SQL limits that hold (issue 19): every probe that leaked, at a size a test can afford, same mechanism.

- spilling goes only into the query's own capped folder, removed afterwards, never into the cwd;
- the clock runs from the call, so a slow snapshot open is stopped too; the child process is killed
  at the limit whatever DuckDB is doing, and past its memory cap;
- fetched and exported results are streamed and their bytes capped;
- out-of-range ``--timeout``, ``--memory-limit``, ``--as-of`` are one ``error:`` line, exit 2.
"""

from __future__ import annotations

import io
import json
import signal
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpkit.errors import DatasetNotFoundError, QueryError, QueryTimeoutError
from nlpkit.store import SqlSandbox, Store
from nlpkit.store import sql as sql_module
from nlpkit.store import sql_worker
from nlpkit.store.sql_limits import MAX_SIZE, parse_as_of, parse_size, parse_timeout
from nlpkit.store.sql_worker import IsolatedSandbox
from tests.cli_harness import cli_invoker

# A sort of 1M md5 strings (~60 MB of keys) does not fit 32 MB of DuckDB memory: it must spill.
SPILLING_SORT = "SELECT md5(i::VARCHAR) AS m FROM range(1000000) t(i) ORDER BY m"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "data")
    for n in (3, 5):
        with s.write_version("imdb") as w:
            w.write(pa.table({"id": list(range(n)), "text": ["good film"] * n, "label": [1] * n}))
    s.append("runs", pa.table({"run": ["a"], "seconds": [1.0]}))
    return s


# -- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["inf", "-inf", "1e300", "nan", "-1", "0", "86401", "abc", ""])
def test_timeouts_that_would_turn_the_limit_off_are_refused(value: str) -> None:
    with pytest.raises(QueryError, match=r"--timeout .*above 0 and at most 86400"):
        parse_timeout(value)
    with pytest.raises(QueryError):
        timeout = float(value) if value not in ("abc", "") else value
        SqlSandbox(Store("unused"), timeout=timeout)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["0MB", "0", "garbage", "1MB", "-5MB", "99999999999999TB", "1e9MB", "5 XB"])
def test_memory_limits_out_of_range_are_refused(value: str) -> None:
    with pytest.raises(QueryError, match="--memory-limit"):
        SqlSandbox(Store("unused"), memory_limit=value)


@pytest.mark.parametrize("item", ["imdb=³", "imdb=٣", "runs=1e23", "runs=9223372036854775807", "runs=-1", "runs=",
                                  "=3", "imdb", "Imdb=1", "imdb=3.0"])
def test_as_of_values_that_are_not_a_version_are_refused(item: str) -> None:
    with pytest.raises(QueryError, match="--as-of"):
        parse_as_of([item])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=24))
def test_any_text_is_a_bounded_size_or_one_query_error(text: str) -> None:
    try:
        n = parse_size(text, "--memory-limit", minimum=16 << 20)
    except QueryError as e:
        assert "--memory-limit" in str(e) and "\n" not in str(e)
    else:
        assert 16 << 20 <= n <= MAX_SIZE


def test_as_of_past_the_last_version_is_an_error_not_a_hang(store: Store) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"--as-of runs=1000000: table runs has versions 0 to 0"):
        SqlSandbox(store, as_of={"runs": 1_000_000}).query("SELECT * FROM runs")
    assert SqlSandbox(store, as_of={"runs": 0}).query("SELECT run FROM runs")[1] == [("a",)]


# -- the clock starts before the snapshot opens ----------------------------------------------------
class _SlowSnapshots:
    """The store, but listing versions waits until the query's time limit has run out (a slow Delta log)."""

    def __init__(self, store: Store, deadlines: list[object]) -> None:
        self._store, self._deadlines = store, deadlines
        self.root = store.root

    def versions(self, name: str):  # type: ignore[no-untyped-def]
        assert self._deadlines[-1].expired.wait(60)  # type: ignore[attr-defined]
        return self._store.versions(name)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._store, name)


def test_the_time_limit_counts_while_the_snapshot_opens(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []

    class Recorded(sql_module.Deadline):
        def __init__(self, seconds: float) -> None:
            super().__init__(seconds)
            made.append(self)

    monkeypatch.setattr(sql_module, "Deadline", Recorded)
    with pytest.raises(QueryTimeoutError, match="0.2 s time limit"):
        SqlSandbox(_SlowSnapshots(store, made), timeout=0.2).query("SELECT * FROM imdb")


# -- spilling ---------------------------------------------------------------------------------------
def test_a_spilling_sort_spills_only_into_its_own_folder(store: Store, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cwd, spill = tmp_path / "cwd", tmp_path / "spill"
    cwd.mkdir()
    spill.mkdir()
    monkeypatch.chdir(cwd)
    sandbox = SqlSandbox(store, memory_limit="32MB", spill_dir=spill)
    got = sandbox.arrow(SPILLING_SORT).column("m")
    assert len(got) == 1_000_000 and got.to_pylist() == sorted(got.to_pylist())
    assert list(cwd.iterdir()) == [] and list(spill.iterdir()) == []  # nothing in the cwd; the folder removed
    # the same sort with the folder capped at 1 MB stops at the cap: it did spill there, and no further
    with pytest.raises(QueryError, match=r"spilling to disk is capped at 1MB \(--spill-limit\)"):
        SqlSandbox(store, memory_limit="32MB", spill_limit="1MB", spill_dir=spill).arrow(SPILLING_SORT)
    with pytest.raises(QueryError, match=r"spilling to disk is off \(--spill-limit 0\)"):
        SqlSandbox(store, memory_limit="32MB", spill_limit="0", spill_dir=spill).arrow(SPILLING_SORT)
    assert list(cwd.iterdir()) == [] and list(spill.iterdir()) == []


def test_the_query_process_spills_in_its_work_folder_and_removes_it(store: Store, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cwd, work = tmp_path / "cwd", tmp_path / "work"
    cwd.mkdir()
    work.mkdir()
    monkeypatch.chdir(cwd)
    res = IsolatedSandbox(store, memory_limit="32MB", work_dir=work).fetch(SPILLING_SORT, limit=3)
    assert res.truncated and [r[0] for r in res.rows] == sorted(r[0] for r in res.rows)
    assert list(cwd.iterdir()) == [] and list(work.iterdir()) == []
    with pytest.raises(QueryError, match="--spill-limit"):
        IsolatedSandbox(store, memory_limit="32MB", spill_limit="1MB", work_dir=work).fetch(SPILLING_SORT, limit=3)
    assert list(work.iterdir()) == []


# -- the query process: killed at the time limit and past its memory cap ------------------------------
def test_the_watchdog_kills_the_child_when_the_clock_passes_the_limit(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A child stuck in one call (here: a sleep) is killed as soon as the clock passes the limit."""
    now = [0.0]
    monkeypatch.setattr(sql_worker, "_COMMAND", [sys.executable, "-c", "import time; time.sleep(600)"])
    child = sql_worker._Child(5.0, 1 << 40, clock=lambda: now[0])
    child.start({}, tmp_path)
    assert child.proc is not None and child.proc.poll() is None
    now[0] = 5.0
    assert child.proc.wait(timeout=60) == -signal.SIGKILL and child.timed_out and not child.over_memory
    child.stop()


def test_the_watchdog_kills_the_child_past_its_resident_memory_cap(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    grow = "import time; b = bytearray(64 << 20); time.sleep(600)"
    monkeypatch.setattr(sql_worker, "_COMMAND", [sys.executable, "-c", grow])
    child = sql_worker._Child(600.0, 32 << 20)
    child.start({}, tmp_path)
    assert child.proc is not None and child.proc.wait(timeout=60) == -signal.SIGKILL
    assert child.over_memory and not child.timed_out
    child.stop()


def test_a_query_past_the_time_limit_is_stopped(store: Store, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(QueryTimeoutError, match=r"stopped after the 0.5 s time limit"):
        IsolatedSandbox(store, timeout=0.5, work_dir=work).fetch(
            "SELECT count(*) FROM range(100000000) a, range(100000000) b")
    assert list(work.iterdir()) == []


def test_one_huge_string_is_stopped_by_the_memory_cap(store: Store, tmp_path: Path) -> None:
    """``repeat`` builds its string in one DuckDB call that neither the interrupt nor DuckDB's memory limit
    reaches (the probe: 2e9 bytes under 1GB reached 4 GB); the process cap (2 x 16MB + 512MB) stops it."""
    with pytest.raises(QueryError, match="memory"):
        IsolatedSandbox(store, memory_limit="16MB", timeout=600, work_dir=tmp_path).fetch(
            "SELECT length(repeat('a', 1500000000))")


def test_fetching_is_capped_by_the_memory_limit(store: Store, tmp_path: Path) -> None:
    """The probe: 40 rows of 100 MB strings were fetched whole; here 40 rows of 1 MB under 16MB."""
    with pytest.raises(QueryError, match=r"over the 16MB cap \(the 16MB --memory-limit"):
        IsolatedSandbox(store, memory_limit="16MB", work_dir=tmp_path).fetch(
            "SELECT repeat('a', 1000000) AS s FROM range(40)")


def test_export_streams_and_stops_at_the_byte_cap(store: Store, tmp_path: Path) -> None:
    q = "SELECT i, repeat('x', 100) AS s FROM range(100000) t(i)"  # ~11 MB of Arrow
    out = tmp_path / "big.parquet"
    with pytest.raises(QueryError, match=r"over the 1MB cap \(--max-bytes\)"):
        IsolatedSandbox(store, max_bytes="1MB").export(q, out)
    assert not out.exists() and not list(tmp_path.glob(".big*"))  # no partial file
    assert IsolatedSandbox(store).export(q, out) == 100_000
    assert pq.read_table(out).equals(SqlSandbox(store).arrow(q))


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_an_export_past_the_time_limit_says_so_and_leaves_no_file(store: Store, tmp_path: Path, suffix: str) -> None:
    """The probe `--out big.parquet` of 300M rows, here cut by the time limit while batches stream in."""
    out = tmp_path / f"big{suffix}"
    with pytest.raises(QueryTimeoutError, match="stopped after the 1 s time limit"):
        IsolatedSandbox(store, timeout=1).export("SELECT i, md5(i::VARCHAR) AS m FROM range(300000000) t(i)", out)
    assert not out.exists() and not list(tmp_path.glob(".big*"))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".json", ".jsonl", ".parquet"])
def test_streamed_exports_equal_the_whole_result(store: Store, tmp_path: Path, suffix: str) -> None:
    q = "SELECT id, text, label FROM imdb ORDER BY id"
    out = tmp_path / f"x{suffix}"
    assert IsolatedSandbox(store).export(q, out) == 5
    want = SqlSandbox(store).arrow(q).to_pylist()
    data = out.read_bytes()
    if suffix == ".parquet":
        got = pq.read_table(out).to_pylist()
    elif suffix in (".csv", ".tsv"):
        got = pacsv.read_csv(io.BytesIO(data), parse_options=pacsv.ParseOptions(
            delimiter="\t" if suffix == ".tsv" else ",")).to_pylist()
    elif suffix == ".json":
        got = json.loads(data)
    else:
        got = [json.loads(line) for line in data.splitlines()]
    assert got == want


def test_a_reader_dropped_unread_ends_its_process_and_folder(store: Store, tmp_path: Path) -> None:
    import gc

    work = tmp_path / "work"
    work.mkdir()
    reader = IsolatedSandbox(store, work_dir=work).batches("SELECT i FROM range(10000000) t(i)", batch_rows=1000)
    assert len(list(work.iterdir())) == 1  # the query's folder, while its process streams
    del reader
    gc.collect()
    assert list(work.iterdir()) == []


def test_a_bad_query_in_the_child_is_the_same_one_line_error(store: Store) -> None:
    with pytest.raises(QueryError, match="did you mean imdb"):
        IsolatedSandbox(store).fetch("SELECT * FROM imbd")
    assert IsolatedSandbox(store, as_of={"imdb": 1}).fetch("SELECT count(*) FROM imdb").rows == [(3,)]


# -- the command line -----------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "message"), [
    (["--timeout", "inf"], "--timeout inf"),
    (["--timeout", "1e300"], "--timeout 1e+300"),
    (["--timeout", "nan"], "--timeout nan"),
    (["--timeout", "-1"], "--timeout -1"),
    (["--memory-limit", "0MB"], "--memory-limit 0MB"),
    (["--memory-limit", "garbage"], "--memory-limit 'garbage'"),
    (["--spill-limit", "lots"], "--spill-limit 'lots'"),
    (["--as-of", "imdb=³"], "--as-of 'imdb=³'"),
    (["--as-of", "runs=1e23"], "--as-of 'runs=1e23'"),
    (["--as-of", "runs=9223372036854775807"], "--as-of 'runs=9223372036854775807'"),
    (["--as-of", "runs=5"], "--as-of runs=5: table runs has versions 0 to 0"),
])
def test_query_options_out_of_range_are_one_error_line(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       args: list[str], message: str) -> None:
    cli = cli_invoker(tmp_path, monkeypatch)
    code, out = cli("query", "SELECT count(*) FROM runs", *args)
    lines = [line for line in out.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"error: {message}"), out
    assert "Traceback" not in out


def test_query_prints_and_exports_through_the_query_process(store: Store, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    cli = cli_invoker(tmp_path, monkeypatch)
    code, out = cli("query", "SELECT id FROM imdb ORDER BY id", "--limit", "2")
    assert code == 0 and "2 rows (first 2; more not fetched" in out
    code, out = cli("query", "SELECT id FROM imdb ORDER BY id", "--out", str(tmp_path / "ids.csv"))
    assert code == 0 and "wrote 5 rows" in out
    assert pacsv.read_csv(tmp_path / "ids.csv").column("id").to_pylist() == [0, 1, 2, 3, 4]


def test_a_servers_queries_take_a_child_started_ahead(store: Store) -> None:
    """The web app's sandbox (``warm=True``): each query is handed to a child that started (and loaded its
    libraries) before the query came; results, errors and the time limit are the same as a cold child's."""
    from nlpkit.store import sql_worker

    warm = IsolatedSandbox(store, timeout=5, warm=True)
    assert warm.fetch("SELECT count(*) FROM imdb").rows == IsolatedSandbox(store).fetch("SELECT count(*) FROM imdb").rows
    spare = sql_worker._SPARE._ready
    assert spare is not None and spare[0].poll() is None  # the next query's child is waiting
    assert warm.fetch("SELECT 41 + 1 AS x").rows == [(42,)]
    assert sql_worker._SPARE._ready is not None and sql_worker._SPARE._ready[0].pid != spare[0].pid  # used once
    with pytest.raises(QueryError, match="syntax|Parser"):
        warm.fetch("SELECT FROM WHERE")
    with pytest.raises(QueryTimeoutError, match="stopped after the 1 s time limit"):
        IsolatedSandbox(store, timeout=1, warm=True).fetch("SELECT length(repeat('a', 2000000000))")
    assert warm.fetch("SELECT 1 AS x").rows == [(1,)]  # a child killed by the limit did not spoil the next one
    last = sql_worker._SPARE._ready
    sql_worker._SPARE.close()  # what exit does: the waiting child is ended, its folder removed
    assert sql_worker._SPARE._ready is None and last is not None and last[0].poll() is not None
    assert not last[1].exists()
