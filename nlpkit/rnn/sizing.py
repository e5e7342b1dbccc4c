"""Size a model to its training budget: measure throughput first, then pick the largest model it can afford.

A short budget spent on a large network ends before the network has seen enough data (a 2x512
char LM gets 13 steps in 3 CPU minutes); a long budget spent on a small one wastes capacity. The
rule here is the compute-optimal idea of the scaling-law literature, cut down to RNNs on CPUs:

1. *Measure*: :func:`measure_throughput` trains the smallest rung of the kind's ladder for a few
   steps on random ids of the real batch shape and returns tokens per second of the clock the
   budget is counted in (process CPU time for ``max_cpu_minutes``, wall time on a GPU).
2. *Afford*: a rung costs ``(overhead + flops(rung)) / (overhead + flops(smallest))`` times the
   measured time per token (:data:`OVERHEAD_FLOPS`: small RNN steps on a CPU are partly
   overhead-bound), so ``budget * throughput / cost`` tokens are affordable.
3. *Pick*: the largest rung of :data:`LADDERS` whose need is met: a classifier needs
   ``min_epochs`` passes over its (truncated) training tokens, a language model
   ``tokens_per_param`` tokens per recurrent parameter, seq2seq ``min_steps`` optimizer steps.
   The constants were fitted on the quick profile's runs (``benchmarks/results/budget_sizing.md``).

The feasible set only grows with the budget and the rungs grow in every size, so a bigger
budget never picks a smaller model. Values a user pinned are kept whatever the rung says.

>>> [choose_sizes("lm", budget_seconds=60 * minutes, throughput=80_000, vocab_size=65).sizes["hidden_size"]
...  for minutes in (1, 10)]
[128, 256]
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from nlpkit.errors import ModelError

__all__ = ["KINDS", "LADDERS", "NEEDS", "OVERHEAD_FLOPS", "size_for_budget", "SizingPlan", "choose_sizes", "flops_per_token", "measure_throughput",
           "sized_fields"]

log = logging.getLogger(__name__)

SizeKind = Literal["classifier", "lm", "seq2seq"]
KINDS: tuple[SizeKind, ...] = ("classifier", "lm", "seq2seq")

#: Rungs per kind, smallest first; every size grows (or stays) from one rung to the next.
LADDERS: dict[str, tuple[dict[str, Any], ...]] = {
    # bidirectional RNN classifier; max_len keeps head + tail of each text
    "classifier": (
        {"embed_dim": 32, "hidden_size": 32, "num_layers": 1, "max_len": 128, "batch_size": 32, "lr": 6e-3},
        {"embed_dim": 64, "hidden_size": 64, "num_layers": 1, "max_len": 200, "batch_size": 32, "lr": 5e-3},
        {"embed_dim": 96, "hidden_size": 96, "num_layers": 1, "max_len": 256, "batch_size": 64, "lr": 4e-3},
        {"embed_dim": 128, "hidden_size": 128, "num_layers": 1, "max_len": 400, "batch_size": 64, "lr": 2e-3},
        {"embed_dim": 256, "hidden_size": 256, "num_layers": 2, "max_len": 512, "batch_size": 64, "lr": 2e-3},
    ),
    # stateful truncated-BPTT LM (chars, words or morphemes)
    "lm": (
        {"hidden_size": 128, "num_layers": 1, "seq_len": 64, "batch_size": 32, "lr": 1e-2},
        {"hidden_size": 256, "num_layers": 1, "seq_len": 64, "batch_size": 32, "lr": 6e-3},
        {"hidden_size": 384, "num_layers": 2, "seq_len": 96, "batch_size": 48, "lr": 4e-3},
        {"hidden_size": 512, "num_layers": 2, "seq_len": 128, "batch_size": 64, "lr": 3e-3},
        {"hidden_size": 1024, "num_layers": 2, "seq_len": 128, "batch_size": 64, "lr": 2e-3},
    ),
    # encoder-decoder on addition
    "seq2seq": (
        {"hidden_size": 64, "embed_dim": 32, "batch_size": 128, "lr": 1e-2},
        {"hidden_size": 128, "embed_dim": 32, "batch_size": 128, "lr": 1e-2},
        {"hidden_size": 256, "embed_dim": 32, "batch_size": 128, "lr": 5e-3},
    ),
}

#: Per-token cost of a training step that does not grow with the network (embedding lookups, gathers, the
#: optimizer's per-tensor work, Python), in FLOP equivalents: time per token ~ (overhead + flops) / speed.
#: Fitted on one 2-core x86 CPU, 1 thread, rungs 0-3 of each ladder (benchmarks/results/budget_sizing.md):
#: classifier 4.4/9.1/15.1/23.0 us per token, LM (65 chars) 11.3/31.6/137/227, seq2seq 6.6/9.1/24.5.
OVERHEAD_FLOPS: dict[str, float] = {"classifier": 380e3, "lm": 340e3, "seq2seq": 950e3}

#: What a rung must be able to afford (fitted on measured runs, see the module docstring).
NEEDS: dict[str, dict[str, float]] = {
    "classifier": {"min_epochs": 2.0},
    "lm": {"tokens_per_param": 4.0},
    "seq2seq": {"min_steps": 3000.0},
}


def sized_fields(kind: str) -> tuple[str, ...]:
    """The settings/option names the rule chooses for ``kind`` (the ones a user may pin): the rung's, and
    the warm-up steps (derived from the steps the budget affords)."""
    _check_kind(kind)
    return (*LADDERS[kind][0], "warmup_steps")


def _check_kind(kind: str) -> None:
    if kind not in LADDERS:
        raise ModelError(f"unknown model kind {kind!r} for sizing; available: {', '.join(KINDS)}")


def _lstm_flops(inp: int, hidden: int) -> float:
    """Multiply-adds of one LSTM step per token, forward and backward (x3), 4 gates."""
    return 3 * 2 * 4 * (inp + hidden) * hidden


def flops_per_token(kind: str, sizes: Mapping[str, Any], vocab_size: int = 0) -> float:
    """Training FLOPs per token of a rung (recurrent layers plus the output layer for an LM)."""
    _check_kind(kind)
    h, layers = int(sizes["hidden_size"]), int(sizes.get("num_layers", 1))
    if kind == "classifier":
        e, dirs = int(sizes["embed_dim"]), 2
        return sum(_lstm_flops(e if i == 0 else h * dirs, h) * dirs for i in range(layers))
    if kind == "lm":
        return sum(_lstm_flops(h, h) for _ in range(layers)) + 3 * 2 * h * max(vocab_size, 1)
    e = int(sizes["embed_dim"])
    return _lstm_flops(e, h) + _lstm_flops(e + h, h) + 3 * 2 * 2 * h * max(vocab_size, 1)


def _params(kind: str, sizes: Mapping[str, Any]) -> int:
    """Recurrent parameters (what the LM's data need scales with; embeddings excluded)."""
    h, layers = int(sizes["hidden_size"]), int(sizes.get("num_layers", 1))
    inp = int(sizes.get("embed_dim", h))
    return sum(4 * ((inp if i == 0 else h) + h + 1) * h for i in range(layers))


@dataclass(frozen=True)
class SizingPlan:
    """What the rule chose and why (goes into config.json's ``sizing`` and the ``model_runs`` params)."""

    kind: str
    rung: int  # index into LADDERS[kind]
    sizes: dict[str, Any]  # the values used (rung values, pinned ones replaced)
    pinned: dict[str, Any]  # what the user fixed
    budget_seconds: float
    clock: str  # "cpu" (process CPU seconds) or "wall"
    throughput: float  # tokens per budget second measured on the smallest rung
    affordable_tokens: float  # at the chosen rung
    need_tokens: float  # what the chosen rung needs
    why: str
    candidates: list[dict[str, Any]] = field(default_factory=list)  # per rung: affordable vs need

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _need(kind: str, sizes: Mapping[str, Any], lengths: Sequence[int] | None, data_tokens: int) -> float:
    need = NEEDS[kind]
    if kind == "classifier":
        cap = int(sizes["max_len"])
        epoch = sum(min(n, cap) for n in lengths) if lengths is not None else data_tokens
        return need["min_epochs"] * epoch
    if kind == "lm":
        return need["tokens_per_param"] * _params(kind, sizes)
    return need["min_steps"] * int(sizes["batch_size"]) * max(1, data_tokens)


def choose_sizes(kind: str, *, budget_seconds: float, throughput: float, data_tokens: int = 0,
                 lengths: Sequence[int] | None = None, vocab_size: int = 0, pinned: Mapping[str, Any] | None = None,
                 clock: str = "cpu") -> SizingPlan:
    """The largest rung of ``LADDERS[kind]`` whose need ``budget_seconds * throughput / cost`` meets.

    ``throughput`` is tokens per second measured on the smallest rung (inject it in tests);
    ``lengths`` are the training texts' token counts (classifier), ``data_tokens`` the training
    stream's tokens (LM) or tokens per example (seq2seq). ``pinned`` values replace the rung's.
    With no affordable rung the smallest is used (and ``why`` says so).
    """
    _check_kind(kind)
    if budget_seconds <= 0 or throughput <= 0:
        raise ModelError(f"sizing needs a positive budget and throughput, got {budget_seconds} s and {throughput} tokens/s")
    pinned = {k: v for k, v in (pinned or {}).items() if v is not None and k in LADDERS[kind][0]}
    ladder = LADDERS[kind]
    over = OVERHEAD_FLOPS[kind]
    base = over + flops_per_token(kind, {**ladder[0], **pinned}, vocab_size)
    chosen, rows = 0, []
    for i, rung in enumerate(ladder):
        sizes = {**rung, **pinned}
        cost = (over + flops_per_token(kind, sizes, vocab_size)) / base
        afford = budget_seconds * throughput / cost
        need = _need(kind, sizes, lengths, data_tokens)
        rows.append({"rung": i, "cost": round(cost, 3), "affordable_tokens": round(afford), "need_tokens": round(need)})
        if afford >= need:
            chosen = i
    sizes = {**ladder[chosen], **pinned}
    row = rows[chosen]
    if row["affordable_tokens"] >= row["need_tokens"]:
        why = (f"largest of {len(ladder)} rungs whose need ({_need_words(kind)}: {row['need_tokens']:,} tokens) the "
               f"budget affords ({budget_seconds:.0f} {clock} s x {throughput:,.0f} tokens/s / cost {row['cost']} = "
               f"{row['affordable_tokens']:,} tokens)")
    else:
        why = (f"no rung is affordable in {budget_seconds:.0f} {clock} s at {throughput:,.0f} tokens/s: "
               "the smallest is used")
    if pinned:
        why += f"; pinned by the user: {', '.join(sorted(pinned))}"
    return SizingPlan(kind, chosen, sizes, dict(pinned), float(budget_seconds), clock, float(throughput),
                      float(row["affordable_tokens"]), float(row["need_tokens"]), why, rows)


def _need_words(kind: str) -> str:
    need = NEEDS[kind]
    if kind == "classifier":
        return f"{need['min_epochs']:g} epoch(s) of truncated training tokens"
    if kind == "lm":
        return f"{need['tokens_per_param']:g} tokens per recurrent parameter"
    return f"{need['min_steps']:.0f} steps"


def measure_throughput(kind: str, *, vocab_size: int, runtime: Any, steps: int = 4,
                       pinned: Mapping[str, Any] | None = None, clock: str = "cpu") -> tuple[float, float]:
    """Tokens per second (of ``clock``: process CPU or wall time) training the smallest rung on random ids.

    Returns ``(throughput, seconds spent)``; the first step (allocation, kernel selection) is not timed.
    """
    from nlpkit.rnn._torch import nn, torch

    _check_kind(kind)
    sizes = {**LADDERS[kind][0], **{k: v for k, v in (pinned or {}).items() if v is not None}}
    device, bs = runtime.device, int(sizes["batch_size"])
    vocab_size = max(vocab_size, 8)
    gen = torch.Generator().manual_seed(0)
    if kind == "classifier":
        from nlpkit.rnn.classifier import ClassifierConfig, RNNClassifier

        model = RNNClassifier(ClassifierConfig(vocab_size=vocab_size, num_classes=2, embed_dim=sizes["embed_dim"],
                                               hidden_size=sizes["hidden_size"], num_layers=sizes["num_layers"]))
        t = int(sizes["max_len"])

        def loss_fn() -> Any:
            x = torch.randint(1, vocab_size, (bs, t), generator=gen).to(device)
            y = torch.randint(0, 2, (bs,), generator=gen).to(device)
            return nn.functional.cross_entropy(model(x, torch.full((bs,), t)).float(), y)
    elif kind == "lm":
        from nlpkit.rnn.lm import LMConfig, RNNLanguageModel

        model = RNNLanguageModel(LMConfig(vocab_size=vocab_size, embed_dim=sizes["hidden_size"],
                                          hidden_size=sizes["hidden_size"], num_layers=sizes["num_layers"]))
        t = int(sizes["seq_len"])

        def loss_fn() -> Any:
            x = torch.randint(0, vocab_size, (bs, t + 1), generator=gen).to(device)
            logits, _ = model(x[:, :-1], None)
            return nn.functional.cross_entropy(logits.float().reshape(-1, vocab_size), x[:, 1:].reshape(-1))
    else:
        from nlpkit.rnn.seq2seq import Seq2Seq, Seq2SeqConfig

        model = Seq2Seq(Seq2SeqConfig(vocab_size=vocab_size, embed_dim=sizes["embed_dim"],
                                      hidden_size=sizes["hidden_size"], reverse=True, peeky=True))
        t = 12

        def loss_fn() -> Any:
            s = torch.randint(0, vocab_size, (bs, 7), generator=gen).to(device)
            g = torch.randint(0, vocab_size, (bs, 6), generator=gen).to(device)
            logits = model(s, g[:, :-1]).float()
            return nn.functional.cross_entropy(logits.reshape(-1, vocab_size), g[:, 1:].reshape(-1))
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    now = time.process_time if clock == "cpu" else time.perf_counter
    spent0, timed, start = now(), 0.0, 0.0
    for i in range(steps + 1):
        if i == 1:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = now()
        with runtime.autocast():
            loss = loss_fn()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    timed = max(now() - start, 1e-6)
    tokens = steps * bs * t
    log.info("sizing: %s smallest rung trains %.0f tokens/%s-s (%d steps)", kind, tokens / timed, clock, steps)
    return tokens / timed, now() - spent0


def _budget(opts: Any, runtime: Any) -> tuple[float, str] | None:
    """Seconds of the clock the budget is counted in: process CPU time on a CPU when given, else wall time."""
    on_cpu = runtime.device.type == "cpu"
    if opts.max_cpu_minutes and (on_cpu or not opts.max_minutes):
        return 60 * opts.max_cpu_minutes, "cpu" if on_cpu else "wall"
    if opts.max_minutes:
        return 60 * opts.max_minutes, "wall"
    return None


def size_for_budget(kind: str, opts: Any, runtime: Any, *, pinned: Mapping[str, Any], vocab_size: int,
                    data_tokens: int = 0, lengths: Sequence[int] | None = None,
                    throughput: float | None = None) -> tuple[SizingPlan, Any] | None:
    """Measure (unless ``throughput`` is given), choose, and return the plan with the training options it implies.

    ``None`` when ``opts`` has no budget (nothing to size to: the settings' sizes are used). The
    probe's CPU time is taken off ``max_cpu_minutes``, so the whole run stays inside the budget.
    Batch size, peak LR and warm-up come from the rung unless pinned; warm-up is at most a
    twentieth of the steps the budget affords.
    """
    from dataclasses import replace

    got = _budget(opts, runtime)
    if got is None:
        return None
    budget, clock = got
    probe = 0.0
    if throughput is None:
        throughput, probe = measure_throughput(kind, vocab_size=vocab_size, runtime=runtime, pinned=pinned,
                                               clock=clock)
    plan = choose_sizes(kind, budget_seconds=max(budget - probe, 1.0), throughput=throughput, data_tokens=data_tokens,
                        lengths=lengths, vocab_size=vocab_size, pinned=pinned, clock=clock)
    sizes = plan.sizes
    per_step = int(sizes["batch_size"]) * (int(sizes.get("seq_len") or sizes.get("max_len") or 12)
                                           if kind != "seq2seq" else max(1, data_tokens))
    steps = plan.affordable_tokens / max(1, per_step)
    changes: dict[str, Any] = {"batch_size": int(sizes["batch_size"]), "lr": float(sizes["lr"])}
    if "warmup_steps" not in pinned:
        changes["warmup_steps"] = int(min(opts.warmup_steps, max(10, steps // 20)))
    if probe and opts.max_cpu_minutes and clock == "cpu":
        changes["max_cpu_minutes"] = max(opts.max_cpu_minutes - probe / 60, 1 / 60)
    plan = replace(plan, why=plan.why + f"; probe {probe:.1f} {clock} s (taken off the budget)")
    log.info("sizing %s: rung %d %s (%s)", kind, plan.rung, sizes, plan.why)
    return plan, replace(opts, **changes)
