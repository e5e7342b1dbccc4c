"""Train, evaluate and apply the RNN sentiment/topic classifier.

>>> splits = load_labelled(store, "nsmc")                                  # doctest: +SKIP
>>> result = train_classifier(splits, out="models/nsmc", tokenizer="okt")  # doctest: +SKIP
>>> predict_text("models/nsmc", "정말 재미있어요")                            # doctest: +SKIP
('1', 0.93)
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nlpkit.errors import CheckpointError, ModelError
from nlpkit.rnn._torch import nn, torch
from nlpkit.rnn.batching import bucket_batches, pad_batch, to_device
from nlpkit.rnn.checkpoint import (check_out_dir, load_saved_model, load_training_state, load_weights,
                                   save_model_dir)
from nlpkit.rnn.classifier import ClassifierConfig, RNNClassifier
from nlpkit.rnn.data import LabelledSplits, get_token_fn
from nlpkit.rnn.device import Runtime, resolve_runtime
from nlpkit.rnn.reports import save_and_report
from nlpkit.rnn.train_loop import Loop, ProgressFn, TrainOptions, set_seed
from nlpkit.rnn.vocab import Vocab

__all__ = ["ClassifierResult", "train_classifier", "evaluate_classifier", "load_classifier", "predict_text",
           "encode_texts"]

log = logging.getLogger(__name__)


@dataclass
class ClassifierResult:
    model_dir: Path
    metrics: dict[str, Any]


def encode_texts(tokens: Sequence[Sequence[str]], vocab: Vocab, max_len: int) -> list[list[int]]:
    """Ids per text, cut to ``max_len`` keeping the first quarter and the last three quarters
    (reviews often state the verdict at the end); an empty text becomes one ``<unk>``."""
    head = max_len // 4
    out = []
    for toks in tokens:
        ids = vocab.encode(toks)
        if len(ids) > max_len:
            ids = ids[:head] + ids[len(ids) - (max_len - head):]
        out.append(ids or [vocab.unk_id])
    return out


@torch.no_grad()
def _evaluate(model: RNNClassifier, ids: list[list[int]], labels: list[int], runtime: Runtime,
              batch_size: int) -> dict[str, float]:
    from sklearn.metrics import f1_score

    model.eval()
    total, preds = 0.0, [0] * len(ids)
    for batch in bucket_batches([len(x) for x in ids], batch_size, shuffle=False):
        x, lengths = pad_batch([ids[i] for i in batch])
        y = torch.tensor([labels[i] for i in batch])
        with runtime.autocast(training=False):
            logits = model(to_device(x, runtime.device), lengths).float()
        total += float(nn.functional.cross_entropy(logits, to_device(y, runtime.device), reduction="sum"))
        for i, p in zip(batch, logits.argmax(-1).tolist(), strict=True):
            preds[i] = p
    model.train()
    n = max(1, len(ids))
    acc = sum(int(p == t) for p, t in zip(preds, labels, strict=True)) / n
    return {"loss": total / n, "accuracy": acc, "f1": float(f1_score(labels, preds, average="macro")), "n": len(ids)}


def train_classifier(
    splits: LabelledSplits,
    *,
    out: str | Path,
    tokenizer: str = "words",
    arch: str = "lstm",
    bidirectional: bool = True,
    embed_dim: int = 128,
    hidden_size: int = 128,
    num_layers: int = 1,
    dropout: float = 0.3,
    pooling: str = "last_max",
    min_freq: int = 2,
    max_vocab: int | None = 30000,
    max_len: int = 400,
    opts: TrainOptions | None = None,
    source: str = "",
    store: Any = None,
    resume: bool = False,
    overwrite: bool = False,
    on_progress: ProgressFn | None = None,
) -> ClassifierResult:
    """Train on ``splits['train']``, early-stop on ``valid``, report ``test``; save to ``out``.

    With ``resume=True`` training continues from the model and optimizer state in ``out``
    (its config and vocabulary win over the arguments given here). An existing ``out`` is
    replaced only when it is an nlpkit model directory and ``overwrite=True`` (see ``check_out_dir``).
    """
    opts = opts or TrainOptions()
    if max_len < 1:
        raise ModelError(f"max_len must be >= 1, got {max_len}")
    set_seed(opts.seed)
    runtime = resolve_runtime(opts.device, amp=opts.amp, compile=opts.compile, threads=opts.threads)
    out = Path(out)
    check_out_dir(out, overwrite=overwrite, resume=resume)
    # on resume the directory is fully checked (config ranges, shapes on the meta device, finite weights) first
    saved = load_saved_model(out, kind="classifier", config_cls=ClassifierConfig, model_cls=RNNClassifier)[1] if resume else None
    if saved is not None:
        tokenizer, max_len = saved.config["tokenizer"], int(saved.config["max_len"])
        if saved.config["labels"] != splits.label_names:
            raise CheckpointError(f"{out} was trained on labels {saved.config['labels']}, the data has "
                                  f"{splits.label_names}")
    token_fn = get_token_fn(tokenizer)
    tokens = {sp: token_fn(texts) for sp, texts in splits.texts.items()}
    if saved is not None:
        vocab, model_cfg = saved.vocab, ClassifierConfig(**saved.config["model"])
    else:
        vocab = Vocab.build(tokens["train"], min_freq=min_freq, max_size=max_vocab, level=tokenizer)
        model_cfg = ClassifierConfig(vocab_size=len(vocab), num_classes=len(splits.label_names), arch=arch,  # type: ignore[arg-type]
                                     embed_dim=embed_dim, hidden_size=hidden_size, num_layers=num_layers,
                                     bidirectional=bidirectional, dropout=dropout, pooling=pooling)  # type: ignore[arg-type]
    ids = {sp: encode_texts(t, vocab, max_len) for sp, t in tokens.items()}
    labels = splits.labels
    model = RNNClassifier(model_cfg).to(runtime.device)
    if saved is not None:
        load_weights(model, saved.weights, str(out))
    steps_per_epoch = math.ceil(len(ids["train"]) / opts.batch_size)
    loop = Loop(model, opts, runtime, total_steps=steps_per_epoch * opts.epochs, on_progress=on_progress)
    if saved is not None:
        loop.load_counters(load_training_state(out, loop.optimizer))
        loop.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    train_model = runtime.maybe_compile(model)
    config = {"kind": "classifier", "model": model_cfg.to_dict(), "tokenizer": tokenizer, "max_len": max_len,
              "labels": splits.label_names, "source": source, "train": opts.to_dict(), "notes": splits.notes}
    log.info("classifier: %d train / %d valid / %d test texts, vocab %d, %s on %s", len(ids["train"]),
             len(ids["valid"]), len(ids["test"]), len(vocab), model_cfg.arch, runtime.device)

    while loop.epoch < opts.epochs and not loop.should_stop and not loop.out_of_time():
        losses = []
        for batch in bucket_batches([len(x) for x in ids["train"]], opts.batch_size, seed=opts.seed + loop.epoch):
            x, lengths = pad_batch([ids["train"][i] for i in batch])
            y = to_device(torch.tensor([labels["train"][i] for i in batch]), runtime.device)
            x = to_device(x, runtime.device)

            def compute_loss(x: torch.Tensor = x, lengths: torch.Tensor = lengths, y: torch.Tensor = y) -> torch.Tensor:
                return nn.functional.cross_entropy(train_model(x, lengths).float(), y)

            losses.append(loop.train_step(compute_loss, int(lengths.sum()), steps_per_epoch))
            if loop.out_of_time():
                break
        loop.epoch += 1
        loop.record("train", loss=sum(losses) / max(1, len(losses)), tokens_per_s=loop.tokens_per_second())
        valid = _evaluate(model, ids["valid"], labels["valid"], runtime, opts.batch_size * 2)
        loop.record("valid", loss=valid["loss"], accuracy=valid["accuracy"], f1=valid["f1"])
        loop.improved(valid["accuracy"], mode="max")
        save_model_dir(out, model, config=config, vocab=vocab, metrics={"history": loop.history},
                       optimizer=loop.optimizer, counters=loop.counters())

    loop.restore_best()
    metrics: dict[str, Any] = {"best_valid_accuracy": loop.best, **loop.summary(), "device": str(runtime.device)}
    if ids["test"]:
        test = _evaluate(model, ids["test"], labels["test"], runtime, opts.batch_size * 2)
        loop.record("test", loss=test["loss"], accuracy=test["accuracy"], f1=test["f1"])
        metrics.update({f"test_{k}": v for k, v in test.items()})
    metrics["history"] = loop.history
    save_and_report(out, model, loop, config=config, vocab=vocab, metrics=metrics,
                    title=f"{model_cfg.arch} classifier on {source or 'data'}",
                    model_name=f"rnn_{model_cfg.arch}", source=source, store=store)
    return ClassifierResult(model_dir=out, metrics=metrics)


def load_classifier(path: str | Path, device: str = "cpu") -> tuple[RNNClassifier, dict[str, Any], Vocab]:
    """The model, config and vocabulary stored in a classifier directory (checked, in eval mode)."""
    model, saved = load_saved_model(path, kind="classifier", config_cls=ClassifierConfig, model_cls=RNNClassifier)
    return model.to(resolve_runtime(device).device).eval(), saved.config, saved.vocab  # type: ignore[return-value]


def evaluate_classifier(path: str | Path, splits: LabelledSplits, *, split: str = "test", device: str = "auto",
                        batch_size: int = 128) -> dict[str, float]:
    """Loss, accuracy and macro-F1 of a saved classifier on one split of ``splits``."""
    model, config, vocab = load_classifier(path, device)
    if splits.label_names != config["labels"]:
        raise ModelError(f"the data's labels {splits.label_names} differ from the model's {config['labels']}")
    if not splits.texts.get(split):
        raise ModelError(f"the data has no {split!r} rows to evaluate on")
    tokens = get_token_fn(config["tokenizer"])(splits.texts[split])
    ids = encode_texts(tokens, vocab, int(config["max_len"]))
    runtime = resolve_runtime(device)
    return _evaluate(model, ids, splits.labels[split], runtime, batch_size)


@functools.lru_cache(maxsize=4)
def _cached(path: str, stamp: tuple[tuple[int, int], ...]) -> tuple[RNNClassifier, dict[str, Any], Vocab]:
    return load_classifier(path)


def predict_text(model_dir: str | Path, text: str) -> tuple[str, float]:
    """The most probable label of ``text`` and its probability.

    Raises ModelError for empty text or text with no token the model knows.
    """
    if not isinstance(text, str) or not text.strip():
        raise ModelError("cannot classify an empty text; pass the text to classify")
    path = Path(model_dir).resolve()
    # reload when any file changed (mtime and size of config, weights and vocabulary)
    stamp = tuple((st.st_mtime_ns, st.st_size) if (f := path / name).exists() and (st := f.stat()) else (0, 0)
                  for name in ("config.json", "model.safetensors", "vocab.json"))
    model, config, vocab = _cached(str(path), stamp)
    tokens = get_token_fn(config["tokenizer"])([text])[0]
    known = [t for t in tokens if t in vocab]
    if not known:
        raise ModelError(f"none of the tokens of {text[:40]!r} ({tokens[:8]}) is in the model's vocabulary; "
                         "the text may be in another language than the training data")
    ids = encode_texts([tokens], vocab, int(config["max_len"]))[0]
    with torch.no_grad():
        probs = torch.softmax(model(torch.tensor([ids]), torch.tensor([len(ids)])).float(), -1)[0]
    best = int(probs.argmax())
    if not bool(torch.isfinite(probs).all()):
        raise ModelError(f"{path}: the model produced non-finite probabilities for this text; it is damaged")
    return str(config["labels"][best]), float(probs[best])


def with_options(opts: TrainOptions, **changes: Any) -> TrainOptions:
    """A copy of ``opts`` with some fields changed (validated again)."""
    return replace(opts, **changes)
