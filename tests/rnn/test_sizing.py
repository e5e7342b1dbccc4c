"""The sizing rule's contract (nlpkit.rnn.sizing): monotone in the budget, pins kept, the choice recorded,
and a tiny budget still beats a trivial baseline. Throughput is injected: nothing depends on this machine's speed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlpkit.errors import ModelError
from nlpkit.rnn.sizing import KINDS, LADDERS, choose_sizes, flops_per_token, sized_fields

SIZES = ("embed_dim", "hidden_size", "num_layers", "max_len", "seq_len")


def _size_tuple(sizes: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(sizes.get(k, 0)) for k in SIZES)


def _plan(kind: str, budget: float, throughput: float, **kw: Any) -> Any:
    data = {"classifier": {"lengths": [230] * 20_000}, "lm": {"data_tokens": 1_000_000, "vocab_size": 65},
            "seq2seq": {"data_tokens": 12, "vocab_size": 16}}[kind]
    return choose_sizes(kind, budget_seconds=budget, throughput=throughput, **{**data, **kw})


@pytest.mark.parametrize("kind", KINDS)
def test_every_ladder_grows_in_every_size(kind: str) -> None:
    ladder = LADDERS[kind]
    for small, big in zip(ladder, ladder[1:], strict=False):
        assert all(big.get(k, 0) >= small.get(k, 0) for k in SIZES)
        assert flops_per_token(kind, big, 65) > flops_per_token(kind, small, 65)


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(KINDS), b1=st.floats(1, 20_000), b2=st.floats(1, 20_000),
       throughput=st.floats(100, 5e6))
def test_a_bigger_budget_never_picks_a_smaller_model(kind: str, b1: float, b2: float, throughput: float) -> None:
    small, big = sorted((b1, b2))
    p_small, p_big = _plan(kind, small, throughput), _plan(kind, big, throughput)
    assert p_big.rung >= p_small.rung
    assert all(a >= b for a, b in zip(_size_tuple(p_big.sizes), _size_tuple(p_small.sizes), strict=True))


@pytest.mark.parametrize("kind", KINDS)
def test_faster_hardware_buys_a_bigger_model_for_the_same_budget(kind: str) -> None:
    """A GPU's measured throughput (tokens per wall second) is what makes the same budget buy more."""
    cpu, gpu = _plan(kind, 180, 20_000), _plan(kind, 180, 2_000_000, clock="wall")
    assert gpu.rung > cpu.rung and gpu.sizes["hidden_size"] > cpu.sizes["hidden_size"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_choice_and_its_reason_are_recorded(kind: str) -> None:
    plan = _plan(kind, 60, 50_000).to_dict()
    json.dumps(plan)  # goes into config.json as is
    assert set(plan["sizes"]) == set(sized_fields(kind)) - {"warmup_steps"}
    assert plan["throughput"] == 50_000 and plan["budget_seconds"] == 60
    assert len(plan["candidates"]) == len(LADDERS[kind]) and "tokens/s" in plan["why"]


def test_pinned_values_are_kept_whatever_the_budget() -> None:
    for budget in (5, 60, 600, 6000):
        plan = _plan("classifier", budget, 100_000, pinned={"max_len": 80, "lr": 1e-3, "epochs": 3})
        assert plan.sizes["max_len"] == 80 and plan.sizes["lr"] == 1e-3
        assert plan.pinned == {"max_len": 80, "lr": 1e-3}  # not a sized option: not part of the plan
        assert "pinned by the user: lr, max_len" in plan.why


def test_no_affordable_rung_uses_the_smallest_and_says_so() -> None:
    plan = _plan("lm", 1, 100)
    assert plan.rung == 0 and "no rung is affordable" in plan.why


@pytest.mark.parametrize("bad", [{"budget_seconds": 0, "throughput": 10}, {"budget_seconds": 10, "throughput": -1}])
def test_bad_budget_or_throughput_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ModelError, match="positive budget"):
        choose_sizes("lm", **bad)
    with pytest.raises(ModelError, match="available: classifier, lm, seq2seq"):
        choose_sizes("transformer", budget_seconds=1, throughput=1)


