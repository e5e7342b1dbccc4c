"""Device selection, training options, LR schedule and the time budget."""

from __future__ import annotations

import contextlib

import pytest
import torch

from nlpkit.errors import ModelError
from nlpkit.rnn.device import cpu_has_bf16, resolve_runtime
from nlpkit.rnn.train_loop import TrainOptions, lr_factor


def test_cpu_runtime_uses_bf16_only_where_the_cpu_has_it() -> None:
    rt = resolve_runtime("cpu", amp=True, compile=True)
    assert rt.device.type == "cpu" and rt.scaler is None and not rt.compile
    assert rt.amp_dtype == (torch.bfloat16 if cpu_has_bf16() else None)
    assert isinstance(rt.autocast(training=False), contextlib.nullcontext)  # CPU evaluation: float32
    off = resolve_runtime("cpu", amp=False)
    assert off.amp_dtype is None and isinstance(off.autocast(), contextlib.nullcontext)
    model = torch.nn.Linear(2, 2)
    assert rt.maybe_compile(model) is model


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bf16")
def test_cpu_bf16_autocast_runs_the_lstm_in_bf16_and_keeps_float32_weights() -> None:
    rt = resolve_runtime("cpu", amp=True)
    lstm = torch.nn.LSTM(8, 16, batch_first=True)
    with rt.autocast():
        out, _ = lstm(torch.randn(2, 5, 8))
    assert out.dtype == torch.bfloat16 and lstm.weight_hh_l0.dtype == torch.float32
    out.float().sum().backward()
    assert lstm.weight_hh_l0.grad is not None and lstm.weight_hh_l0.grad.dtype == torch.float32


def test_auto_and_bad_devices() -> None:
    assert resolve_runtime("auto").device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ModelError, match="unknown device 'tpu'; allowed: auto, cpu, cuda"):
        resolve_runtime("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="no CUDA GPU; use --device cpu or auto"):
            resolve_runtime("cuda")


@pytest.mark.parametrize(("field", "value"), [("epochs", 0), ("lr", 0.0), ("clip", -1.0), ("patience", 0),
                                              ("max_minutes", 0), ("min_lr_ratio", 2.0)])
def test_bad_options_name_the_field(field: str, value: float) -> None:
    with pytest.raises(ModelError, match=f"training option {field} must be"):
        TrainOptions(**{field: value})


def test_lr_schedule_warms_up_then_decays() -> None:
    warm = [lr_factor(s, 0.0, 10, 0.1) for s in range(10)]
    assert warm == sorted(warm) and warm[-1] == 1.0
    decay = [lr_factor(100, p / 10, 10, 0.1) for p in range(11)]
    assert decay == sorted(decay, reverse=True) and decay[0] == 1.0 and decay[-1] == pytest.approx(0.1)
    assert lr_factor(100, 5.0, 10, 0.1) == pytest.approx(0.1)  # past the budget: stays at the floor


def test_max_minutes_bounds_training(shakespeare: str, tmp_path) -> None:
    from nlpkit.rnn.lm_train import train_lm

    train = shakespeare[:-2_000]  # ~4,300 steps per epoch: far more than fit in 1.2 s
    res = train_lm(train, shakespeare[-2_000:], out=tmp_path / "lm", hidden_size=32, num_layers=1, seq_len=32,
                   opts=TrainOptions(epochs=50, batch_size=8, max_minutes=0.02, threads=1))
    assert res.metrics["epochs"] == 1 and res.metrics["train_seconds"] < 10
    assert res.metrics["steps"] < len(train) // (8 * 32)  # stopped inside the first epoch
