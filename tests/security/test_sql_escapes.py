"""Every way out of the analysts' SQL that was reported (issue #11), plus generated variations: none works.

Each probe runs both through the Python API and the checks DuckDB itself enforces (external
access off, configuration locked), and must leave the file system and the store untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlpkit.errors import NlpkitError
from nlpkit.store import SqlSandbox, Store

TARGET = "/tmp/nlpkit_escape_probe"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> SqlSandbox:
    store = Store(tmp_path_factory.mktemp("sec") / "data")
    for rows in ([1], [1, 2]):
        with store.write_version("demo") as w:
            w.write(pa.table({"x": rows}))
    store.append("runs", pa.table({"flow": ["a"]}))
    return SqlSandbox(store, timeout=10)


def _snapshot(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_size for p in root.rglob("*") if p.is_file()}


PROBES = [
    # file reads
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM glob('/root/*')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_parquet('/etc/*.parquet')",
    "SELECT * FROM read_json_auto('/etc/os-release')",
    "SELECT * FROM read_text('/dev/zero')",
    "SELECT content FROM read_text('/proc/self/environ')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM parquet_metadata('/etc/passwd')",
    # writes
    f"COPY (SELECT 42 AS x) TO '{TARGET}.csv'",
    f"COPY demo TO '{TARGET}.parquet' (FORMAT parquet)",
    f"EXPLAIN ANALYZE COPY (SELECT 42 AS x) TO '{TARGET}.csv'",
    f"explain analyze copy (select 42) to '{TARGET}.csv'",
    f"EXPLAIN /* note */ ANALYZE COPY (SELECT 1) TO '{TARGET}.csv'",
    f"EXPLAIN -- note\n ANALYZE COPY (SELECT 1) TO '{TARGET}.csv'",
    f"EXPLAIN (ANALYZE) COPY (SELECT 1) TO '{TARGET}.csv'",
    "EXPLAIN ANALYZE SET enable_external_access = true",
    f"EXPLAIN ANALYZE ATTACH '{TARGET}.duckdb'",
    "EXPLAIN ANALYZE SELECT 1",
    f"EXPLAIN COPY (SELECT 1) TO '{TARGET}.csv'",
    f"ATTACH '{TARGET}.duckdb' AS x",
    f"EXPORT DATABASE '{TARGET}_dir'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "FORCE INSTALL httpfs",
    "PRAGMA enable_profiling",
    "PRAGMA show_tables",
    "CALL pragma_version()",
    "SET enable_external_access = true",
    "SET memory_limit = '100GB'",
    "RESET lock_configuration",
    "SELECT 1; SET enable_external_access = true",
    f"SELECT 1; COPY (SELECT 1) TO '{TARGET}.csv'",
    "SELECT 1;; DROP TABLE demo",
    "DROP VIEW demo",
    "INSERT INTO demo VALUES (4)",
    "CREATE TABLE t AS SELECT 1",
    "CREATE MACRO m() AS 1",
    "DELETE FROM demo",
    "UPDATE demo SET x = 0",
    "VACUUM",
    "CHECKPOINT",
    "DETACH memory",
    "USE memory",
    "BEGIN TRANSACTION",
    "WITH t AS (SELECT 1) INSERT INTO demo SELECT * FROM t",
    f"SELECT * FROM query('COPY (SELECT 1) TO ''{TARGET}.csv''')",
    "SELECT * FROM query_table('/etc/passwd')",
    "SeLeCt * FrOm ReAd_TeXt('/etc/hostname')",
    "/* x */ COPY (SELECT 1) TO '/tmp/nlpkit_escape_probe.csv'",
]


@pytest.mark.parametrize("sql", PROBES)
def test_probe_is_refused_and_writes_nothing(sandbox: SqlSandbox, sql: str) -> None:
    before = _snapshot(sandbox.store.root)
    with pytest.raises(NlpkitError):
        sandbox.query(sql)
    assert not any(Path("/tmp").glob("nlpkit_escape_probe*"))
    assert _snapshot(sandbox.store.root) == before
    assert sandbox.query("SELECT count(*) FROM demo")[1] == [(2,)]


def test_only_the_snapshot_files_are_readable(sandbox: SqlSandbox) -> None:
    """DuckDB may open exactly the Parquet files of the tables a query names (``allowed_paths``), nothing else:
    not the Delta log, not an older version's file, not the artifact folders."""
    store = sandbox.store
    log = next((store.dataset_table_dir("demo") / "_delta_log").glob("*.json"))
    from deltalake import DeltaTable

    old = DeltaTable(str(store.dataset_table_dir("demo")), version=1).file_uris()[0]
    for sql in (f"SELECT * FROM read_text('{log}')", f"SELECT * FROM read_parquet('{old}')",
                f"SELECT count(*) FROM demo, read_parquet('{old}')", f"SELECT * FROM read_text('{log.parent}/*')"):
        with pytest.raises(NlpkitError):
            sandbox.query(sql)


