"""Analysts' SQL: names per dataset, table and version, read-only enforcement, limits, export."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nlpkit.errors import QueryError, QueryTimeoutError, ReadOnlyQueryError
from nlpkit.store import Catalog, SqlSandbox, Store


@pytest.fixture
def sandbox(store: Store) -> SqlSandbox:
    for rows in ([1, 2], [1, 2, 3]):
        with store.write_version("demo") as w:
            w.write(pa.table({"x": rows, "tags": [["a", "b"]] * len(rows)}))
            w.write(pa.table({"item": ["bad"] * len(rows), "reason": ["empty_text"] * len(rows)}), "rejects")
    store.append("model_runs", pa.table({"model": ["a"], "accuracy": [0.5]}))
    return SqlSandbox(store)


def test_names_for_latest_older_versions_and_side_tables(sandbox: SqlSandbox) -> None:
    assert sandbox.query("SELECT count(*) FROM demo")[1] == [(3,)]
    assert sandbox.query("SELECT count(*) FROM demo__v1")[1] == [(2,)]
    assert sandbox.query("SELECT count(*) FROM demo_rejects")[1] == [(3,)]
    assert sandbox.query("SELECT count(*) FROM demo_rejects__v1")[1] == [(2,)]  # pinned by v1's commit
    assert sandbox.query("SELECT model FROM model_runs")[1] == [("a",)]


def test_as_of_makes_the_plain_name_an_old_version(sandbox: SqlSandbox) -> None:
    old = SqlSandbox(sandbox.store, as_of={"demo": 1})
    assert old.query("SELECT count(*) FROM demo")[1] == [(2,)]
    assert old.query("SELECT count(*) FROM demo_rejects")[1] == [(2,)]


def test_old_catalog_name_still_works(sandbox: SqlSandbox) -> None:
    assert Catalog(sandbox.store).query("SELECT sum(x) FROM demo")[1] == [(6,)]


@pytest.mark.parametrize("sql", ["DESCRIBE demo", "SUMMARIZE demo", "EXPLAIN SELECT * FROM demo",
                                 "WITH t AS (SELECT x FROM demo) SELECT max(x) FROM t", "FROM demo SELECT x"])
def test_read_statements_are_allowed(sandbox: SqlSandbox, sql: str) -> None:
    assert sandbox.query(sql)[1]


def test_unknown_table_suggests_the_close_one(sandbox: SqlSandbox) -> None:
    with pytest.raises(QueryError, match=r"unknown table 'dem'.*did you mean demo"):
        sandbox.query("SELECT * FROM dem")


def test_bad_sql_is_a_clear_error(sandbox: SqlSandbox) -> None:
    with pytest.raises(QueryError, match="does not parse"):
        sandbox.query("SELEC x FROM demo")


def test_timeout_interrupts(sandbox: SqlSandbox) -> None:
    slow = SqlSandbox(sandbox.store, timeout=0.5)
    with pytest.raises(QueryTimeoutError, match="--timeout"):
        slow.query("SELECT count(*) FROM range(100000000) a, range(100000000) b")


def test_memory_limit_stops_a_huge_query(sandbox: SqlSandbox) -> None:
    small = SqlSandbox(sandbox.store, memory_limit="64MB")
    with pytest.raises(QueryError, match="memory"):
        small.query("SELECT list(range) FROM range(50000000)")


def test_limit_stops_fetching(sandbox: SqlSandbox) -> None:
    res = sandbox.fetch("SELECT * FROM range(1000)", limit=10)
    assert len(res.rows) == 10 and res.truncated


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".tsv", ".json", ".jsonl"])
def test_export_with_list_columns(sandbox: SqlSandbox, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / "out" / f"x{suffix}"
    assert sandbox.export("SELECT x, tags FROM demo ORDER BY x", out) == 3
    text = out.read_bytes()
    if suffix == ".parquet":
        assert pq.read_table(out).column("tags").to_pylist() == [["a", "b"]] * 3
    elif suffix == ".json":
        assert json.loads(text)[0] == {"x": 1, "tags": ["a", "b"]}
    elif suffix == ".jsonl":
        assert json.loads(text.splitlines()[2]) == {"x": 3, "tags": ["a", "b"]}
    else:
        assert b'["a", "b"]' in text or b'[""a"", ""b""]' in text
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left


def test_export_refuses_unknown_format(sandbox: SqlSandbox, tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="unknown format '.xlsx'"):
        sandbox.export("SELECT 1", tmp_path / "x.xlsx")


def test_readers_take_no_lock_and_see_a_snapshot(sandbox: SqlSandbox) -> None:
    con = sandbox.connect("SELECT * FROM demo")
    try:
        with sandbox.store.write_version("demo") as w:  # a writer is never blocked by an open reader
            w.write(pa.table({"x": [9] * 5, "tags": [["z"]] * 5}))
        assert con.execute("SELECT count(*), max(x) FROM demo").fetchall() == [(3, 3)]
    finally:
        con.close()
    assert sandbox.query("SELECT count(*) FROM demo")[1] == [(5,)]


def test_writes_inside_the_python_api_connection_stay_in_memory(sandbox: SqlSandbox, tmp_path: Path) -> None:
    con = sandbox.connect()
    try:
        with pytest.raises(Exception, match="disabled"):
            con.execute(f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")
        with pytest.raises(Exception, match="configuration"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()
    assert not (tmp_path / "x.csv").exists()


def test_refusal_is_read_only_error(sandbox: SqlSandbox) -> None:
    with pytest.raises(ReadOnlyQueryError, match="read-only"):
        sandbox.query("DROP TABLE demo")


def test_no_progress_bar_in_stdout(sandbox: SqlSandbox) -> None:
    # DuckDB draws a progress bar into stdout for queries over ~2 s: it broke `nlpkit query` output
    # and a reader's stdout in test_concurrency under load
    con = sandbox.connect("SELECT 1 FROM imdb")
    try:
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
    finally:
        con.close()
