"""The Korean news LM learns from the stored kiwi tokens of korean_news (never re-tokenized), writes
readable Korean (morphemes joined back, no tags), resumes, and the topic RNN names its labels."""

from __future__ import annotations

import difflib
import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from nlpkit.errors import ModelError
from nlpkit.rnn.configs import LMSettings, with_overrides
from nlpkit.store import Store

pytest.importorskip("kiwipiepy", reason="the news LM reads kiwi tokens (pip install 'nlpkit[korean]')")

ROOT = Path(__file__).resolve().parents[2]
HANGUL = re.compile(r"[가-힣]")
TAG_LEAK = re.compile(r"/[A-Z]{2,3}\b|▁|<unk>|<eos>")
TINY = with_overrides(LMSettings(level="morph", tokenizer="kiwi"), hidden_size=32, num_layers=1, max_vocab=600,
                      seq_len=16, batch_size=32, epochs=1, lr=1e-2, warmup_steps=5, threads=1, amp=False,
                      device="cpu")


@pytest.fixture(scope="module")
def news_store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Store:
    """korean_news with 10 real articles per topic (80; split 64/8/8), tokenized once by the tokenize stage."""
    from nlpkit.datasets.korean import build_korean_news
    from nlpkit.tokenize.dataset import tokenize_dataset

    root = tmp_path_factory.mktemp("newslm")
    per_label: dict[int, int] = {}
    lines = []
    with gzip.open(shared_data / "korean_news" / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            label = json.loads(line)["label"]
            if per_label.get(label, 0) < 10 and json.loads(line)["body"]:
                per_label[label] = per_label.get(label, 0) + 1
                lines.append(line)
    (root / "articles.jsonl").write_text("".join(lines), encoding="utf-8")
    store = Store(root / "data")
    build_korean_news(store, root / "articles.jsonl")
    tokenize_dataset(store, "korean_news", "kiwi", user_dicts=[str(ROOT / "dictionaries" / "ko" / "news.tsv")])
    return store


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per call into the Kiwi engine (every tokenize path of the backend goes through ``_call``)."""
    from nlpkit.tokenize.kiwi import KiwiTokenizer

    calls: list[int] = []
    original = KiwiTokenizer._call
    monkeypatch.setattr(KiwiTokenizer, "_call", lambda self, chunks: calls.append(len(chunks)) or original(self, chunks))
    return calls


@pytest.fixture(scope="module")
def news_lm(news_store: Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from nlpkit.rnn.news_lm import train_news_lm

    out = tmp_path_factory.mktemp("lm") / "news_lm"
    return out, train_news_lm(news_store, "korean_news", out=out, settings=TINY).metrics


def test_trains_on_stored_tokens_without_calling_the_engine(news_store: Store, engine_calls: list[int],
                                                            tmp_path: Path) -> None:
    from nlpkit.tokenize import get_tokenizer

    get_tokenizer("kiwi").tokenize("정부가 발표했다.")
    assert engine_calls == [1]  # the counter sees the engine
    engine_calls.clear()
    from nlpkit.rnn.news_lm import train_news_lm

    metrics = train_news_lm(news_store, "korean_news", out=tmp_path / "lm", settings=TINY).metrics
    assert engine_calls == []  # every document was stored: nothing is tokenized again
    config = json.loads((tmp_path / "lm" / "config.json").read_text("utf-8"))
    assert config["tokens"]["dataset"] == "tokens_korean_news_kiwi"
    assert config["tokens"]["version"] == news_store.latest("tokens_korean_news_kiwi").version
    assert config["tokens"]["user_dicts"][0].endswith("news.tsv") and config["tokens"]["dict_sha256"]
    assert config["corpus"]["docs"] == {"train": 64, "valid": 8, "test": 8}
    # loss per character, comparable with a char model: tokens x nats/token / characters covered
    chars_per_token = config["corpus"]["chars"]["valid"] / config["valid_tokens"]
    assert metrics["valid_nats_per_char"] == pytest.approx(metrics["valid_loss"] / chars_per_token)
    assert 1.2 < chars_per_token < 2.6
    assert metrics["test_perplexity"] < 600 and 0 < metrics["test_unk_rate"] < 0.5  # beats uniform over 600
    runs = news_store.read_appended("model_runs").to_pylist()
    assert {"valid", "test"} <= {r["split"] for r in runs if r["model_dir"] == str(tmp_path / "lm")}


def test_morphemes_join_back_into_the_source_text(news_store: Store) -> None:
    """The stored tokens, with spacing from their offsets, detokenize to the article as written."""
    from nlpkit.rnn.news_lm import detokenize, doc_units

    news = dict(zip(*news_store.read("korean_news", columns=["id", "text"]).to_pydict().values(), strict=True))
    rows = news_store.read("tokens_korean_news_kiwi", columns=["id", "tokens"]).to_pylist()
    same, ratios = 0, []
    for row in rows:
        units, chars = doc_units(row["tokens"], "morph")
        text = detokenize(units)
        source = " ".join(news[row["id"]].split())
        # every character but the odd one Kiwi leaves out (a lone symbol) is covered by a token
        assert 0.97 * len(source) <= chars <= len(source) and not TAG_LEAK.search(text)
        same += text == source
        ratios.append(difflib.SequenceMatcher(None, text.split(), source.split(), autojunk=False).ratio())
    # Kiwi's join restores contractions (했다) and the spacing; it writes a few in their long form
    # (것이 for 게, 이다 for 다): a quarter of the articles come back exactly, the others word for word but a few
    assert same / len(rows) > 0.15 and min(ratios) > 0.8 and sum(ratios) / len(ratios) > 0.97, (same, min(ratios))


def test_generate_writes_korean_without_tags(news_lm: tuple[Path, dict[str, Any]]) -> None:
    from nlpkit.rnn.news_lm import generate_news

    out, _ = news_lm
    for prompt in ("정부는", "반도체", "서울"):
        text = generate_news(out, prompt, length=40, seed=0, sentences=None)
        assert text.startswith(prompt) and not TAG_LEAK.search(text), text
        letters = [c for c in text if not c.isspace()]
        assert len(HANGUL.findall(text)) > 0.6 * len(letters) and len(text) > 30, text
    assert generate_news(out, "정부는", length=20, seed=3) == generate_news(out, "정부는", length=20, seed=3)
    with pytest.raises(ModelError, match="temperature"):
        generate_news(out, "정부는", temperature=0)


def _hangul_share(text: str) -> float:
    letters = [c for c in text if c.isalnum()]
    return len(HANGUL.findall(text)) / max(1, len(letters))


def test_generate_cli_prints_joined_korean(news_lm: tuple[Path, dict[str, Any]]) -> None:
    from typer.testing import CliRunner

    from nlpkit.cli import app

    out, _ = news_lm
    cmd = ["models", "generate", str(out), "--prompt", "정부는", "--length", "60", "--seed", "1"]
    res = CliRunner().invoke(app, cmd)
    assert res.exit_code == 0, res.output
    assert res.output.startswith("정부는") and not TAG_LEAK.search(res.output)
    assert _hangul_share(res.output) > 0.8 and len(res.output.strip()) > len("정부는"), res.output
    assert CliRunner().invoke(app, cmd).output == res.output  # --seed reproduces
    one = CliRunner().invoke(app, [*cmd[:-2], "--seed", "2", "--sentences", "1", "--top-p", "0.5", "--top-k", "5"])
    assert one.exit_code == 0, one.output
    # one sentence: it ends at its first sentence mark, or runs to --length without one
    body = one.output.strip()
    assert sum(body.count(m) for m in ".?!") <= 1 and (body[-1] in ".?!" or "." not in body), body
    bad = CliRunner().invoke(app, [*cmd, "--top-p", "1.5"])
    assert bad.exit_code == 2 and "top_p must be a number in (0, 1]" in bad.output


def test_char_level_news_lm_from_stored_tokens_generates_korean(news_store: Store, engine_calls: list[int],
                                                                tmp_path: Path) -> None:
    """The character-level candidate reads the same stored tokens (no engine call) and `generate` writes Korean."""
    from typer.testing import CliRunner

    from nlpkit.cli import app
    from nlpkit.rnn.news_lm import train_news_lm

    out = tmp_path / "char_lm"
    metrics = train_news_lm(news_store, "korean_news", out=out,
                            settings=with_overrides(TINY, level="char", seq_len=32, max_vocab=None)).metrics
    assert engine_calls == [] and metrics["level"] == "char" and metrics["test_nats_per_char"] > 0
    res = CliRunner().invoke(app, ["models", "generate", str(out), "--prompt", "정부는", "--length", "80",
                                   "--seed", "0", "--top-k", "20", "--top-p", "0.9", "--sentences", "1"])
    assert res.exit_code == 0, res.output
    text = res.output.strip()
    assert text.startswith("정부는") and _hangul_share(text) > 0.8 and "<unk>" not in text, text


def test_resumes_from_the_checkpoint(news_store: Store, news_lm: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    import shutil

    from nlpkit.rnn.news_lm import train_news_lm

    out, first = news_lm
    again = tmp_path / "resumed"
    shutil.copytree(out, again)
    metrics = train_news_lm(news_store, "korean_news", out=again, settings=with_overrides(TINY, epochs=2),
                            resume=True).metrics
    assert first["epochs"] == 1 and metrics["epochs"] == 2
    assert [h["epoch"] for h in metrics["history"] if h["split"] == "valid"] == [1, 2]
    assert metrics["valid_loss"] <= first["valid_loss"] + 1e-6


def test_morph_level_needs_a_tokenizer_and_a_split(news_store: Store, tmp_path: Path) -> None:
    import pyarrow as pa

    from nlpkit.errors import DatasetError
    from nlpkit.rnn.news_lm import train_news_lm

    with pytest.raises(ModelError, match="--tokenizer kiwi"):
        LMSettings(level="morph")
    with news_store.write_version("no_split", source="test") as w:
        w.write(pa.Table.from_pylist([{"id": "a", "text": "정부가 발표했다."}]))
    with pytest.raises(DatasetError, match="'split'"):
        train_news_lm(news_store, "no_split", out=tmp_path / "x", settings=TINY)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="가나다/▁ab", min_size=1, max_size=4),
                          st.sampled_from(["NNG", "JKS", "SF", "SP"]), st.booleans()), max_size=8))
def test_morph_tokens_round_trip(morphs: list[tuple[str, str, bool]]) -> None:
    from nlpkit.rnn.news_lm import morph_token, split_morph

    for form, tag, spaced in morphs:
        if form.startswith("▁"):
            continue  # a form never starts with the space mark (whitespace is never a morpheme)
        assert split_morph(morph_token(form, tag, spaced)) == (form, tag, spaced)


def test_topic_rnn_predictions_carry_label_names(news_store: Store, tmp_path: Path) -> None:
    from nlpkit.datasets.registry import BUILDERS
    from nlpkit.rnn.classify import train_classifier
    from nlpkit.rnn.data import load_labelled
    from nlpkit.rnn.train_loop import TrainOptions
    from nlpkit.topics import load_topic_classifier

    names = BUILDERS["korean_news"].label_names
    splits = load_labelled(news_store, "korean_news", label_names=names)
    assert splits.label_names == [names[i] for i in range(8)]
    out = tmp_path / "news_rnn"
    result = train_classifier(splits, out=out, tokenizer="kiwi", embed_dim=16, hidden_size=16, max_len=64,
                              view="content", head_fraction=0.75, source="korean_news", store=news_store,
                              opts=TrainOptions(epochs=1, batch_size=16, warmup_steps=2, threads=1, amp=False))
    config = json.loads((out / "config.json").read_text("utf-8"))
    assert config["labels"] == splits.label_names and (config["view"], config["head_fraction"]) == ("content", 0.75)
    assert splits.tokens is not None and "는" not in {t for doc in splits.tokens["train"] for t in doc}  # no particles
    runs = [r for r in news_store.read_appended("model_runs").to_pylist() if r["model_dir"] == str(out)]
    assert runs and result.metrics["test_n"] == 8
    clf = load_topic_classifier(news_store, str(out))
    preds = clf.predict(["삼성전자 반도체 수출이 늘면서 코스피 지수가 상승했다.", "손흥민이 결승골을 넣었다."])
    assert all(p.name in set(names.values()) and names[p.label] == p.name for p in preds), preds


@pytest.mark.timeout(300)
def test_flow_trains_the_news_lm_from_stored_tokens(prefect_harness: None, news_store: Store, tmp_path: Path,
                                                    engine_calls: list[int]) -> None:
    """flows.yaml's train-lm-korean-news: the same library call as `nlpkit train lm --tokenizer kiwi`."""
    import shutil

    from pipelines.train import train_lm_flow

    data_dir = tmp_path / "data"
    shutil.copytree(news_store.root / "datasets", data_dir / "datasets")
    metrics = train_lm_flow(dataset="korean_news", tokenizer="kiwi", level="morph", out=str(tmp_path / "news_lm"),
                            hidden_size=16, num_layers=1, max_vocab=300, seq_len=16, batch_size=32, epochs=1,
                            threads=1, device="cpu", data_dir=str(data_dir))
    assert engine_calls == [] and metrics["level"] == "morph" and metrics["test_nats_per_char"] > 0
    config = json.loads((tmp_path / "news_lm" / "config.json").read_text("utf-8"))
    assert config["model"]["vocab_size"] == 300 and config["tokens"]["dataset"] == "tokens_korean_news_kiwi"
