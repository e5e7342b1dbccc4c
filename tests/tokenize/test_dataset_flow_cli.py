"""Tokens datasets (incremental), the tokenize flow and the CLI, on real Korean news articles."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nlpkit.store import Store
from nlpkit.tokenize import DEFAULT_KO_DICT, get_tokenizer, tokenize_dataset


def _write_news(store: Store, articles: list[dict], n: int, edit: int = 0, extra: list[dict] | None = None) -> None:
    rows = [{"id": a["id"], "text": a["body"] + (" 수정된 문장." if i < edit else "")} for i, a in enumerate(articles[:n])]
    with store.write_version("news") as w:
        w.write(pa.Table.from_pylist(rows + (extra or []), schema=pa.schema([("id", pa.string()), ("text", pa.string())])))


def test_tokenize_dataset_is_incremental(store: Store, news_articles):
    _write_news(store, news_articles, 40, extra=[{"id": "empty", "text": None}])
    first = tokenize_dataset(store, "news", "kiwi", user_dicts=[DEFAULT_KO_DICT])
    assert (first.out_name, first.version, first.tokenized, first.rejected) == ("tokens_news_kiwi", "v1", 40, 1)
    table = store.read("tokens_news_kiwi")
    tok = get_tokenizer("kiwi", user_dicts=[str(DEFAULT_KO_DICT)])
    row = table.slice(0, 1).to_pylist()[0]
    body = news_articles[0]["body"]
    assert [t["form"] for t in row["tokens"]] == [t.form for t in tok.tokenize(body)]
    assert all(body[t["start"]:t["end"]] == t["form"] for t in row["tokens"] if t["ptag"] in ("NOUN", "PROPN"))
    manifest = store.latest("tokens_news_kiwi").manifest
    assert manifest["parameters"]["dict_sha256"] == tok.dict_sha256 and len(tok.dict_sha256) == 64
    assert store.read("tokens_news_kiwi", "rejects").to_pylist()[0]["reason"] == "no_text"

    again = tokenize_dataset(store, "news", "kiwi", user_dicts=[DEFAULT_KO_DICT])
    assert not again.written and again.version == "v1" and again.reused == 40

    _write_news(store, news_articles, 35, edit=3)  # 3 changed, 5 gone
    third = tokenize_dataset(store, "news", "kiwi", user_dicts=[DEFAULT_KO_DICT])
    assert (third.version, third.tokenized, third.reused, third.dropped) == ("v2", 3, 32, 8)
    assert store.read("tokens_news_kiwi").num_rows == 35

    plain = tokenize_dataset(store, "news", "kiwi")  # no dictionary: another fingerprint, all again
    assert plain.tokenized == 35 and plain.fingerprint != third.fingerprint


def test_tokenize_dataset_names_a_missing_column(store: Store, news_articles):
    _write_news(store, news_articles, 3)
    from nlpkit.errors import DatasetError

    with pytest.raises(DatasetError, match=r"no column\(s\) \['body'\]; columns: id, text"):
        tokenize_dataset(store, "news", "kiwi", text_column="body")


@pytest.mark.timeout(300)
def test_tokenize_flow_fans_out_batches(prefect_harness: None, tmp_path: Path, news_articles):
    from pipelines.tokenize import tokenize_flow

    data_dir = tmp_path / "data"
    _write_news(Store(data_dir), news_articles, 30)
    result = tokenize_flow(dataset="news", tokenizer="komoran", user_dicts=[str(DEFAULT_KO_DICT)], batch_size=7,
                           data_dir=str(data_dir))
    assert result["written"] and result["tokenized"] == 30 and result["dataset"] == "tokens_news_komoran"
    ids = Store(data_dir).read("tokens_news_komoran").column("id").to_pylist()
    assert ids == [a["id"] for a in news_articles[:30]]
    again = tokenize_flow(dataset="news", tokenizer="komoran", user_dicts=[str(DEFAULT_KO_DICT)],
                          data_dir=str(data_dir))
    assert not again["written"] and again["reused"] == 30


def test_cli_tokenize_json_and_parquet(tmp_path: Path, news_sentences, monkeypatch):
    from nlpkit.cli import app

    monkeypatch.setenv("NLPKIT_NO_PROGRESS", "1")
    runner = CliRunner()
    res = runner.invoke(app, ["tokens", "text", "--tokenizer", "komoran", "--dict", str(DEFAULT_KO_DICT), "--json",
                              "오징어 게임이 흥행했다", news_sentences[0]])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.strip().splitlines()]
    assert len(lines) == 2
    assert lines[0]["tokens"][0] == {"form": "오징어 게임", "tag": "NNP", "start": 0, "end": 6}

    src = tmp_path / "in.txt"
    src.write_text("\n".join(news_sentences[:10]) + "\n\n", encoding="utf-8")
    out = tmp_path / "tokens.parquet"
    res = runner.invoke(app, ["tokens", "text", "--tokenizer", "okt", "-o", "norm=true", "--input", str(src),
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pq.read_table(out)
    assert table.num_rows == 11 and table.column("tokens")[10].as_py() == []
    assert b"nlpkit.fingerprint" in table.schema.metadata

    res = runner.invoke(app, ["tokens", "text", "--tokenizer", "nope", "문장"])
    assert res.exit_code == 2 and "choose one of" in res.output
    res = runner.invoke(app, ["tokens", "text", "--dict", str(tmp_path / "missing.tsv"), "문장"])
    assert res.exit_code == 2 and "no such file" in res.output


def test_okt_with_a_user_dictionary_builds_and_reuses_its_tokens(store: Store, news_articles):
    # Okt's dictionary nouns go into its JVM, which changed its fingerprint between planning and the
    # first batch: every okt+dictionary build failed with "tokenizer fingerprint changed during the run"
    _write_news(store, news_articles, 6)
    first = tokenize_dataset(store, "news", "okt", user_dicts=[DEFAULT_KO_DICT])
    assert (first.version, first.tokenized, first.rejected) == ("v1", 6, 0)
    forms = [t["form"] for t in store.read("tokens_news_okt").to_pylist()[0]["tokens"]]
    assert forms == [t.form for t in get_tokenizer("okt", user_dicts=[str(DEFAULT_KO_DICT)]).tokenize(news_articles[0]["body"])]
    again = tokenize_dataset(store, "news", "okt", user_dicts=[DEFAULT_KO_DICT])
    assert not again.written and again.reused == 6 and again.fingerprint == first.fingerprint
