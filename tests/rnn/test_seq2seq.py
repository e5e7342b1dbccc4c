"""Seq2seq on synthetic addition: data, teacher forcing, greedy decoding, the reversed+peeky gain."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nlpkit.errors import ModelError
from nlpkit.rnn.seq2seq import AdditionTask, Seq2Seq, Seq2SeqConfig, addition_vocab, make_addition_data
from nlpkit.rnn.seq2seq_train import answer, evaluate_seq2seq, train_seq2seq
from nlpkit.rnn.train_loop import TrainOptions


def test_addition_data_is_fixed_width_correct_and_disjoint() -> None:
    task = AdditionTask(max_digits=3)
    test = make_addition_data(200, task, seed=1)
    train = make_addition_data(2000, task, seed=0, exclude={q.strip() for q, _ in test})
    assert all(len(q) == 7 and len(a) == 4 for q, a in train + test)
    assert all(int(a) == sum(int(x) for x in q.split("+")) for q, a in train)
    assert not {q for q, _ in train} & {q for q, _ in test}
    assert make_addition_data(50, task, seed=0) == make_addition_data(50, task, seed=0)
    with pytest.raises(ModelError, match="only 100 distinct problems"):
        make_addition_data(101, AdditionTask(max_digits=1), seed=0)


@pytest.mark.parametrize(("reverse", "peeky"), [(False, False), (True, False), (True, True)])
def test_shapes_and_gradients(reverse: bool, peeky: bool) -> None:
    v = addition_vocab()
    model = Seq2Seq(Seq2SeqConfig(vocab_size=len(v), hidden_size=16, reverse=reverse, peeky=peeky))
    src = torch.tensor([v.encode("12+345 ")] * 2)
    tgt = torch.tensor([v.encode("357 ", bos=True)] * 2)
    logits = model(src, tgt[:, :-1])
    assert logits.shape == (2, 4, len(v))
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert model.greedy(src, 4, v.bos_id).shape == (2, 4)


def test_reversed_peeky_learns_two_digit_addition(tmp_path: Path) -> None:
    res = train_seq2seq(out=tmp_path / "rp", max_digits=2, reverse=True, peeky=True, n_train=4000, n_test=500,
                        opts=TrainOptions(epochs=15, batch_size=64, lr=1e-2, warmup_steps=20, patience=10, threads=1))
    assert res.metrics["test_exact_match"] >= 0.85  # ~0.97 measured; plain seq2seq reaches ~0.45 in the same budget
    assert evaluate_seq2seq(tmp_path / "rp", device="cpu")["exact_match"] == pytest.approx(
        res.metrics["test_exact_match"])
    assert answer(tmp_path / "rp", "12+7") == "19" or res.metrics["test_exact_match"] < 1
    with pytest.raises(ModelError, match="must look like '57\\+8'"):
        answer(tmp_path / "rp", "12*7")
    with pytest.raises(ModelError, match="unknown seq2seq task"):
        train_seq2seq(out=tmp_path / "x", task="copy")


def test_a_killed_run_resumes_from_its_last_epoch(tmp_path: Path) -> None:
    """Each epoch is checkpointed, so a run stopped early (here: by its epoch budget) continues."""
    small = dict(max_digits=1, n_train=80, n_test=20, hidden_size=16, embed_dim=8)
    first = train_seq2seq(out=tmp_path / "s2s", opts=TrainOptions(epochs=2, batch_size=16, threads=1), **small)
    assert first.metrics["epochs"] == 2
    more = train_seq2seq(out=tmp_path / "s2s", resume=True, opts=TrainOptions(epochs=3, batch_size=16, threads=1),
                         **small)
    assert more.metrics["epochs"] == 3  # one more epoch, not three from scratch
    valid_rows = [h for h in more.metrics["history"] if h["split"] == "valid"]
    assert [h["epoch"] for h in valid_rows] == [1, 2, 3]
