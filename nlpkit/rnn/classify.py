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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from nlpkit.errors import CheckpointError, ModelError
from nlpkit.models.prediction import Prediction
from nlpkit.rnn._torch import nn, torch
from nlpkit.rnn.batching import bucket_batches, pad_batch, to_device
from nlpkit.rnn.checkpoint import load_saved_model
from nlpkit.rnn.classifier import ClassifierConfig, RNNClassifier
from nlpkit.rnn.configs import ClassifierSettings, pinned_values, with_overrides
from nlpkit.rnn.data import LabelledSplits
from nlpkit.rnn.device import Runtime, resolve_runtime
from nlpkit.rnn.driver import Built, Kind, TaskBase, TrainResult, fit
from nlpkit.rnn.token_source import (TokenFormat, TokensRecord, attach_stored_tokens, is_engine_backend,
                                     text_tokenizer)
from nlpkit.rnn.sizing import size_for_budget, sized_fields
from nlpkit.rnn.train_loop import Clock, Loop, ProgressFn, TrainOptions
from nlpkit.rnn.vocab import Vocab
from nlpkit.store.model_runs import confusion_detail

__all__ = ["ClassifierResult", "ClassifierTask", "train_classifier", "evaluate_classifier", "load_classifier",
           "predict", "predict_text", "model_tokenizer", "encode_texts"]

log = logging.getLogger(__name__)


ClassifierResult = TrainResult  # the one result type of every trainer


def encode_texts(tokens: Sequence[Sequence[str]], vocab: Vocab, max_len: int,
                 head_fraction: float = 0.25) -> list[list[int]]:
    """Ids per text, cut to ``max_len`` keeping ``head_fraction`` of it from the start and the rest
    from the end (reviews often state the verdict at the end, news articles the topic in the lead);
    an empty text becomes one ``<unk>``."""
    head = int(max_len * head_fraction)
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
    return {"loss": total / n, "accuracy": acc, "f1": float(f1_score(labels, preds, average="macro")), "n": len(ids),
            "preds": preds}


