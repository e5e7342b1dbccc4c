"""Streamed query results (``SqlSandbox.batches`` + ``export.stream_table``): the same rows as the whole
result, cut at the row cap, nested columns as JSON text, and a bad statement refused before any byte."""

from __future__ import annotations

import gzip
import io
import itertools
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlpkit.errors import QueryError, ReadOnlyQueryError
from nlpkit.store import SqlSandbox, Store
from nlpkit.store.export import stream_table, write_table

QUERY = "SELECT id, title, category, tags FROM news ORDER BY id"


@pytest.fixture(scope="module")
def sandbox(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> SqlSandbox:
    """300 real korean_news articles (Korean titles, quotes and commas in them) with a list column."""
    with gzip.open(shared_data / "korean_news" / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in itertools.islice(f, 300)]
    store = Store(tmp_path_factory.mktemp("stream") / "data")
    with store.write_version("news") as w:
        w.write(pa.table({"id": [str(r["id"]) for r in rows], "title": [r["title"] for r in rows],
                          "category": [r["category"] for r in rows],
                          "tags": [r["title"].split()[:3] for r in rows]}))
    return SqlSandbox(store)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.one_of(st.none(), st.integers(0, 400)), batch_rows=st.integers(1, 120))
def test_batches_are_the_result_cut_at_the_cap(sandbox: SqlSandbox, limit: int | None, batch_rows: int) -> None:
    whole = sandbox.arrow(QUERY)
    got = sandbox.batches(QUERY, limit=limit, batch_rows=batch_rows).read_all()
    assert got.equals(whole if limit is None else whole.slice(0, limit))


@pytest.mark.parametrize("limit", [None, 0, 1, 299, 300, 5000])
def test_streamed_files_equal_the_written_ones(sandbox: SqlSandbox, tmp_path: Path, limit: int | None) -> None:
    whole = sandbox.arrow(QUERY)
    want = whole if limit is None else whole.slice(0, limit)
    for suffix in (".csv", ".parquet"):
        pieces = list(stream_table(sandbox.batches(QUERY, limit=limit, batch_rows=64), suffix))
        write_table(want, tmp_path / f"want{suffix}")
        if suffix == ".csv":  # byte for byte what `nlpkit query --out x.csv` writes (lists as JSON text)
            assert b"".join(pieces) == (tmp_path / "want.csv").read_bytes()
        else:
            assert pq.read_table(io.BytesIO(b"".join(pieces))).equals(want)
    if limit is None:
        assert len(pieces) > 2  # sent as it was read, not in one piece
        first = pacsv.read_csv(io.BytesIO(b"".join(stream_table(sandbox.batches(QUERY, limit=3), ".csv"))))
        assert json.loads(first.column("tags")[0].as_py()) == whole.column("tags")[0].as_py()


@pytest.mark.parametrize(("sql", "error", "match"), [
    ("DELETE FROM news", ReadOnlyQueryError, "refused DELETE"),
    ("SELECT * FROM newz", QueryError, "did you mean news"),
    ("COPY news TO 'x.csv'", ReadOnlyQueryError, "refused"),
])
def test_bad_statements_are_refused_before_streaming(sandbox: SqlSandbox, sql: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        sandbox.batches(sql)


def test_stream_table_names_the_formats_it_writes(sandbox: SqlSandbox) -> None:
    with pytest.raises(ValueError, match=r"\.csv, \.tsv, \.parquet or \.json, not '\.xml'"):
        next(stream_table(sandbox.batches(QUERY), ".xml"))


def test_json_stream_is_one_array_of_the_rows_sent_batch_by_batch(sandbox: SqlSandbox) -> None:
    pieces = list(stream_table(sandbox.batches(QUERY, batch_rows=64), ".json"))
    assert len(pieces) == 2 + -(-300 // 64)  # "[", one piece per batch, "]": sent as read, never held whole
    assert json.loads(b"".join(pieces)) == sandbox.arrow(QUERY).to_pylist()  # Korean text, the list column
