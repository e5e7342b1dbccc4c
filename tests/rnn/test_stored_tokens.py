"""The RNN classifier reads the tokens the tokenize stage stored (with the user dictionary):
the engine is never called again for a stored corpus, dictionary terms reach the vocabulary
as one token, and ``predict`` tokenizes new text with the same backend and dictionary."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from nlpkit.errors import ModelError
from nlpkit.rnn.train_loop import TrainOptions

pytest.importorskip("torch")
pytest.importorskip("mecab_ko", reason="the mecab backend (mecab-ko) is not installed")

ROOT = Path(__file__).resolve().parents[2]
TERM = "코로나바이러스감염증"  # in dictionaries/ko/news.tsv; plain mecab: 코로나 / 바이러스 / 감염증


@pytest.fixture
def news_dict(tmp_path: Path) -> Path:
    path = tmp_path / "news.tsv"
    shutil.copy(ROOT / "dictionaries" / "ko" / "news.tsv", path)
    return path


@pytest.fixture
def labelled(store: Any, nsmc_rows: list[tuple[str, str]]) -> str:
    """A small labelled store dataset (id, text, label, split) of real reviews, some naming TERM."""
    rows, rng = [], random.Random(0)
    for i, (text, label) in enumerate(nsmc_rows[:360]):
        if i % 12 == 0:
            text = f"{TERM} 때문에 극장에 못 갔는데 {text}"
        r = rng.random()
        rows.append({"id": f"r{i}", "text": text, "label": int(label),
                     "split": "train" if r < 0.75 else "valid" if r < 0.88 else "test"})
    with store.write_version("reviews", source="test") as w:
        w.write(pa.Table.from_pylist(rows))
    return "reviews"


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts every call into the tokenizer layer's mecab backend (batch, single text, engine)."""
    from nlpkit.tokenize.mecab import MecabTokenizer

    calls = {"n": 0}
    for name in ("tokenize", "tokenize_batch", "_analyze"):
        original = getattr(MecabTokenizer, name)

        def counted(self: Any, *a: Any, _original: Any = original, **kw: Any) -> Any:
            calls["n"] += 1
            return _original(self, *a, **kw)

        monkeypatch.setattr(MecabTokenizer, name, counted)
    return calls


def _train(store: Any, dataset: str, out: Path, news_dict: Path | None, token_format: str = "form") -> Any:
    from nlpkit.rnn.classify import train_classifier
    from nlpkit.rnn.data import load_labelled

    splits = load_labelled(store, dataset)
    dicts = (str(news_dict),) if news_dict is not None else ()
    return train_classifier(splits, out=out, tokenizer="mecab", user_dicts=dicts, token_format=token_format, embed_dim=16,
                            hidden_size=16, max_len=60, source=dataset, store=store,
                            opts=TrainOptions(epochs=1, batch_size=32, warmup_steps=2, threads=1, amp=False))


def test_training_on_stored_tokens_never_calls_the_engine(store: Any, labelled: str, news_dict: Path,
                                                          engine_calls: dict[str, int], tmp_path: Path) -> None:
    from nlpkit.tokenize.dataset import tokenize_dataset

    tokenize_dataset(store, labelled, "mecab", user_dicts=[str(news_dict)])  # the tokenize stage
    assert engine_calls["n"] > 0  # the counter sees the engine
    engine_calls["n"] = 0
    result = _train(store, labelled, tmp_path / "m", news_dict)
    assert engine_calls["n"] == 0
    config = __import__("json").loads((result.model_dir / "config.json").read_text(encoding="utf-8"))
    tokens = config["tokens"]
    info = store.latest("tokens_reviews_mecab")
    assert (tokens["dataset"], tokens["version"]) == ("tokens_reviews_mecab", info.version)
    assert len(tokens["dict_sha256"]) == 64 and tokens["user_dicts"] == [str(news_dict.resolve())]


def test_without_dictionaries_given_the_stored_spec_is_used(store: Any, labelled: str, news_dict: Path,
                                                            engine_calls: dict[str, int], tmp_path: Path) -> None:
    from nlpkit.rnn.classify import load_classifier
    from nlpkit.tokenize.dataset import tokenize_dataset

    tokenize_dataset(store, labelled, "mecab", user_dicts=[str(news_dict)])
    engine_calls["n"] = 0
    result = _train(store, labelled, tmp_path / "m", None)  # no --dict: the tokenize stage's dictionary
    assert engine_calls["n"] == 0
    _, config, vocab = load_classifier(result.model_dir)
    assert TERM in vocab and config["tokens"]["user_dicts"] == [str(news_dict.resolve())]