@dataclass
class ClassifierTask(TaskBase):
    """The classifier as the driver's :class:`~nlpkit.rnn.driver.TrainTask`."""

    splits: LabelledSplits
    settings: ClassifierSettings
    store: Any = None
    source: str = ""
    kind: ClassVar[Kind] = Kind("classifier", ClassifierConfig, RNNClassifier, "accuracy", "max")

    def build(self, saved: Any, runtime: Runtime) -> Built:
        st, splits = self.settings, self.splits
        tokenizer, max_len, user_dicts, token_format = st.tokenizer, st.max_len, st.user_dicts, st.token_format
        self.view, self.head = st.view, st.head_fraction
        if saved is not None:
            tokenizer, max_len = saved.config["tokenizer"], int(saved.config["max_len"])
            self.view, self.head = _view(saved.config), _head(saved.config)
            user_dicts = tuple(saved.config.get("tokens", {}).get("user_dicts", ()))
            token_format = saved.config.get("tokens", {}).get("token_format", "form")
            if saved.config["labels"] != splits.label_names:
                raise CheckpointError(f"saved model was trained on labels {saved.config['labels']}, the data has "
                                      f"{splits.label_names}")
        record = self._tokens(tokenizer, user_dicts, token_format)
        assert splits.tokens is not None
        opts, sizing = st.train, None
        if saved is not None:
            vocab, cfg = saved.vocab, ClassifierConfig(**saved.config["model"])
        else:
            vocab = Vocab.build(splits.tokens["train"], min_freq=st.min_freq, max_size=st.max_vocab, level=tokenizer)
            planned = self._size(len(vocab), runtime)
            if planned is not None:
                sizing, opts = planned
                st = self.settings
                max_len = st.max_len
            cfg = ClassifierConfig(vocab_size=len(vocab), num_classes=len(splits.label_names), arch=st.arch,  # type: ignore[arg-type]
                                   embed_dim=st.embed_dim, hidden_size=st.hidden_size, num_layers=st.num_layers,
                                   bidirectional=st.bidirectional, dropout=st.dropout, pooling=st.pooling)  # type: ignore[arg-type]
        self.ids = {sp: encode_texts(t, vocab, max_len, self.head) for sp, t in splits.tokens.items()}
        self.runtime, self.cfg = runtime, cfg
        self.batch_size, self.seed = opts.batch_size, opts.seed
        log.info("classifier: %d train / %d valid / %d test texts, vocab %d, %s on %s", len(self.ids["train"]),
                 len(self.ids["valid"]), len(self.ids["test"]), len(vocab), cfg.arch, runtime.device)
        config = {"model": cfg.to_dict(), "tokenizer": tokenizer, "tokens": record.to_dict(), "max_len": max_len,
                  "labels": splits.label_names, "notes": splits.notes, "view": self.view, "head_fraction": self.head}
        return Built(RNNClassifier(cfg).to(runtime.device), vocab, config,
                     math.ceil(len(self.ids["train"]) / self.batch_size), opts=opts, sizing=sizing)

    def _size(self, vocab_size: int, runtime: Runtime) -> tuple[dict[str, Any], TrainOptions] | None:
        """Sizes for the time budget (``settings.sizing.mode == "budget"``); replaces ``self.settings``."""
        st = self.settings
        if st.sizing.mode != "budget":
            return None
        assert self.splits.tokens is not None
        planned = size_for_budget("classifier", st.train, runtime, vocab_size=vocab_size,
                                  pinned=pinned_values(st, sized_fields("classifier")),
                                  lengths=[len(t) for t in self.splits.tokens["train"]],
                                  throughput=st.sizing.throughput)
        if planned is None:
            log.warning("classifier: sizing to the budget needs max_cpu_minutes or max_minutes; fixed sizes used")
            return None
        plan, opts = planned
        model = {k: plan.sizes[k] for k in ("embed_dim", "hidden_size", "num_layers", "max_len")}
        self.settings = replace(st, train=opts, **model)
        return plan.to_dict(), opts

    def _tokens(self, tokenizer: str, user_dicts: tuple[str, ...], token_format: TokenFormat) -> TokensRecord:
        """Stored tokens when the data comes from the store and the backend is an engine; else in memory."""
        splits = self.splits
        if splits.tokens is None and self.store is not None and self.source and splits.ids \
                and is_engine_backend(tokenizer):
            return attach_stored_tokens(self.store, self.source, splits, tokenizer, user_dicts, view=self.view,
                                        token_format=token_format)
        fn = text_tokenizer(tokenizer, user_dicts, view=self.view, token_format=token_format)
        if splits.tokens is None:
            splits.tokens = {sp: fn(texts) for sp, texts in splits.texts.items()}
        sha = ""
        if is_engine_backend(tokenizer):
            from nlpkit.tokenize import get_tokenizer

            sha = getattr(get_tokenizer(tokenizer, user_dicts=list(user_dicts)), "dict_sha256", "")
        return TokensRecord(tokenizer, tuple(str(Path(d).resolve()) for d in user_dicts), sha, "",
                            token_format=token_format)

    def train_epoch(self, loop: Loop, train_model: Any, steps_per_epoch: int) -> list[float]:
        ids, labels, device = self.ids["train"], self.splits.labels["train"], self.runtime.device
        losses = []
        for batch in bucket_batches([len(x) for x in ids], self.batch_size, seed=self.seed + loop.epoch):
            x, lengths = pad_batch([ids[i] for i in batch])
            y = to_device(torch.tensor([labels[i] for i in batch]), device)
            x = to_device(x, device)

            def compute_loss(x: torch.Tensor = x, lengths: torch.Tensor = lengths, y: torch.Tensor = y) -> torch.Tensor:
                return nn.functional.cross_entropy(train_model(x, lengths).float(), y)

            losses.append(loop.train_step(compute_loss, int(lengths.sum()), steps_per_epoch))
            if loop.out_of_time():
                break
        return losses

    def validate(self, model: Any, runtime: Runtime) -> dict[str, float]:
        v = _evaluate(model, self.ids["valid"], self.splits.labels["valid"], runtime, self.batch_size * 2)
        return {"loss": v["loss"], "accuracy": v["accuracy"], "f1": v["f1"]}

    def finish(self, model: Any, loop: Loop, runtime: Runtime) -> tuple[dict[str, Any], str, str]:
        metrics: dict[str, Any] = {"best_valid_accuracy": loop.best}
        if self.ids["test"]:
            test = _evaluate(model, self.ids["test"], self.splits.labels["test"], runtime, self.batch_size * 2)
            preds = test.pop("preds")
            loop.record("test", loss=test["loss"], accuracy=test["accuracy"], f1=test["f1"], n=test["n"])
            loop.history[-1].update(confusion_detail(self.splits.labels["test"], preds,
                                                     range(len(self.splits.label_names)), self.splits.label_names))
            metrics.update({f"test_{k}": v for k, v in test.items()})
            if "test" in self.splits.sampled_from:  # eval_limit: the figure is a sample's, and says so
                metrics["test_sampled_from"] = self.splits.sampled_from["test"]
                metrics["test_note"] = (f"stratified sample of {test['n']:,} of {self.splits.sampled_from['test']:,} "
                                        "test rows (eval_limit)")
        if "valid" in self.splits.sampled_from:
            metrics["valid_sampled_from"] = self.splits.sampled_from["valid"]
        return metrics, f"{self.cfg.arch} classifier on {self.source or 'data'}", f"rnn_{self.cfg.arch}"



