"""`nlpkit import`: local corpora become versioned datasets, bad rows become rejects."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.errors import SourceError
from nlpkit.store import Catalog, Store


def test_nsmc_zip_tsv(store: Store, shared_data: Path) -> None:
    info = import_corpus(store, "nsmc", shared_data / "nsmc" / "ratings_test.zip",
                         ImportOptions(text_col="document", label_col="label", id_col="id", quoting=False))
    counts = info.manifest["counts"]
    assert counts["read"] == 50_000
    assert counts["kept"] + counts["rejected"] == 50_000
    assert counts["rejected"] >= 1  # the real file has empty reviews
    cols, rows = Catalog(store).query("SELECT DISTINCT reason FROM nsmc_rejects")
    assert rows == [("empty_text",)]
    cols, rows = Catalog(store).query("SELECT count(DISTINCT id), count(*) FROM nsmc")
    assert rows[0][0] == rows[0][1] == counts["kept"]


def test_korean_news_jsonl_gz(store: Store, shared_data: Path) -> None:
    info = import_corpus(store, "korean_news", shared_data / "korean_news" / "articles.jsonl.gz",
                         ImportOptions(text_col="body", title_col="title", label_col="category", id_col="id"))
    t = store.read("korean_news")
    assert {"id", "text", "title", "label"} <= set(t.column_names)
    assert info.rows >= 1500
    assert len(set(t.column("label").to_pylist())) == 8


def test_korsts_no_quoting(store: Store, shared_data: Path) -> None:
    info = import_corpus(store, "korsts", shared_data / "kornlu" / "KorSTS" / "sts-test.tsv",
                         ImportOptions(text_col="sentence1", quoting=False))
    assert info.rows > 1000
    assert "sentence2" in store.read("korsts").column_names


def test_rejects_and_missing_column(store: Store, tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl.gz"
    rows = [{"k": "1", "t": "good"}, {"k": "2", "t": "  "}, {"k": "1", "t": "dupe id"}, {"k": "3", "t": "ok"}]
    p.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    info = import_corpus(store, "mine", p, ImportOptions(text_col="t", id_col="k"))
    assert info.rows == 2
    reasons = sorted(store.read("mine", "rejects").column("reason").to_pylist())
    assert reasons == ["duplicate_id", "empty_text"]
    with pytest.raises(SourceError, match=r"--text-col 'body' is not a column; columns: k, t"):
        import_corpus(store, "mine", p, ImportOptions(text_col="body"))


def test_non_utf8_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    p = tmp_path / "k.csv"
    p.write_bytes("text\n한국어\n".encode("euc-kr"))
    with pytest.raises(SourceError, match="not UTF-8"):
        import_corpus(store, "k", p)
