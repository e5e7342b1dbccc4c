"""Vocabulary (frequency ranking, specials, JSON) and length-bucketed batches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlpkit.errors import ModelError
from nlpkit.rnn.batching import bucket_batches, pad_batch
from nlpkit.rnn.vocab import SPECIALS, Vocab


def test_import_without_torch_side_effects() -> None:
    code = "import sys, nlpkit.rnn, nlpkit.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_vocab_ranks_by_frequency_with_specials_first(nsmc_rows) -> None:
    docs = [text.split() for text, _ in nsmc_rows]
    v = Vocab.build(docs, min_freq=3, max_size=500)
    assert v.itos[:4] == SPECIALS and len(v) == 500
    counts: dict[str, int] = {}
    for d in docs:
        for t in d:
            counts[t] = counts.get(t, 0) + 1
    kept = v.itos[4:]
    assert all(counts[t] >= 3 for t in kept)
    assert [counts[t] for t in kept] == sorted((counts[t] for t in kept), reverse=True)
    assert v.encode(["영화", "절대없는토큰xyz"], bos=True, eos=True) == [2, v.id("영화"), 1, 3]
    assert v.decode(v.encode(["영화"], bos=True)) == ["영화"]


def test_vocab_json_round_trip_and_errors(tmp_path: Path) -> None:
    v = Vocab.build([list("hello world")], level="char")
    v.save(tmp_path / "vocab.json")
    assert Vocab.load(tmp_path / "vocab.json") == v
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not valid JSON"):
        Vocab.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "x"}), encoding="utf-8")
    with pytest.raises(ModelError, match="not an nlpkit vocabulary"):
        Vocab.load(tmp_path / "other.json")
    with pytest.raises(ModelError, match="min_freq"):
        Vocab.build([["a"]], min_freq=0)
    with pytest.raises(ModelError, match="max_size"):
        Vocab.build([["a"]], max_size=3)
    with pytest.raises(ModelError, match="no token occurs"):
        Vocab.build([["a"]], min_freq=2)
    with pytest.raises(ModelError, match="tokenize the text first"):
        Vocab.build(["a string, not tokens"])


def test_buckets_cover_every_example_once_reproducibly(nsmc_rows) -> None:
    lengths = [len(text) for text, _ in nsmc_rows]
    a = bucket_batches(lengths, 32, seed=1)
    assert sorted(i for b in a for i in b) == list(range(len(lengths)))
    assert a == bucket_batches(lengths, 32, seed=1)
    assert a != bucket_batches(lengths, 32, seed=2)
    assert all(len(b) <= 32 for b in a)


def test_buckets_cut_padding_on_real_lengths(nsmc_rows) -> None:
    import random

    lengths = [len(text) for text, _ in nsmc_rows]

    def padding(batches: list[list[int]]) -> int:
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)

    order = list(range(len(lengths)))
    random.Random(0).shuffle(order)
    naive = [order[i : i + 32] for i in range(0, len(order), 32)]
    assert padding(bucket_batches(lengths, 32, seed=0)) < 0.2 * padding(naive)


def test_pad_batch_shapes_and_errors() -> None:
    x, lengths = pad_batch([[5, 6, 7], [8]])
    assert x.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    with pytest.raises(ModelError, match="at least one token"):
        pad_batch([[1], []])
    with pytest.raises(ModelError, match="batch_size"):
        bucket_batches([1, 2], 0)


def test_split_labelled_holds_out_validation_and_rejects_scores() -> None:
    from nlpkit.errors import DatasetError
    from nlpkit.rnn.data import split_labelled

    texts = [f"text {i}" for i in range(100)] + ["  ", "unsup text"]
    labels = [i % 2 for i in range(100)] + [1, None]
    s = split_labelled(texts, labels, ["train"] * 90 + ["test"] * 10 + ["train", "unsup"], seed=3)
    assert len(s.texts["valid"]) == 9 and len(s.texts["train"]) == 81 and len(s.texts["test"]) == 10
    assert s.label_names == ["0", "1"] and any("held out" in n for n in s.notes) and any("skipped" in n for n in s.notes)
    with pytest.raises(DatasetError, match="real-valued scores"):
        split_labelled(["a", "b"], [0.5, 4.2], ["train", "train"])
    with pytest.raises(DatasetError, match="at least 2 labels"):
        split_labelled(["a", "b"], [1, 1], ["train", "train"])