# -- the trainers take the plan: pinned values kept, the record in config.json ------------------------

def _train_small_budget(nsmc_splits: Any, out: Path, **kw: Any) -> Any:
    from nlpkit.rnn.classify import train_classifier
    from nlpkit.rnn.configs import ClassifierSettings, SizingOptions
    from nlpkit.rnn.train_loop import TrainOptions

    pinned = tuple(k for k in kw if k in sized_fields("classifier"))
    settings = ClassifierSettings(tokenizer="chars", arch="gru",
                                  sizing=SizingOptions("budget", pinned, throughput=20_000.0))
    opts = TrainOptions(epochs=2, max_cpu_minutes=0.25, threads=1, seed=0)
    return train_classifier(nsmc_splits, out=out, settings=settings, opts=opts, **kw)


@pytest.mark.slow
def test_a_tiny_budget_sizes_the_classifier_and_beats_the_majority_baseline(nsmc_splits: Any, tmp_path: Path) -> None:
    import copy

    from nlpkit.rnn.data import cap_eval_splits

    full_test = len(nsmc_splits.labels["test"])
    nsmc_splits = copy.deepcopy(nsmc_splits)
    cap_eval_splits(nsmc_splits, 300, seed=0)  # as the quick profile's eval_limit does
    result = _train_small_budget(nsmc_splits, tmp_path / "m", max_len=60)
    # a sampled test split says so in the metrics
    assert result.metrics["test_sampled_from"] == full_test and result.metrics["test_n"] < full_test
    assert f"of {full_test:,} test rows (eval_limit)" in result.metrics["test_note"]
    config = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    sizing = config["sizing"]
    assert sizing["throughput"] == 20_000.0 and sizing["pinned"] == {"max_len": 60}
    # the rule's choice for this budget, throughput and these texts' lengths, applied and recorded
    want = choose_sizes("classifier", budget_seconds=15, throughput=20_000, pinned={"max_len": 60},
                        lengths=[len(t) for t in nsmc_splits.tokens["train"]], vocab_size=config["model"]["vocab_size"])
    rung = LADDERS["classifier"][want.rung]
    assert sizing["rung"] == want.rung == result.metrics["sizing"]["rung"]
    assert config["model"]["hidden_size"] == rung["hidden_size"] != 128  # not the fixed default
    assert config["max_len"] == 60  # pinned: kept
    assert config["train"]["batch_size"] == rung["batch_size"] and config["train"]["lr"] == rung["lr"]
    majority = max(Counter(nsmc_splits.labels["test"]).values()) / len(nsmc_splits.labels["test"])
    assert result.metrics["test_accuracy"] > majority + 0.05


def test_a_pinned_warmup_is_kept_and_an_unpinned_one_follows_the_budget() -> None:
    from types import SimpleNamespace

    from nlpkit.rnn.sizing import size_for_budget
    from nlpkit.rnn.train_loop import TrainOptions

    cpu = SimpleNamespace(device=SimpleNamespace(type="cpu"))
    opts = TrainOptions(warmup_steps=200, max_cpu_minutes=0.1)
    kw = {"vocab_size": 16, "data_tokens": 12, "throughput": 50_000.0}
    _, kept = size_for_budget("seq2seq", opts, cpu, pinned={"warmup_steps": 200}, **kw)
    _, chosen = size_for_budget("seq2seq", opts, cpu, pinned={}, **kw)
    assert kept.warmup_steps == 200 and chosen.warmup_steps < 200
    assert size_for_budget("seq2seq", TrainOptions(), cpu, pinned={}, **kw) is None  # no budget: nothing to size


def test_with_overrides_pins_the_sized_options_given() -> None:
    from nlpkit.rnn.configs import LMSettings, with_overrides

    s = with_overrides(LMSettings(), sizing="budget", hidden_size=64, lr=0.01, dropout=0.1, seq_len=None)
    assert s.sizing.mode == "budget" and set(s.sizing.pinned) == {"hidden_size", "lr"}
    with pytest.raises(ModelError, match="'fixed' or 'budget'"):
        with_overrides(LMSettings(), sizing="auto")
