"""`nlpkit store migrate`: an old-layout store (versions + LATEST + parts + catalog) becomes Delta tables once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nlpkit.errors import StoreLayoutError
from nlpkit.store import SqlSandbox, Store
from tests.cli_harness import cli_invoker

ROOT = Path(__file__).resolve().parents[2]


def _old_store(root: Path, korean: list[str]) -> None:
    """What ecabab1's Store wrote: datasets/<name>/v<N>/*.parquet + manifest.json + LATEST, tables/*/part-*."""
    d = root / "datasets" / "korean_news"
    for n, rows in ((1, korean[:10]), (2, korean[:20])):
        v = d / f"v{n}"
        v.mkdir(parents=True)
        pq.write_table(pa.table({"id": [f"d{i}" for i in range(len(rows))], "text": rows,
                                 "tokens": [t.split()[:5] for t in rows]}), v / "data.parquet")
        pq.write_table(pa.table({"item": ["x"], "reason": ["empty_text"]}), v / "rejects.parquet")
        (v / "index").mkdir()
        (v / "index" / "vocab.json").write_text(json.dumps({"n": n}))
        (v / "manifest.json").write_text(json.dumps({
            "dataset": "korean_news", "version": f"v{n}", "created_at": "2026-01-0%dT00:00:00+00:00" % n,
            "build_seconds": 1.5, "source": "korean_news.tar.gz", "parameters": {"n": n}, "code_version": "0.1.0",
            "tables": {"data": {"file": "data.parquet", "rows": len(rows)}, "rejects": {"file": "rejects.parquet",
                                                                                       "rows": 1}},
            "counts": {"rejected": 1}, "files": {}}))
    (d / ".tmp-dead").mkdir()  # a killed writer's leftover: dropped
    (d / "LATEST").write_text("v2\n")
    t = root / "tables" / "fetch_log"
    t.mkdir(parents=True)
    for i in range(3):
        pq.write_table(pa.table({"url": [f"u{i}"], "n": [i]}), t / f"part-2026010{i}T000000000000-abcd{i}.parquet")
    (root / "catalog.duckdb").write_bytes(b"old catalog")


@pytest.fixture
def korean(shared_data: Path) -> list[str]:
    """Twenty real Korean news bodies (../shared/data/korean_news/articles.jsonl.gz)."""
    import gzip

    texts = []
    with gzip.open(shared_data / "korean_news" / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["body"][:400])
            if len(texts) == 20:
                break
    return texts


def test_old_layout_is_refused_then_migrated(tmp_path: Path, korean: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    _old_store(root, korean)
    store = Store(root)
    with pytest.raises(StoreLayoutError, match="nlpkit data migrate"):
        store.datasets()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NLPKIT_DATA_DIR": str(root), "NLPKIT_NO_PROGRESS": "1"}
    res = subprocess.run([sys.executable, "-m", "nlpkit.cli", "query", "SELECT 1"], env=env, capture_output=True,
                         text=True, cwd=ROOT)
    assert res.returncode == 2 and "nlpkit data migrate" in res.stderr
    cli = cli_invoker(tmp_path, monkeypatch)  # the refusal above is the one that needs a real exit code and stderr
    code, out = cli("data", "migrate")
    assert code == 0, out
    assert [v.version for v in store.versions("korean_news")] == ["v1", "v2"]
    latest = store.latest("korean_news")
    assert latest.manifest["migrated_from"] == "v2" and latest.manifest["parameters"] == {"n": 2}
    assert latest.manifest["counts"] == {"rejected": 1}
    assert store.read("korean_news").column("text").to_pylist() == korean[:20]
    assert store.read("korean_news", version="v1").num_rows == 10
    assert json.loads((latest.path / "index" / "vocab.json").read_text()) == {"n": 2}
    assert store.read_appended("fetch_log").column("n").to_pylist() == [0, 1, 2]
    sandbox = SqlSandbox(store)
    assert sandbox.query("SELECT count(*) FROM korean_news_rejects")[1] == [(1,)]
    assert sandbox.query("SELECT count(*) FROM korean_news__v1")[1] == [(10,)]
    backups = list(root.glob("old-layout-*"))
    assert len(backups) == 1 and (backups[0] / "datasets" / "korean_news" / "LATEST").is_file()
    assert not (root / "catalog.duckdb").exists()
    code, out = cli("data", "migrate")
    assert code == 2 and "nothing to migrate" in out  # once


def test_a_delta_table_being_created_is_not_taken_for_the_old_layout(tmp_path: Path) -> None:
    """delta-rs writes a new table's first data file before its _delta_log: a second process
    looking at that moment must not refuse the store as old-layout (seen with two appenders)."""
    from nlpkit.store.layout import refuse_old_layout

    t = tmp_path / "tables" / "runs"
    t.mkdir(parents=True)
    pq.write_table(pa.table({"n": [1]}), t / "part-00001-0b7c1f7e-2a4d-4c55-9a0e-6f1f2c1d3e4f-c000.zstd.parquet")
    refuse_old_layout(tmp_path)  # no error: a Delta table in the making
    pq.write_table(pa.table({"n": [1]}), t / "part-20260101T000000000000-abcd1234.parquet")
    with pytest.raises(StoreLayoutError, match="nlpkit data migrate"):
        refuse_old_layout(tmp_path)