def train_classifier(splits: LabelledSplits, *, out: str | Path, settings: ClassifierSettings | None = None,
                     opts: TrainOptions | None = None, source: str = "", store: Any = None, resume: bool = False,
                     overwrite: bool = False, on_progress: ProgressFn | None = None, clock: Clock | None = None,
                     **overrides: Any) -> TrainResult:
    """Train on ``splits['train']``, early-stop on ``valid``, report ``test``; save to ``out``.

    ``settings`` (default :class:`ClassifierSettings`) may be adjusted with keyword ``overrides``
    (``tokenizer="mecab"``, ``num_layers=2``, ...). With ``store`` and ``source`` (the store
    dataset the splits came from) and an engine tokenizer, the tokens are read from the stored
    ``tokens_<source>_<tokenizer>`` dataset (built first when missing), never re-computed.
    With ``resume=True`` training continues from ``out`` (its config and vocabulary win).
    ``clock`` is where the time budgets read wall and CPU time (default: the real clocks).
    """
    settings = with_overrides(settings or ClassifierSettings(), opts, **overrides)
    task = ClassifierTask(splits, settings, store=store, source=source)
    return fit(task, settings.train, out=out, source=source, store=store, resume=resume, overwrite=overwrite,
               on_progress=on_progress, clock=clock)


def load_classifier(path: str | Path, device: str = "cpu") -> tuple[RNNClassifier, dict[str, Any], Vocab]:
    """The model, config and vocabulary stored in a classifier directory (checked, in eval mode)."""
    model, saved = load_saved_model(path, kind="classifier", config_cls=ClassifierConfig, model_cls=RNNClassifier)
    return model.to(resolve_runtime(device).device).eval(), saved.config, saved.vocab  # type: ignore[return-value]


def model_tokenizer(config: dict[str, Any]) -> Callable[[Sequence[str]], list[list[str]]]:
    """The tokenizer a saved classifier was trained with: same backend, dictionaries (checked by sha256)."""
    rec = config.get("tokens") or {}
    sha = rec.get("dict_sha256") or None
    return text_tokenizer(str(config["tokenizer"]), tuple(rec.get("user_dicts", ())), sha, dict(rec.get("options", {})),
                          view=_view(config), token_format=rec.get("token_format", "form"))


