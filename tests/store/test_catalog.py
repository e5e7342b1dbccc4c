"""Analysts' SQL: views per dataset and version, read-only enforcement, export."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from nlpkit.errors import DatasetError, ReadOnlyQueryError
from nlpkit.store import Catalog, Store


@pytest.fixture
def catalog(store: Store) -> Catalog:
    for rows in ([1, 2], [1, 2, 3]):
        with store.write_version("demo") as w:
            w.write(pa.table({"x": rows}))
            w.write(pa.table({"item": ["bad"], "reason": ["empty_text"]}), "rejects")
    return Catalog(store)


def test_views_for_latest_and_older_versions(catalog: Catalog) -> None:
    assert catalog.query("SELECT count(*) FROM demo")[1] == [(3,)]
    assert catalog.query("SELECT count(*) FROM demo__v1")[1] == [(2,)]
    assert catalog.query("SELECT reason FROM demo_rejects")[1] == [("empty_text",)]


@pytest.mark.parametrize(
    "sql",
    [
        "DROP VIEW demo",
        "INSERT INTO demo VALUES (4)",
        "COPY (SELECT 1) TO '/tmp/nlpkit_should_not_exist.csv'",
        "CREATE TABLE t AS SELECT 1",
        "ATTACH '/tmp/other.duckdb'",
        "SET threads = 1",
        "SELECT 1; DELETE FROM demo",
        "INSTALL httpfs",
    ],
)
def test_writes_are_refused(catalog: Catalog, sql: str) -> None:
    with pytest.raises(ReadOnlyQueryError, match="read-only"):
        catalog.query(sql)
    assert catalog.query("SELECT count(*) FROM demo")[1] == [(3,)]
    assert not Path("/tmp/nlpkit_should_not_exist.csv").exists()


def test_bad_sql_is_a_clear_error(catalog: Catalog) -> None:
    with pytest.raises(DatasetError, match="does not parse"):
        catalog.query("SELEC x FROM demo")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".tsv"])
def test_export(catalog: Catalog, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"x{suffix}"
    assert catalog.export("SELECT x FROM demo ORDER BY x", out) == 3
    assert out.stat().st_size > 0


def test_export_refuses_unknown_format(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="unknown format '.xlsx'"):
        catalog.export("SELECT 1", tmp_path / "x.xlsx")