def test_missing_tokens_dataset_is_built_once_then_reused(store: Any, labelled: str, news_dict: Path,
                                                          engine_calls: dict[str, int], tmp_path: Path) -> None:
    _train(store, labelled, tmp_path / "a", news_dict)
    assert engine_calls["n"] > 0 and store.latest("tokens_reviews_mecab") is not None
    engine_calls["n"] = 0
    _train(store, labelled, tmp_path / "b", news_dict)
    assert engine_calls["n"] == 0


def test_dictionary_term_is_one_token_and_predict_uses_the_same_dictionary(
        store: Any, labelled: str, news_dict: Path, tmp_path: Path) -> None:
    from nlpkit.rnn import predict
    from nlpkit.rnn.classify import load_classifier

    result = _train(store, labelled, tmp_path / "m", news_dict)
    _, _, vocab = load_classifier(result.model_dir)
    assert TERM in vocab and "감염증" not in vocab  # one token, never split into the plain tagger's pieces
    pred = predict(result.model_dir, [f"{TERM} 뉴스만 보다가 본 영화인데 최고"])[0]
    assert pred.name in ("0", "1") and pred.label in (0, 1)
    assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    # an edited dictionary would tokenize differently: predict refuses instead of guessing
    news_dict.write_text(news_dict.read_text(encoding="utf-8") + "극장판\tNNP\n", encoding="utf-8")
    with pytest.raises(ModelError, match="changed since the model was trained"):
        predict(result.model_dir, ["다시 본 영화"])


def test_form_tag_units_keep_the_dictionary_term_and_predict_tags_alike(
        store: Any, labelled: str, news_dict: Path, engine_calls: dict[str, int], tmp_path: Path) -> None:
    """``form_tag`` units (``좋/VA``) come from the stored tokens too: the term is one tagged unit."""
    from nlpkit.rnn import predict
    from nlpkit.rnn.classify import load_classifier
    from nlpkit.tokenize import get_tokenizer
    from nlpkit.tokenize.dataset import tokenize_dataset

    assert len(get_tokenizer("mecab").tokenize(TERM)) > 1  # the engine alone splits the compound
    tokenize_dataset(store, labelled, "mecab", user_dicts=[str(news_dict)])
    engine_calls["n"] = 0
    result = _train(store, labelled, tmp_path / "m", news_dict, token_format="form_tag")
    assert engine_calls["n"] == 0  # the tags were stored: nothing re-analysed
    _, config, vocab = load_classifier(result.model_dir)
    assert f"{TERM}/NNP" in vocab and TERM not in vocab and not any(t.startswith("감염증/") for t in vocab.itos)
    assert all("/" in t for t in vocab.itos if not t.startswith("<"))
    assert config["tokens"]["token_format"] == "form_tag"
    # predict builds the same units: the term in a new text is a known unit
    from nlpkit.rnn.classify import model_tokenizer

    units = model_tokenizer(config)([f"{TERM} 때문에 못 봤다"])[0]
    assert units[0] == f"{TERM}/NNP"
    assert predict(result.model_dir, [f"{TERM} 뉴스만 보다가 본 영화인데 최고"])[0].label in (0, 1)


@pytest.mark.parametrize("fmt", ["lemma", "form/tag", ""])
def test_bad_token_format_is_one_clear_error(nsmc_splits: Any, fmt: str, tmp_path: Path) -> None:
    from nlpkit.rnn.classify import train_classifier

    with pytest.raises(ModelError, match="token_format must be one of form, form_tag"):
        train_classifier(nsmc_splits, out=tmp_path / "m", tokenizer="chars", token_format=fmt,
                         opts=TrainOptions(epochs=1, threads=1))
    assert not (tmp_path / "m").exists()


def test_labelled_rows_keep_ids_and_names_come_from_the_caller(store: Any, labelled: str) -> None:
    from nlpkit.rnn.data import load_labelled

    plain = load_labelled(store, labelled)
    named = load_labelled(store, labelled, label_names={0: "negative", 1: "positive"})
    assert plain.label_names == ["0", "1"] and named.label_names == ["negative", "positive"]
    assert plain.ids["train"][:1] and all(i.startswith("r") for sp in plain.ids.values() for i in sp)
    assert sum(map(len, plain.ids.values())) == sum(map(len, plain.texts.values()))
