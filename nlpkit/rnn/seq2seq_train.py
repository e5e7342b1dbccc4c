"""Train and evaluate seq2seq variants on the addition task (plain / reversed / reversed+peeky)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nlpkit.errors import ModelError
from nlpkit.rnn._torch import nn, torch
from nlpkit.rnn.checkpoint import (check_out_dir, load_saved_model, load_training_state, load_weights,
                                   save_model_dir)
from nlpkit.rnn.device import Runtime, resolve_runtime
from nlpkit.rnn.reports import save_and_report
from nlpkit.rnn.seq2seq import AdditionTask, Seq2Seq, Seq2SeqConfig, addition_vocab, make_addition_data
from nlpkit.rnn.train_loop import Loop, ProgressFn, TrainOptions, set_seed
from nlpkit.rnn.vocab import Vocab

__all__ = ["Seq2SeqResult", "train_seq2seq", "evaluate_seq2seq", "compare_variants", "load_seq2seq", "VARIANTS"]

log = logging.getLogger(__name__)
#: The three variants compared side by side: (name, reverse, peeky).
VARIANTS: tuple[tuple[str, bool, bool], ...] = (("plain", False, False), ("reversed", True, False),
                                                 ("reversed+peeky", True, True))


@dataclass
class Seq2SeqResult:
    model_dir: Path
    metrics: dict[str, Any]


def _tensors(pairs: list[tuple[str, str]], vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
    src = torch.tensor([vocab.encode(q) for q, _ in pairs], dtype=torch.long)
    tgt = torch.tensor([vocab.encode(a, bos=True) for _, a in pairs], dtype=torch.long)
    return src, tgt


@torch.no_grad()
def _exact_match(model: Seq2Seq, src: torch.Tensor, tgt: torch.Tensor, runtime: Runtime,
                 batch_size: int = 1024) -> dict[str, float]:
    model.eval()
    correct, total_loss = 0, 0.0
    vocab = addition_vocab()
    for i in range(0, src.shape[0], batch_size):
        s, t = src[i : i + batch_size].to(runtime.device), tgt[i : i + batch_size].to(runtime.device)
        logits = model(s, t[:, :-1])
        total_loss += float(nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1),
                                                        reduction="sum")) / t[:, 1:].shape[1]
        pred = model.greedy(s, t.shape[1] - 1, vocab.bos_id)
        correct += int((pred == t[:, 1:]).all(dim=1).sum())
    model.train()
    n = max(1, src.shape[0])
    return {"exact_match": correct / n, "loss": total_loss / n}


def train_seq2seq(
    *,
    out: str | Path,
    task: str = "addition",
    max_digits: int = 3,
    reverse: bool = False,
    peeky: bool = False,
    n_train: int = 45000,
    n_test: int = 5000,
    embed_dim: int = 16,
    hidden_size: int = 128,
    opts: TrainOptions | None = None,
    store: Any = None,
    resume: bool = False,
    overwrite: bool = False,
    on_progress: ProgressFn | None = None,
) -> Seq2SeqResult:
    """Generate the task (seeded, train and test disjoint), train with teacher forcing, report exact match.

    An existing ``out`` is replaced only when it is an nlpkit model directory and ``overwrite=True``.
    """
    if task not in ("addition",):
        raise ModelError(f"unknown seq2seq task {task!r}; available: addition")
    opts = opts or TrainOptions(epochs=25, batch_size=128, lr=5e-3, patience=5)
    set_seed(opts.seed)
    runtime = resolve_runtime(opts.device, amp=False, compile=opts.compile, threads=opts.threads)
    out = Path(out)
    check_out_dir(out, overwrite=overwrite, resume=resume)
    # on resume the directory is fully checked (config ranges, shapes on the meta device, finite weights) first
    saved = load_saved_model(out, kind="seq2seq", config_cls=Seq2SeqConfig, model_cls=Seq2Seq)[1] if resume else None
    if saved is not None:
        cfg = Seq2SeqConfig(**saved.config["model"])
        max_digits, n_train, n_test = (int(saved.config[k]) for k in ("max_digits", "n_train", "n_test"))
    else:
        cfg = Seq2SeqConfig(vocab_size=len(addition_vocab()), embed_dim=embed_dim, hidden_size=hidden_size,
                            reverse=reverse, peeky=peeky)
    spec = AdditionTask(max_digits=max_digits)
    vocab = addition_vocab()
    test_pairs = make_addition_data(n_test, spec, seed=opts.seed + 1)
    train_pairs = make_addition_data(n_train, spec, seed=opts.seed, exclude={q.strip() for q, _ in test_pairs})
    n_valid = max(1, len(train_pairs) // 10)
    valid_src, valid_tgt = _tensors(train_pairs[:n_valid], vocab)
    train_src, train_tgt = _tensors(train_pairs[n_valid:], vocab)
    test_src, test_tgt = _tensors(test_pairs, vocab)
    model = Seq2Seq(cfg).to(runtime.device)
    if saved is not None:
        load_weights(model, saved.weights, str(out))
    steps_per_epoch = math.ceil(train_src.shape[0] / opts.batch_size)
    loop = Loop(model, opts, runtime, total_steps=steps_per_epoch * opts.epochs, on_progress=on_progress)
    if saved is not None:
        loop.load_counters(load_training_state(out, loop.optimizer))
        loop.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    config = {"kind": "seq2seq", "task": task, "model": cfg.to_dict(), "max_digits": max_digits,
              "n_train": n_train, "n_test": n_test, "train": opts.to_dict()}
    gen = torch.Generator().manual_seed(opts.seed)
    tokens_per_example = train_src.shape[1] + train_tgt.shape[1] - 1

    while loop.epoch < opts.epochs and not loop.should_stop and not loop.out_of_time():
        perm = torch.randperm(train_src.shape[0], generator=gen)
        losses = []
        for i in range(0, perm.numel(), opts.batch_size):
            idx = perm[i : i + opts.batch_size]
            s, t = train_src[idx].to(runtime.device), train_tgt[idx].to(runtime.device)

            def compute_loss(s: torch.Tensor = s, t: torch.Tensor = t) -> torch.Tensor:
                logits = model(s, t[:, :-1])
                return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1))

            losses.append(loop.train_step(compute_loss, idx.numel() * tokens_per_example, steps_per_epoch))
            if loop.out_of_time():
                break
        loop.epoch += 1
        loop.record("train", loss=sum(losses) / max(1, len(losses)), tokens_per_s=loop.tokens_per_second())
        valid = _exact_match(model, valid_src, valid_tgt, runtime)
        loop.record("valid", **valid)
        loop.improved(valid["exact_match"], mode="max")
        save_model_dir(out, model, config=config, vocab=vocab, metrics={"history": loop.history},
                       optimizer=loop.optimizer, counters=loop.counters())  # a killed run resumes from here
        if valid["exact_match"] >= 1.0:
            break

    loop.restore_best()
    test = _exact_match(model, test_src, test_tgt, runtime)
    loop.record("test", **test)
    variant = "+".join(n for n, on in (("reversed", cfg.reverse), ("peeky", cfg.peeky)) if on) or "plain"
    metrics: dict[str, Any] = {"variant": variant, "test_exact_match": test["exact_match"], "test_loss": test["loss"],
                               "best_valid_exact_match": loop.best, **loop.summary(), "history": loop.history}
    save_and_report(out, model, loop, config=config, vocab=vocab, metrics=metrics,
                    title=f"seq2seq addition ({variant})", model_name=f"seq2seq_{variant}", source="addition", store=store)
    return Seq2SeqResult(model_dir=out, metrics=metrics)


def compare_variants(out_root: str | Path, **kwargs: Any) -> list[dict[str, Any]]:
    """Train plain, reversed and reversed+peeky with the same data and budget; one row per variant."""
    rows = []
    for name, rev, peek in VARIANTS:
        res = train_seq2seq(out=Path(out_root) / name.replace("+", "_"), reverse=rev, peeky=peek, **kwargs)
        m = res.metrics
        rows.append({"variant": name, "test_exact_match": m["test_exact_match"], "epochs": m["epochs"],
                     "train_seconds": m["train_seconds"], "model_dir": str(res.model_dir)})
    return rows


def load_seq2seq(path: str | Path, device: str = "cpu") -> tuple[Seq2Seq, dict[str, Any]]:
    model, saved = load_saved_model(path, kind="seq2seq", config_cls=Seq2SeqConfig, model_cls=Seq2Seq)
    return model.to(resolve_runtime(device).device).eval(), saved.config  # type: ignore[return-value]


def evaluate_seq2seq(path: str | Path, *, device: str = "auto") -> dict[str, float]:
    """Exact match of a saved model on its (regenerated, seeded) test problems."""
    model, config = load_seq2seq(path, device)
    seed = int(config["train"]["seed"])
    pairs = make_addition_data(int(config["n_test"]), AdditionTask(int(config["max_digits"])), seed=seed + 1)
    src, tgt = _tensors(pairs, addition_vocab())
    return _exact_match(model, src, tgt, resolve_runtime(device))


def answer(path: str | Path, question: str) -> str:
    """The model's answer to one question like ``"57+8"``."""
    model, config = load_seq2seq(path)
    spec = AdditionTask(int(config["max_digits"]))
    vocab = addition_vocab()
    q = question.replace(" ", "")
    bad = sorted(set(q) - set("0123456789+"))
    if not q or bad or q.count("+") != 1 or len(q) > spec.question_len:
        raise ModelError(f"question {question!r} must look like '57+8' with operands of at most {spec.max_digits} "
                         "digits")
    pred = model.greedy(torch.tensor([vocab.encode(q.ljust(spec.question_len))]), spec.answer_len, vocab.bos_id)
    return "".join(vocab.decode(pred[0].tolist())).strip()


def with_variant(opts: TrainOptions, **changes: Any) -> TrainOptions:
    return replace(opts, **changes)
