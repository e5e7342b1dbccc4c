"""Every trainer resumes: a run killed after its first epoch and resumed ends where an
uninterrupted run ends (same weights and validation score, dropout off so both are exact)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nlpkit.rnn.train_loop import TrainOptions

torch = pytest.importorskip("torch")


class Killed(Exception):
    """Stands in for SIGKILL: training stops mid-epoch with only the last epoch's checkpoint on disk."""


def _killer(after_step: int):
    def hook(ev: Any) -> None:
        if ev.step > after_step:
            raise Killed(ev.step)

    return hook


def _weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def _same_run(train: Any, tmp_path: Path, steps_per_epoch: int, monitor: str) -> None:
    full = train(out=tmp_path / "full")
    with pytest.raises(Killed):
        train(out=tmp_path / "resumed", on_progress=_killer(steps_per_epoch + 2))
    # the checkpoint of epoch 1 is all that survives; --resume continues from it
    resumed = train(out=tmp_path / "resumed", resume=True)
    assert resumed.metrics["steps"] == full.metrics["steps"] and resumed.metrics["epochs"] == full.metrics["epochs"]
    assert resumed.metrics[monitor] == pytest.approx(full.metrics[monitor], abs=1e-5)
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=1e-4)
    splits = [h["split"] for h in resumed.metrics["history"]]
    assert splits.count("valid") == 2  # epoch 1 from the checkpoint, epoch 2 after resuming


def test_classifier_resumes_to_the_uninterrupted_result(nsmc_splits: Any, tmp_path: Path) -> None:
    from nlpkit.rnn.classify import train_classifier
    from nlpkit.rnn.data import LabelledSplits

    small = LabelledSplits({sp: t[:400] for sp, t in nsmc_splits.texts.items()},
                           {sp: y[:400] for sp, y in nsmc_splits.labels.items()}, nsmc_splits.label_names, [])
    opts = TrainOptions(epochs=2, batch_size=64, lr=5e-3, warmup_steps=2, threads=1, amp=False)

    def train(**kw: Any) -> Any:
        return train_classifier(small, tokenizer="chars", arch="gru", embed_dim=16, hidden_size=16, dropout=0.0,
                                max_len=60, opts=opts, **kw)

    _same_run(train, tmp_path, steps_per_epoch=7, monitor="test_accuracy")


def test_lm_resumes_to_the_uninterrupted_result(shakespeare: str, tmp_path: Path) -> None:
    from nlpkit.rnn.lm_train import train_lm

    opts = TrainOptions(epochs=2, batch_size=8, lr=1e-2, warmup_steps=2, threads=1, amp=False)

    def train(**kw: Any) -> Any:
        return train_lm(shakespeare[:12_000], shakespeare[-3_000:], hidden_size=32, num_layers=1, dropout=0.0,
                        seq_len=32, opts=opts, **kw)

    _same_run(train, tmp_path, steps_per_epoch=47, monitor="valid_loss")


def test_seq2seq_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    from nlpkit.rnn.seq2seq_train import train_seq2seq

    opts = TrainOptions(epochs=2, batch_size=64, lr=5e-3, warmup_steps=2, threads=1, amp=False)

    def train(**kw: Any) -> Any:
        return train_seq2seq(max_digits=2, n_train=900, n_test=100, hidden_size=32, opts=opts, **kw)

    _same_run(train, tmp_path, steps_per_epoch=13, monitor="test_exact_match")
