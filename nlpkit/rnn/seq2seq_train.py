"""Train and evaluate seq2seq variants on the addition task (plain / reversed / reversed+peeky)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from nlpkit.errors import ModelError
from nlpkit.rnn._torch import nn, torch
from nlpkit.rnn.checkpoint import load_saved_model
from nlpkit.rnn.configs import Seq2SeqSettings, pinned_values, with_overrides
from nlpkit.rnn.device import Runtime, resolve_runtime
from nlpkit.rnn.driver import Built, Kind, TaskBase, TrainResult, fit
from nlpkit.rnn.seq2seq import AdditionTask, Seq2Seq, Seq2SeqConfig, addition_vocab, make_addition_data
from nlpkit.rnn.sizing import size_for_budget, sized_fields
from nlpkit.rnn.train_loop import Loop, ProgressFn, TrainOptions
from nlpkit.rnn.vocab import Vocab

__all__ = ["Seq2SeqResult", "Seq2SeqTask", "train_seq2seq", "evaluate_seq2seq", "compare_variants", "load_seq2seq", "VARIANTS"]

log = logging.getLogger(__name__)
#: The three variants compared side by side: (name, reverse, peeky).
VARIANTS: tuple[tuple[str, bool, bool], ...] = (("plain", False, False), ("reversed", True, False),
                                                 ("reversed+peeky", True, True))


Seq2SeqResult = TrainResult  # the one result type of every trainer


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
        with runtime.autocast(training=False):
            logits = model(s, t[:, :-1]).float()
            pred = model.greedy(s, t.shape[1] - 1, vocab.bos_id)
        total_loss += float(nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1),
                                                        reduction="sum")) / t[:, 1:].shape[1]
        correct += int((pred == t[:, 1:]).all(dim=1).sum())
    model.train()
    n = max(1, src.shape[0])
    return {"exact_match": correct / n, "loss": total_loss / n}


@dataclass
class Seq2SeqTask(TaskBase):
    """Seq2seq on addition as the driver's :class:`~nlpkit.rnn.driver.TrainTask`."""

    settings: Seq2SeqSettings
    kind: ClassVar[Kind] = Kind("seq2seq", Seq2SeqConfig, Seq2Seq, "exact_match", "max")

    def build(self, saved: Any, runtime: Runtime) -> Built:
        st = self.settings
        max_digits, n_train, n_test = st.max_digits, st.n_train, st.n_test
        if saved is not None:
            cfg = Seq2SeqConfig(**saved.config["model"])
            max_digits, n_train, n_test = (int(saved.config[k]) for k in ("max_digits", "n_train", "n_test"))
        opts, sizing = st.train, None
        if saved is None and st.sizing.mode == "budget":
            spec = AdditionTask(max_digits)
            planned = size_for_budget("seq2seq", st.train, runtime, vocab_size=len(addition_vocab()),
                                      data_tokens=spec.question_len + spec.answer_len + 1,
                                      pinned=pinned_values(st, sized_fields("seq2seq")), throughput=st.sizing.throughput)
            if planned is not None:
                plan, opts = planned
                sizing = plan.to_dict()
                st = self.settings = replace(st, train=opts, hidden_size=plan.sizes["hidden_size"],
                                             embed_dim=plan.sizes["embed_dim"])
        if saved is None:
            cfg = Seq2SeqConfig(vocab_size=len(addition_vocab()), embed_dim=st.embed_dim, hidden_size=st.hidden_size,
                                reverse=st.reverse, peeky=st.peeky)
        spec, vocab, seed = AdditionTask(max_digits=max_digits), addition_vocab(), st.train.seed
        test_pairs = make_addition_data(n_test, spec, seed=seed + 1)
        train_pairs = make_addition_data(n_train, spec, seed=seed, exclude={q.strip() for q, _ in test_pairs})
        n_valid = max(1, len(train_pairs) // 10)
        self.valid = _tensors(train_pairs[:n_valid], vocab)
        self.train = _tensors(train_pairs[n_valid:], vocab)
        self.test = _tensors(test_pairs, vocab)
        self.cfg, self.runtime, self.batch_size, self.seed = cfg, runtime, opts.batch_size, seed
        config = {"task": st.task, "model": cfg.to_dict(), "max_digits": max_digits, "n_train": n_train,
                  "n_test": n_test}
        return Built(Seq2Seq(cfg).to(runtime.device), vocab, config,
                     math.ceil(self.train[0].shape[0] / self.batch_size), opts=opts, sizing=sizing)

    def train_epoch(self, loop: Loop, train_model: Any, steps_per_epoch: int) -> list[float]:
        src, tgt = self.train
        tokens_per_example = src.shape[1] + tgt.shape[1] - 1
        # the order depends on the epoch only, so a resumed run sees the same batches
        perm = torch.randperm(src.shape[0], generator=torch.Generator().manual_seed(self.seed + loop.epoch))
        losses = []
        for i in range(0, perm.numel(), self.batch_size):
            idx = perm[i : i + self.batch_size]
            s, t = src[idx].to(self.runtime.device), tgt[idx].to(self.runtime.device)

            def compute_loss(s: torch.Tensor = s, t: torch.Tensor = t) -> torch.Tensor:
                logits = train_model(s, t[:, :-1]).float()
                return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1))

            losses.append(loop.train_step(compute_loss, idx.numel() * tokens_per_example, steps_per_epoch))
            if loop.out_of_time():
                break
        return losses

    def validate(self, model: Any, runtime: Runtime) -> dict[str, float]:
        return _exact_match(model, *self.valid, runtime)

    def finish(self, model: Any, loop: Loop, runtime: Runtime) -> tuple[dict[str, Any], str, str]:
        test = _exact_match(model, *self.test, runtime)
        loop.record("test", **test)
        variant = "+".join(n for n, on in (("reversed", self.cfg.reverse), ("peeky", self.cfg.peeky)) if on) or "plain"
        metrics = {"variant": variant, "test_exact_match": test["exact_match"], "test_loss": test["loss"],
                   "best_valid_exact_match": loop.best}
        return metrics, f"seq2seq addition ({variant})", f"seq2seq_{variant}"

    def done(self, valid: dict[str, float]) -> bool:
        return valid["exact_match"] >= 1.0


def train_seq2seq(*, out: str | Path, settings: Seq2SeqSettings | None = None, opts: TrainOptions | None = None,
                  store: Any = None, resume: bool = False, overwrite: bool = False,
                  on_progress: ProgressFn | None = None, **overrides: Any) -> TrainResult:
    """Generate the task (seeded, train and test disjoint), train with teacher forcing, report exact match.

    ``settings`` (default :class:`Seq2SeqSettings`) may be adjusted with keyword ``overrides``
    (``reverse=True``, ``max_digits=2``, ...). Mixed precision (``amp``) is honoured like in the
    other trainers: autocast in training and evaluation, losses in float32.
    """
    settings = with_overrides(settings or Seq2SeqSettings(), opts, **overrides)
    return fit(Seq2SeqTask(settings), settings.train, out=out, source="addition", store=store, resume=resume,
               overwrite=overwrite, on_progress=on_progress)


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