def _view(config: dict[str, Any]) -> str:
    return str(config.get("view", "all"))  # models saved before views existed used every token


def _head(config: dict[str, Any]) -> float:
    return float(config.get("head_fraction", 0.25))


def evaluate_classifier(path: str | Path, splits: LabelledSplits, *, split: str = "test", device: str = "auto",
                        batch_size: int = 128, store: Any = None, source: str = "") -> dict[str, float]:
    """Loss, accuracy and macro-F1 of a saved classifier on one split of ``splits``.

    With ``store`` and ``source`` the split's tokens are read from the stored tokens dataset
    (as in training); otherwise the texts are tokenized with the model's own tokenizer.
    """
    model, config, vocab = load_classifier(path, device)
    if splits.label_names != config["labels"]:
        raise ModelError(f"the data's labels {splits.label_names} differ from the model's {config['labels']}")
    if not splits.texts.get(split):
        raise ModelError(f"the data has no {split!r} rows to evaluate on")
    rec = config.get("tokens") or {}
    if splits.tokens is None and store is not None and source and splits.ids and is_engine_backend(config["tokenizer"]):
        attach_stored_tokens(store, source, splits, str(config["tokenizer"]), tuple(rec.get("user_dicts", ())),
                             view=_view(config), token_format=rec.get("token_format", "form"))
    tokens = splits.tokens[split] if splits.tokens is not None else model_tokenizer(config)(splits.texts[split])
    ids = encode_texts(tokens, vocab, int(config["max_len"]), _head(config))
    runtime = resolve_runtime(device)
    scores = _evaluate(model, ids, splits.labels[split], runtime, batch_size)
    scores.pop("preds")
    return scores


@functools.lru_cache(maxsize=4)
def _cached(path: str, stamp: tuple[tuple[int, int], ...]) -> tuple[RNNClassifier, dict[str, Any], Vocab]:
    return load_classifier(path)


def predict(model_dir: str | Path, texts: Sequence[str]) -> list[Prediction]:
    """A :class:`~nlpkit.models.prediction.Prediction` per text, tokenized exactly as in training.

    Raises ModelError for an empty text or one with no token the model knows.
    """
    if isinstance(texts, str):
        raise ModelError("predict expects a list of texts, got one str; use predict_text for a single text")
    texts = list(texts)
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            raise ModelError("cannot classify an empty text; pass the text to classify")
    path = Path(model_dir).resolve()
    # reload when any file changed (mtime and size of config, weights and vocabulary)
    stamp = tuple((st.st_mtime_ns, st.st_size) if (f := path / name).exists() and (st := f.stat()) else (0, 0)
                  for name in ("config.json", "model.safetensors", "vocab.json"))
    model, config, vocab = _cached(str(path), stamp)
    names = [str(n) for n in config["labels"]]
    out = []
    for text, tokens in zip(texts, model_tokenizer(config)(texts), strict=True):
        if not any(t in vocab for t in tokens):
            raise ModelError(f"none of the tokens of {text[:40]!r} ({tokens[:8]}) is in the model's vocabulary; "
                             "the text may be in another language than the training data")
        ids = encode_texts([tokens], vocab, int(config["max_len"]), _head(config))[0]
        with torch.no_grad():
            probs = torch.softmax(model(torch.tensor([ids]), torch.tensor([len(ids)])).float(), -1)[0]
        if not bool(torch.isfinite(probs).all()):
            raise ModelError(f"{path}: the model produced non-finite probabilities for this text; it is damaged")
        best = int(probs.argmax())
        out.append(Prediction(best, names[best], float(probs[best]), dict(zip(names, probs.tolist(), strict=True))))
    return out


def predict_text(model_dir: str | Path, text: str) -> tuple[str, float]:
    """The most probable label name of ``text`` and its probability (see :func:`predict`)."""
    p = predict(model_dir, [text])[0]
    return p.name, p.probability