_FILE_FUNCS = ["read_text", "read_blob", "read_csv", "read_csv_auto", "read_json", "read_json_auto", "read_parquet",
               "parquet_scan", "glob", "sniff_csv", "parquet_schema", "read_ndjson", "read_xlsx", "read_json_objects"]
_PATHS = ["/etc/passwd", "/etc/hostname", "/root/*", "/proc/self/environ", "../../etc/passwd", "~/.bashrc",
          "file:///etc/passwd", "/dev/zero"]
_FORBIDDEN = [f"COPY (SELECT 1) TO '{TARGET}.csv'", f"ATTACH '{TARGET}.db'", "INSTALL httpfs", "LOAD json",
              "SET threads = 1", "PRAGMA threads = 1", "CALL pragma_version()", "DROP TABLE demo",
              "CREATE TABLE z AS SELECT 1", "INSERT INTO demo VALUES (1)", f"EXPORT DATABASE '{TARGET}_d'",
              "RESET memory_limit", "CREATE SECRET s (TYPE s3)", f"IMPORT DATABASE '{TARGET}_d'"]


def _case(s: str, flips: list[bool]) -> str:
    return "".join(c.upper() if i < len(flips) and flips[i] else c.lower() for i, c in enumerate(s))


_noise = st.sampled_from(["", " ", "\n", "/* c */", "-- c\n", "\t", " /*;*/ "])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(func=st.sampled_from(_FILE_FUNCS), path=st.sampled_from(_PATHS), flips=st.lists(st.booleans(), max_size=40),
       pre=_noise, mid=_noise, wrap=st.sampled_from(["{}", "SELECT * FROM ({})", "WITH q AS ({}) SELECT * FROM q",
                                                      "EXPLAIN ANALYZE {}", "SELECT 1 UNION ALL SELECT count(*) FROM ({})",
                                                      "DESCRIBE {}", "SUMMARIZE {}"]))
def test_generated_file_reads_never_succeed(sandbox: SqlSandbox, func: str, path: str, flips: list[bool], pre: str,
                                            mid: str, wrap: str) -> None:
    inner = f"SELECT *{mid}FROM {_case(func, flips)}({mid}'{path}')"
    sql = pre + wrap.format(inner)
    try:
        _, rows = sandbox.query(sql)
    except NlpkitError:
        return
    # DESCRIBE of a table function with a fixed result (sniff_csv ...) only binds it: it names
    # columns and reads no file. Anything else answering is an escape.
    assert wrap.startswith("DESCRIBE"), f"{sql!r} answered {rows!r}"
    text = repr(rows)
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").is_file() else ""
    assert "root:" not in text and (not hostname or hostname not in text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stmt=st.sampled_from(_FORBIDDEN), flips=st.lists(st.booleans(), max_size=60), pre=_noise, sep=_noise,
       shape=st.sampled_from(["{s}", "SELECT 1;{sep}{s}", "{s};{sep}SELECT 1", "EXPLAIN ANALYZE {s}", "EXPLAIN{sep}ANALYZE {s}",
                              "EXPLAIN {s}", "EXPLAIN (ANALYZE) {s}", "WITH a AS (SELECT 1) {s}",
                              "SELECT * FROM query('{q}')"]))
def test_generated_forbidden_statements_never_succeed(sandbox: SqlSandbox, stmt: str, flips: list[bool], pre: str,
                                                      sep: str, shape: str) -> None:
    s = _case(stmt, flips) if "'" not in stmt else stmt
    sql = pre + shape.format(s=s, sep=sep, q=s.replace("'", "''"))
    before = _snapshot(sandbox.store.root)
    with pytest.raises(NlpkitError):
        sandbox.query(sql)
    assert not any(Path("/tmp").glob("nlpkit_escape_probe*"))
    assert _snapshot(sandbox.store.root) == before


def test_no_pth_file_can_be_planted() -> None:
    """The reported `.pth` trick wrote into site-packages; COPY is refused before it reaches DuckDB."""
    import site

    target = Path(site.getsitepackages()[0]) / "nlpkit_probe.pth"
    store = Store(Path(os.environ.get("TMPDIR", "/tmp")) / "nlpkit_pth_probe")
    with pytest.raises(NlpkitError):
        SqlSandbox(store).query(f"EXPLAIN ANALYZE COPY (SELECT 'import os') TO '{target}' (HEADER false)")
    assert not target.exists()
