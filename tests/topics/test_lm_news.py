"""lm_korean_news: sentences of the store's Korean news, split by document; a tiny char LM learns from it."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from nlpkit.datasets.lm_news import LM_CHARSET, doc_split, news_sentences
from nlpkit.datasets.registry import rebuild
from nlpkit.errors import ConfigError, DatasetNotFoundError
from nlpkit.news.newsstore import ARTICLE_SCHEMA
from nlpkit.store import Store

ALLOWED = re.compile(r"[가-힣0-9" + re.escape(LM_CHARSET) + r"]")


@pytest.fixture(scope="module")
def lm_store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Store:
    from nlpkit.datasets.korean import build_korean_news

    store = Store(tmp_path_factory.mktemp("lm") / "data")
    build_korean_news(store, shared_data / "korean_news" / "articles.jsonl.gz")
    rebuild(store, "lm_korean_news")
    return store


def test_splits_are_disjoint_by_document(lm_store: Store) -> None:
    rows = lm_store.read("lm_korean_news").to_pylist()
    by_doc: dict[str, set[str]] = {}
    for r in rows:
        by_doc.setdefault(r["doc"], set()).add(r["split"])
    assert all(len(s) == 1 for s in by_doc.values())  # every sentence of a document in one split
    docs = {sp: {d for d, s in by_doc.items() if sp in s} for sp in ("train", "valid", "test")}
    assert not (docs["train"] & docs["valid"] or docs["train"] & docs["test"] or docs["valid"] & docs["test"])
    n = len(by_doc)
    assert n > 1500 and 0.75 < len(docs["train"]) / n < 0.85 and 0.06 < len(docs["test"]) / n < 0.14
    assert all(ALLOWED.fullmatch(ch) for r in rows[:3000] for ch in r["text"])
    assert [r["line"] for r in sorted(rows, key=lambda r: r["line"])] == list(range(1, len(rows) + 1))
    m = lm_store.latest("lm_korean_news").manifest
    assert m["counts"]["rejected"] > 0 and m["parameters"]["documents"] == n


def test_korean_articles_join_and_old_documents_keep_their_split(lm_store: Store, tmp_path: Path) -> None:
    import shutil

    store = Store(tmp_path / "data")
    shutil.copytree(lm_store.root / "datasets", store.root / "datasets")
    before = {r["doc"]: r["split"] for r in store.read("lm_korean_news", columns=["doc", "split"]).to_pylist()}
    rows = [{n: None for n in ARTICLE_SCHEMA.names} | {"canonical_url": u, "body": b, "language": lang}
            for u, b, lang in [("https://x.kr/1", "정부가 새 정책을 발표했다. 시장은 환영했다.", "ko"),
                               ("https://x.com/2", "The government announced a policy.", "en")]]
    store.append("articles", pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA))
    rebuild(store, "lm_korean_news")
    after = store.read("lm_korean_news", columns=["doc", "split", "text"]).to_pylist()
    assert {r["doc"]: r["split"] for r in after if r["doc"] in before} == before
    added = [r for r in after if r["doc"].startswith("article:")]
    assert [r["text"] for r in added] == ["정부가 새 정책을 발표했다.", "시장은 환영했다."]
    assert {r["split"] for r in added} == {doc_split("article:https://x.kr/1", 13)}


def test_builder_needs_the_corpus_and_no_source(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="rebuild korean_news"):
        rebuild(Store(tmp_path / "data"), "lm_korean_news")
    with pytest.raises(ConfigError, match="without --source"):
        rebuild(Store(tmp_path / "data"), "lm_korean_news", "/tmp/x.txt")


def test_dateline_and_asides_are_removed() -> None:
    body = "(서울=연합뉴스) 김진방 특파원 = 최 부상이 베이징 서우두(首都) 공항에 도착했다.\n\n“좋다”고 말했다. LG전자는 빠졌다."
    assert list(news_sentences(body)) == [("최 부상이 베이징 서우두 공항에 도착했다.", True),
                                          ('"좋다"고 말했다.', True), ("LG전자는 빠졌다.", False)]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("가나다라한국어 .,?!()[]=\n\xa0“”abcXYZ@1中")), max_size=200))
def test_kept_sentences_hold_only_the_charset(body: str) -> None:
    for sentence, kept in news_sentences(body):
        assert sentence == sentence.strip() and "  " not in sentence and "\n" not in sentence
        if kept:
            assert all(ALLOWED.fullmatch(ch) for ch in sentence)


def test_tiny_char_lm_generates_hangul_and_beats_uniform(lm_store: Store, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A few seconds of training through `nlpkit train lm`: valid loss < log(V), samples from the charset."""
    import yaml

    from nlpkit.cli import _common, app

    flows = tmp_path / "flows.yaml"
    flows.write_text(yaml.safe_dump({"data_dir": str(lm_store.root)}))
    monkeypatch.setenv("NLPKIT_FLOWS", str(flows))
    monkeypatch.delenv("NLPKIT_DATA_DIR", raising=False)
    _common._state.clear()
    out = tmp_path / "lm"
    runner = CliRunner()
    res = runner.invoke(app, ["train", "lm", "--dataset", "lm_korean_news", "--level", "char", "--out", str(out),
                              "--hidden-size", "64", "--layers", "1", "--seq-len", "32", "--batch-size", "32",
                              "--max-minutes", "0.3", "--epochs", "1", "--lr", "0.01", "--threads", "1", "--no-amp"])
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text("utf-8"))
    vocab = json.loads((out / "vocab.json").read_text("utf-8"))
    tokens = vocab["itos"]
    loss = metrics["valid_loss"]  # nats/char on the held-out documents
    assert loss < math.log(len(tokens)) - 0.3, (loss, len(tokens))
    res = runner.invoke(app, ["models", "generate", str(out), "--prompt", "정부는", "--temperature", "0.7", "--length", "200",
                              "--seed", "1"])
    assert res.exit_code == 0, res.output
    text = res.output.rstrip("\n")
    assert text.startswith("정부는") and len(text) > 150
    chars = set(text) - {"\n"}
    assert chars <= set(tokens) | {"\n"} and all(ALLOWED.fullmatch(ch) for ch in chars), chars
    hangul = [ch for ch in text if "가" <= ch <= "힣"]
    assert len(set(hangul)) >= 30 and len(hangul) > len(text) / 3  # a seconds-old model still over-uses spaces
