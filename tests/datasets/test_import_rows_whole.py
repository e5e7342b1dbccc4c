"""`nlpkit data import`, second round of hostile input (issue #20): a row is read whole or rejected whole.

Each test failed on main: an over-long quoted CSV field made hundreds of thousands of rows out of
its inside; JSONL nested 10,000 deep was a RecursionError, 70-100 deep an unqueryable dataset, 200-900
deep a DeltaError and a half-made dataset; an escaped lone surrogate lost the file; 400 rows of 400 new
keys ran for minutes; links to /dev/zero or a pipe were reported "not found".
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpkit.datasets import records
from nlpkit.datasets.importer import import_corpus
from nlpkit.datasets.records import MAX_COLUMNS, MAX_JSON_DEPTH, MAX_KEYS, TooLong, csv_records
from nlpkit.datasets.table_reader import parse_table
from nlpkit.errors import SourceError
from nlpkit.store import Store
from tests.cli_harness import run_cli_child

MB = 1 << 20


def _rejects(store: Store, name: str) -> list[dict]:
    return store.read(name, "rejects").to_pylist()


def _query_count(store: Store, name: str) -> int:
    _, rows = store.sql().query(f"SELECT count(*) FROM {name}")
    return rows[0][0]


# -- CSV: records split before parsing ---------------------------------------------------------------------
def _fake_rows(n: int) -> str:
    return "".join(f"{i},made-up row {i}\n" for i in range(n))


def test_an_over_long_quoted_field_is_one_reject_not_made_up_rows(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(f'id,text\n1,real one\n2,"{_fake_rows(500)}"\n3,"real, ""quoted"" three"\n4,real four\n', "utf-8")
    parsed = parse_table(f, max_line_bytes=1000)
    assert parsed.frame.values.tolist() == [["1", "real one"], ["3", 'real, "quoted" three'], ["4", "real four"]]
    assert parsed.lines == [2, 504, 505]  # the field spans lines 3-503
    [bad] = parsed.bad
    assert bad.reason == "line_too_long" and bad.line == 503
    assert "c.csv lines 3-503: a row of over 1,000 characters" in bad.detail and "rejected whole" in bad.detail


def test_an_unclosed_quote_swallows_no_more_than_the_cap(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(f'id,text\n1,real\n2,"never closed\n{_fake_rows(300)}', "utf-8")
    parsed = parse_table(f, max_line_bytes=500)
    assert parsed.frame.values.tolist() == [["1", "real"]]
    assert [b.reason for b in parsed.bad] == ["line_too_long"]


@pytest.mark.slow
def test_a_40mb_quoted_field_at_the_default_limit(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "big.csv"
    with f.open("w", encoding="utf-8") as out:
        out.write('id,text\n1,first real row\n2,"')
        for _ in range(40):
            out.write(_fake_rows(60_000))  # ~1 MB each
        out.write('"\n3,last real row\n')
    info = import_corpus(store, "big", f)
    assert info.manifest["counts"]["kept"] == 2 and info.manifest["counts"]["unreadable_lines"] == 1  # main: 446,284 made-up rows
    assert [r["reason"] for r in _rejects(store, "big")] == ["line_too_long"]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='ab,"\n\r\t ', max_size=60), st.sampled_from([1, 2, 3, 7, 1 << 20]),
       st.sampled_from([",", "\t"]))
def test_records_split_exactly_as_the_csv_module_reads_them(text: str, piece: int, sep: str) -> None:
    want = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    for row in reader:
        want.append((row, reader.line_num))
    old, records._PIECE = records._PIECE, piece
    try:
        got = [r for r in csv_records(io.StringIO(text, newline=""), sep, True, 10**9)]
    finally:
        records._PIECE = old
    assert not any(isinstance(r, TooLong) for r in got)
    assert [(next(csv.reader([t], delimiter=sep), []), last) for _, last, t in got] == want  # type: ignore[misc]


@pytest.mark.slow
def test_a_huge_csv_field_is_rejected_with_bounded_memory(tmp_path: Path) -> None:
    f = tmp_path / "huge.csv"
    with f.open("w", encoding="utf-8") as out:
        out.write('id,text\n1,real\n2,"')
        chunk = "x" * MB
        for _ in range(300):
            out.write(chunk)
        out.write('"\n3,real too\n')
    code, peak_mb, out = run_cli_child(tmp_path, "data", "import", "huge", str(f), "--id-col", "id")
    assert code == 0, out
    assert "2 rows kept, 1 rejected" in out
    assert peak_mb < 500, f"peak RSS {peak_mb} MiB"  # main held the field three times over (2.25 GB for 1 GB)


# -- JSONL: stated limits, per-line rejects, a queryable dataset -----------------------------------------------
def _nested(depth: int, kind: str) -> str:
    return ("{\"k\":" * depth + "1" + "}" * depth) if kind == "object" else ("[" * depth + "1" + "]" * depth)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 70, 100, 200, 900, 10_000])
@pytest.mark.parametrize("kind", ["object", "list"])
def test_deep_json_is_a_per_line_reject_and_the_dataset_queryable(store: Store, tmp_path: Path, depth: int,
                                                                  kind: str) -> None:
    f = tmp_path / "deep.jsonl"
    f.write_text('{"text": "first"}\n' + f'{{"text": "deep", "meta": {_nested(depth, kind)}}}\n'
                 + '{"text": "shallow", "meta": ' + _nested(MAX_JSON_DEPTH - 2, kind) + "}\n", "utf-8")
    info = import_corpus(store, "deep", f)
    assert info.manifest["counts"]["kept"] == 2
    [bad] = _rejects(store, "deep")
    assert bad["item"] == "line 2" and bad["reason"] == "over_limit"
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in bad["detail"]
    assert _query_count(store, "deep") == 2  # main: ArrowInvalid on every query at 70-100 deep
    assert _query_count(store, "deep_rejects") == 1


def test_lone_surrogates_are_per_line_rejects_and_pairs_are_kept(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "s.jsonl"
    f.write_text('{"text": "good"}\n{"text": "bad \\ud800 here"}\n{"text": "pair \\ud83d\\ude00"}\n'
                 '{"text": "x", "\\udfff": 1}\n{"text": "escaped backslash \\\\ud800"}\n', "utf-8")
    info = import_corpus(store, "s", f)
    texts = store.read("s").column("text").to_pylist()
    assert texts == ["good", "pair \U0001F600", "escaped backslash \\ud800"]
    bad = _rejects(store, "s")
    assert [b["item"] for b in bad] == ["line 2", "line 4"] and info.manifest["counts"]["kept"] == 3
    assert "unpaired UTF-16 surrogate '\\\\ud800'" in bad[0]["detail"]


def test_too_many_keys_are_per_line_rejects_and_the_import_finishes(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "k.jsonl"
    with f.open("w", encoding="utf-8") as out:
        for i in range(400):  # 400 rows x 400 keys no other row has: the issue's 160,000-column table
            out.write(json.dumps({"text": f"row {i}", **{f"k{i}_{j}": j for j in range(400)}}) + "\n")
        out.write(json.dumps({"text": "wide", "meta": {f"m{j}": j for j in range(MAX_KEYS + 1)}}) + "\n")
        out.write(json.dumps({"text": "narrow", "k0_1": 5}) + "\n")
    info = import_corpus(store, "k", f)
    assert len(store.columns("k")) <= MAX_COLUMNS + 1
    kept = info.manifest["counts"]["kept"]
    assert kept == (MAX_COLUMNS - 1) // 400 + 1  # the rows that fit ("text" + 400 keys each), and the narrow one
    bad = _rejects(store, "k")
    assert len(bad) == 402 - kept and {b["reason"] for b in bad} == {"over_limit"}
    assert any(f"{MAX_KEYS + 1:,} keys" in b["detail"] for b in bad)
    assert any(f"at most {MAX_COLUMNS:,} distinct keys" in b["detail"] for b in bad)


def test_a_too_deep_parquet_column_is_refused_before_the_store_is_touched(store: Store, tmp_path: Path) -> None:
    t: pa.DataType = pa.int64()
    for _ in range(60):
        t = pa.struct([("k", t)])
    value: object = 1
    for _ in range(60):
        value = {"k": value}
    f = tmp_path / "deep.parquet"
    pq.write_table(pa.table({"text": ["a"], "meta": pa.array([value], type=t)}), f)
    with pytest.raises(SourceError, match=r"column 'meta' nests 60 levels deep"):
        import_corpus(store, "deep", f)
    assert not (store.root / "datasets" / "deep").exists()  # main: a half-made, unreadable dataset
    assert store.datasets() == []


# -- what a path is --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("target", "says"), [("/dev/zero", "is a character device"),
                                              ("/proc/self/fd/0", "is a (pipe|character device)"),  # as stdin is
                                              ("/nonexistent/x.jsonl", "is a broken symbolic link")])
def test_links_to_special_files_say_what_they_are(tmp_path: Path, target: str, says: str) -> None:
    link = tmp_path / "corpus.jsonl"
    os.symlink(target, link)
    code, _, out = run_cli_child(tmp_path, "data", "import", "x", str(link))  # stdin of the child is a pipe
    lines = [line for line in out.splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1, out
    assert re.search(says, lines[0]) and str(link) in lines[0] and "not found" not in lines[0]


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "corpus.csv"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match=r"is a pipe \(FIFO\), not a regular file"):
        parse_table(fifo)
