"""Train and evaluate the RNN language model with stateful truncated BPTT.

The token stream is cut into ``batch_size`` parallel columns; each step trains on the next
``seq_len`` tokens of every column and hands the (detached) recurrent state to the next
step, so the model sees context beyond one window at the cost of one window's backprop.
Each epoch starts at a random offset (seeded) so window boundaries move.

Reported: mean loss in nats per token on the held-out text; for ``level="char"`` that is
nats per character, for ``level="word"``/``"morph"`` also the perplexity ``exp(loss)`` and, for
morphemes read from the store, nats per character of the text they cover (comparable across levels).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from nlpkit.errors import ModelError
from nlpkit.rnn._torch import nn, torch
from nlpkit.rnn.checkpoint import load_saved_model
from nlpkit.rnn.configs import LMSettings, pinned_values, with_overrides
from nlpkit.rnn.device import Runtime, resolve_runtime
from nlpkit.rnn.driver import Built, Kind, TaskBase, TrainResult, fit
from nlpkit.rnn.lm import LMConfig, RNNLanguageModel, detach_state
from nlpkit.rnn.sizing import size_for_budget, sized_fields
from nlpkit.rnn.train_loop import Loop, ProgressFn, TrainOptions
from nlpkit.rnn.vocab import Vocab

__all__ = ["LMResult", "LMTask", "lm_tokens", "train_lm", "evaluate_lm", "load_lm", "stream_loss"]

log = logging.getLogger(__name__)


LMResult = TrainResult  # the one result type of every trainer


def lm_tokens(text: str | Sequence[str], level: str) -> list[str]:
    """Characters, or words with ``<eos>`` at each line end (the Penn Treebank convention).

    A sequence of strings is taken as the tokens already (morphemes read from a stored tokens
    dataset, :mod:`nlpkit.rnn.news_lm`): nothing is re-tokenized.
    """
    if not isinstance(text, str):
        return list(text)
    if level == "char":
        return list(text)
    if level == "word":
        return [t for line in text.splitlines() if line.strip() for t in (*line.split(), "<eos>")]
    if level == "morph":
        raise ModelError("morpheme-level text comes as tokens read from the store (nlpkit.rnn.news_lm), not as a str")
    raise ModelError(f"level must be 'char', 'word' or 'morph', got {level!r}")


def _columns(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    n = ids.numel() // batch_size
    if n < 2:
        raise ModelError(f"the text is too short ({ids.numel()} tokens) for batch size {batch_size}")
    return ids[: n * batch_size].view(batch_size, n)


@torch.no_grad()
def stream_loss(model: RNNLanguageModel, ids: torch.Tensor, runtime: Runtime, *, batch_size: int = 16,
                seq_len: int = 256) -> float:
    """Mean next-token loss (nats) over a whole stream, stateful across windows."""
    model.eval()
    data = _columns(ids, batch_size).to(runtime.device)
    state, total, count = None, 0.0, 0
    for t in range(0, data.shape[1] - 1, seq_len):
        x, y = data[:, t : t + seq_len], data[:, t + 1 : t + 1 + seq_len]
        x = x[:, : y.shape[1]]
        with runtime.autocast(training=False):
            logits, state = model(x, state)
        total += float(nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1),
                                                   reduction="sum"))
        count += y.numel()
    model.train()
    return total / max(1, count)


def _lm_metrics(loss: float, level: str, chars_per_token: float | None = None) -> dict[str, float]:
    """Loss per token; perplexity for words and morphemes; nats per character when the characters are known."""
    out = {"loss": loss, "nats_per_token": loss}
    if level != "char":
        out["perplexity"] = math.exp(min(loss, 50))
    if chars_per_token:
        out["nats_per_char"] = loss / chars_per_token
    return out


@dataclass
class LMTask(TaskBase):
    """The language model as the driver's :class:`~nlpkit.rnn.driver.TrainTask`."""

    train_text: str | Sequence[str]  # a str is split by ``level``; a sequence is the tokens already
    valid_text: str | Sequence[str]
    settings: LMSettings
    source: str = ""
    valid_chars: int | None = None  # characters the valid tokens cover (nats per character for morphemes)
    extra_config: dict[str, Any] | None = None  # e.g. the stored tokens read (config.json's ``tokens``)
    test_text: str | Sequence[str] | None = None  # scored once on the best weights (split ``test``)
    test_chars: int | None = None
    kind: ClassVar[Kind] = Kind("lm", LMConfig, RNNLanguageModel, "loss", "min")

    def build(self, saved: Any, runtime: Runtime) -> Built:
        self.cpu_started = time.process_time()
        st = self.settings
        level, seq_len, tie = st.level, st.seq_len, st.tie_weights
        if saved is not None:
            cfg, seq_len = LMConfig(**saved.config["model"]), int(saved.config["seq_len"])
            level = cfg.level
        train_toks = lm_tokens(self.train_text, level)
        if tie is None:  # tying pays off for large word/morpheme vocabularies (Press & Wolf); chars have ~65 outputs
            tie = level != "char"
        opts, sizing = st.train, None
        if saved is not None:
            vocab = saved.vocab
        else:
            vocab = Vocab.build([train_toks], min_freq=st.min_freq, max_size=st.max_vocab, level=level)
            planned = self._size(len(vocab), len(train_toks), runtime)
            if planned is not None:
                sizing, opts = planned
                st = self.settings
                seq_len = st.seq_len
            cfg = LMConfig(vocab_size=len(vocab), level=level, arch=st.arch,  # type: ignore[arg-type]
                           embed_dim=st.embed_dim or (st.hidden_size if tie else 256), hidden_size=st.hidden_size,
                           num_layers=st.num_layers, dropout=st.dropout, tie_weights=tie, layer_norm=st.layer_norm)
        self.vocab = vocab
        self.train_ids = torch.tensor(vocab.encode(train_toks), dtype=torch.long)
        self.valid_ids = torch.tensor(vocab.encode(lm_tokens(self.valid_text, level)), dtype=torch.long)
        if self.valid_ids.numel() < 32:
            raise ModelError(f"validation text has only {self.valid_ids.numel()} tokens; give more held-out text")
        self.cfg, self.seq_len, self.runtime = cfg, seq_len, runtime
        self.batch_size, self.seed = opts.batch_size, opts.seed
        self.eval_bs = min(16, max(1, self.valid_ids.numel() // (2 * seq_len)))
        log.info("lm: %d train / %d valid %s tokens, vocab %d, %dx%d %s on %s", self.train_ids.numel(),
                 self.valid_ids.numel(), level, len(vocab), cfg.num_layers, cfg.hidden_size, cfg.arch, runtime.device)
        config = {"model": cfg.to_dict(), "seq_len": seq_len, "train_tokens": int(self.train_ids.numel()),
                  "valid_tokens": int(self.valid_ids.numel()), **(self.extra_config or {})}
        self.chars_per_token = (self.valid_chars / self.valid_ids.numel()) if self.valid_chars else None
        steps = math.ceil((self.train_ids.numel() // self.batch_size) / seq_len)
        return Built(RNNLanguageModel(cfg).to(runtime.device), vocab, config, steps, opts=opts, sizing=sizing)

    def _size(self, vocab_size: int, tokens: int, runtime: Runtime) -> tuple[dict[str, Any], TrainOptions] | None:
        """Sizes for the time budget (``settings.sizing.mode == "budget"``); replaces ``self.settings``."""
        st = self.settings
        if st.sizing.mode != "budget":
            return None
        planned = size_for_budget("lm", st.train, runtime, vocab_size=vocab_size, data_tokens=tokens,
                                  pinned=pinned_values(st, sized_fields("lm")), throughput=st.sizing.throughput)
        if planned is None:
            log.warning("lm: sizing to the budget needs max_cpu_minutes or max_minutes; fixed sizes used")
            return None
        plan, opts = planned
        self.settings = replace(st, train=opts, **{k: plan.sizes[k] for k in ("hidden_size", "num_layers", "seq_len")})
        return plan.to_dict(), opts

    def train_epoch(self, loop: Loop, train_model: Any, steps_per_epoch: int) -> list[float]:
        seq_len = self.seq_len
        # the window offset depends on the epoch only, so a resumed run sees the same batches
        offset = random.Random(self.seed + loop.epoch).randrange(seq_len) if loop.epoch else 0
        data = _columns(self.train_ids[offset:], self.batch_size).to(self.runtime.device)
        state, losses = None, []
        for t in range(0, data.shape[1] - 1, seq_len):
            x, y = data[:, t : t + seq_len], data[:, t + 1 : t + 1 + seq_len]
            x = x[:, : y.shape[1]]
            held: dict[str, Any] = {"state": detach_state(state)}

            def compute_loss(x: torch.Tensor = x, y: torch.Tensor = y, held: dict[str, Any] = held) -> torch.Tensor:
                logits, held["state"] = train_model(x, held["state"])
                return nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))

            losses.append(loop.train_step(compute_loss, y.numel(), steps_per_epoch))
            state = held["state"]
            if loop.out_of_time():
                break
        return losses

    def validate(self, model: Any, runtime: Runtime) -> dict[str, float]:
        loss = stream_loss(model, self.valid_ids, runtime, batch_size=self.eval_bs, seq_len=self.seq_len)
        return _lm_metrics(loss, self.cfg.level, self.chars_per_token)

    def finish(self, model: Any, loop: Loop, runtime: Runtime) -> tuple[dict[str, Any], str, str]:
        best = loop.best if loop.best is not None else float("nan")
        level = self.cfg.level
        metrics: dict[str, Any] = {"valid_loss": best, "level": level}
        if level == "char":
            metrics["valid_nats_per_char"] = best
        else:
            metrics["valid_perplexity"] = math.exp(min(best, 50))
            if self.chars_per_token:
                metrics["valid_nats_per_char"] = best / self.chars_per_token
        if self.test_text is not None:
            ids = torch.tensor(self.vocab.encode(lm_tokens(self.test_text, level)), dtype=torch.long)
            loss = stream_loss(model, ids, runtime, batch_size=self.eval_bs, seq_len=self.seq_len)
            test = _lm_metrics(loss, level, self.test_chars / ids.numel() if self.test_chars else None)
            loop.record("test", **test)
            metrics.update({f"test_{k}": v for k, v in test.items() if k != "nats_per_token"})
            metrics["test_unk_rate"] = float((ids == self.vocab.unk_id).float().mean())
        metrics["cpu_seconds"] = round(time.process_time() - self.cpu_started, 1)  # the process's, all threads
        return metrics, f"{level}-level {self.cfg.arch} LM on {self.source or 'text'}", f"rnn_lm_{level}"



def train_lm(train_text: str | Sequence[str], valid_text: str | Sequence[str], *, out: str | Path,
             settings: LMSettings | None = None, opts: TrainOptions | None = None, source: str = "", store: Any = None,
             resume: bool = False, overwrite: bool = False, on_progress: ProgressFn | None = None,
             valid_chars: int | None = None, extra_config: dict[str, Any] | None = None,
             test_text: str | Sequence[str] | None = None, test_chars: int | None = None,
             **overrides: Any) -> TrainResult:
    """Train a language model on ``train_text``; early-stop and report on ``valid_text``; save to ``out``.

    Texts are strings split by ``settings.level``, or token sequences (stored morphemes, see
    :func:`nlpkit.rnn.news_lm.train_news_lm`); ``valid_chars`` (the characters the valid tokens
    cover) adds nats per character; ``test_text`` is scored once on the best weights. ``settings`` (default :class:`LMSettings`) may be adjusted with
    keyword ``overrides``. ``tie_weights=None`` ties except at char level: with ~65 characters
    tying saves nothing and, measured on tiny-shakespeare slices, generalised worse.
    """
    settings = with_overrides(settings or LMSettings(), opts, **overrides)
    task = LMTask(train_text, valid_text, settings, source=source, valid_chars=valid_chars, extra_config=extra_config,
                  test_text=test_text, test_chars=test_chars)
    return fit(task, settings.train, out=out, source=source, store=store, resume=resume, overwrite=overwrite,
               on_progress=on_progress)


def load_lm(path: str | Path, device: str = "cpu") -> tuple[RNNLanguageModel, dict[str, Any], Vocab]:
    """The language model, config and vocabulary in a model directory (checked, eval mode)."""
    model, saved = load_saved_model(path, kind="lm", config_cls=LMConfig, model_cls=RNNLanguageModel)
    return model.to(resolve_runtime(device).device).eval(), saved.config, saved.vocab  # type: ignore[return-value]


def evaluate_lm(path: str | Path, text: str | Sequence[str], *, device: str = "auto", batch_size: int = 16,
                chars: int | None = None) -> dict[str, float]:
    """Loss (nats/token; perplexity for words and morphemes) of a saved model on ``text`` (a str or its
    tokens); unknown tokens count as ``<unk>``. ``chars`` (characters the tokens cover) adds nats per character."""
    model, config, vocab = load_lm(path, device)
    level = model.config.level
    ids = torch.tensor(vocab.encode(lm_tokens(text, level)), dtype=torch.long)
    if ids.numel() < 2 * batch_size:
        batch_size = max(1, ids.numel() // 2)
    loss = stream_loss(model, ids, resolve_runtime(device), batch_size=batch_size, seq_len=int(config["seq_len"]))
    per_token = (chars / ids.numel()) if chars else (1.0 if level == "char" else None)
    return {**_lm_metrics(loss, level, per_token), "tokens": float(ids.numel()),
            "unk_rate": float((ids == vocab.unk_id).float().mean())}
