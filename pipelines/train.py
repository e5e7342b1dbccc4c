"""RNN training flows, one per model kind: the same library calls as `nlpkit train classifier|lm|seq2seq`.

Each flow trains, then reloads the saved model directory and evaluates it (proving the
checkpoint round trip), and returns the metrics. Settings come in as the ``settings`` parameter
(resolved once); relative ``out``/``text`` paths are read from the settings file's folder. Training is deterministic for a seed, so
no retries; every run appends its evaluations to ``model_runs``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from prefect import flow, task

from nlpkit.settings import Settings
from pipelines._runtime import RUN_HOOKS, publish, resolve, store


def _opts(**kw: Any) -> Any:
    from nlpkit.rnn.train_loop import TrainOptions

    return TrainOptions(**{k: v for k, v in kw.items() if v is not None})


def _sizing(size: str, kind: str, given: dict[str, Any]) -> Any:
    """``size="budget"``: the model is sized to its budget, keeping the sized options this flow was given."""
    from nlpkit.rnn.configs import SizingOptions
    from nlpkit.rnn.sizing import sized_fields

    return SizingOptions(size, tuple(k for k, v in given.items() if v is not None and k in sized_fields(kind)))


def _brief(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "history"}


@task
def train_classifier_task(dataset: str, out: str, data_dir: str | None, options: dict[str, Any],
                          model: dict[str, Any], eval_limit: int | None = None,
                          reload_check_limit: int = 1000) -> dict[str, Any]:
    """Train, then reload the saved directory and score it on a stratified sample of the test rows already
    in memory (their stored tokens attached): the round trip is checked without reading the data again."""
    from nlpkit.datasets.labels import int_label_names
    from nlpkit.rnn.classify import evaluate_classifier, train_classifier
    from nlpkit.rnn.data import cap_eval_splits, load_labelled

    s = store(data_dir)
    opts = _opts(**options)
    splits = load_labelled(s, dataset, seed=opts.seed, eval_limit=eval_limit, label_names=int_label_names(s, dataset))
    metrics = _brief(train_classifier(splits, out=out, opts=opts, source=dataset, store=s, **model).metrics)
    check = replace(splits, texts=dict(splits.texts), labels=dict(splits.labels), ids=dict(splits.ids),
                    tokens=dict(splits.tokens or {}) or None, notes=[],
                    sampled_from=dict(splits.sampled_from))
    cap_eval_splits(check, reload_check_limit, seed=opts.seed)
    metrics["reloaded_test"] = evaluate_classifier(out, check, device="cpu")
    return metrics


@flow(name="train-classifier", **RUN_HOOKS)
def train_classifier_flow(dataset: str = "nsmc", out: str = "models/nsmc_lstm", tokenizer: str = "words",
                          arch: str = "lstm", bidirectional: bool = True, epochs: int = 10,
                          max_minutes: float | None = 30.0, seed: int = 0, device: str = "auto",
                          threads: int | None = None, eval_limit: int | None = None, data_dir: str | None = None,
                          settings: Settings | str | None = None, max_cpu_minutes: float | None = None,
                          user_dicts: list[str] | None = None, token_format: str | None = None,
                          max_len: int | None = None, embed_dim: int | None = None, hidden_size: int | None = None,
                          num_layers: int | None = None, dropout: float | None = None, max_vocab: int | None = None,
                          batch_size: int | None = None, lr: float | None = None,
                          warmup_steps: int | None = None, size: str = "fixed") -> dict[str, Any]:
    """Train the RNN classifier on a labelled store dataset, then check the reloaded model on 1,000 test rows.

    Options left ``None`` keep :class:`~nlpkit.rnn.configs.ClassifierSettings`' defaults.
    ``max_cpu_minutes`` bounds the process's CPU time (honest on a shared machine),
    ``max_minutes`` the wall time; ``user_dicts`` are the tokenize stage's dictionaries;
    ``eval_limit`` evaluates valid/test on a stratified sample of that many rows (the quick profile);
    ``size="budget"`` sizes the model to the budget (:mod:`nlpkit.rnn.sizing`) keeping the sizes given here.
    """
    cfg = resolve(settings, data_dir)
    data_dir, out = str(cfg.data_dir), str(cfg.path(out))
    options = {"epochs": epochs, "max_minutes": max_minutes, "seed": seed, "device": device, "threads": threads,
               "max_cpu_minutes": max_cpu_minutes, "batch_size": batch_size, "lr": lr, "warmup_steps": warmup_steps}
    model = {"tokenizer": tokenizer, "arch": arch, "bidirectional": bidirectional, "token_format": token_format,
             "user_dicts": tuple(str(cfg.path(d)) for d in user_dicts) if user_dicts else None, "max_len": max_len,
             "embed_dim": embed_dim, "hidden_size": hidden_size, "num_layers": num_layers, "dropout": dropout,
             "max_vocab": max_vocab}
    model["sizing"] = _sizing(size, "classifier", {**model, **options})
    metrics = train_classifier_task(dataset, out, data_dir, options, model, eval_limit)
    return publish(f"train-classifier {dataset}", {"model": out, **metrics})


@task
def train_lm_task(text: str | None, dataset: str | None, out: str, level: str, data_dir: str | None,
                  options: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    from nlpkit.rnn.configs import LMSettings, with_overrides
    from nlpkit.rnn.data import load_lm_text
    from nlpkit.rnn.lm_train import train_lm

    s = store(data_dir)
    if model.get("tokenizer"):  # the dataset's stored tokens (`nlpkit train lm --tokenizer`), never re-tokenized
        from nlpkit.rnn.news_lm import train_news_lm

        return _brief(train_news_lm(s, str(dataset), out=out, level=level, overwrite=True, **model,
                                    **options).metrics)
    train, valid, source = load_lm_text(text_file=text, store=s if dataset else None, dataset=dataset)
    # options left None keep LMSettings' training defaults (epochs 50, lr 3e-3), not TrainOptions' generic ones
    settings = with_overrides(LMSettings(), level=level, **model, **options)
    result = train_lm(train, valid, out=out, settings=settings, source=source, store=s)
    metrics = _brief(result.metrics)
    metrics["valid_text_chars"] = len(valid)
    return metrics


@flow(name="train-lm", **RUN_HOOKS)
def train_lm_flow(text: str | None = None, dataset: str | None = "lm_tinyshakespeare", out: str = "models/char_lm",
                  level: str = "char", hidden_size: int | None = None, num_layers: int | None = None,
                  dropout: float | None = None, epochs: int = 50, batch_size: int | None = None,
                  lr: float | None = None, max_minutes: float | None = 30.0,
                  seed: int = 0, device: str = "auto", threads: int | None = None,
                  data_dir: str | None = None, settings: Settings | str | None = None,
                  tokenizer: str | None = None, max_vocab: int | None = None, seq_len: int | None = None,
                  max_cpu_minutes: float | None = None, size: str = "fixed") -> dict[str, Any]:
    """Train a char/word LM on a text file or store dataset; report nats/char or perplexity.

    With ``tokenizer`` (e.g. kiwi) the LM learns from the dataset's stored tokens
    (``tokens_<dataset>_<backend>``; ``level`` morph or char), as `nlpkit train lm --tokenizer` does.
    ``max_cpu_minutes`` bounds the process's CPU time, ``max_minutes`` the wall time; ``size="budget"``
    sizes the model to that budget, keeping the sizes given here. Options left ``None`` keep
    :class:`~nlpkit.rnn.configs.LMSettings`' defaults.
    """
    cfg = resolve(settings, data_dir)
    data_dir, out = str(cfg.data_dir), str(cfg.path(out))
    text = str(cfg.path(text)) if text else None
    options = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "max_minutes": max_minutes, "seed": seed,
               "device": device, "threads": threads, "warmup_steps": 100, "max_cpu_minutes": max_cpu_minutes}
    model = {k: v for k, v in {"hidden_size": hidden_size, "num_layers": num_layers, "dropout": dropout,
                               "tokenizer": tokenizer, "max_vocab": max_vocab, "seq_len": seq_len}.items()
             if v is not None}
    model["sizing"] = _sizing(size, "lm", {**model, **options})
    metrics = train_lm_task(text, dataset if text is None else None, out, level, data_dir, options, model)
    return publish(f"train-lm {dataset or text}", {"model": out, **metrics})


@task
def train_seq2seq_task(out: str, reverse: bool, peeky: bool, data_dir: str | None, options: dict[str, Any],
                       task_kw: dict[str, Any]) -> dict[str, Any]:
    from nlpkit.rnn.seq2seq_train import evaluate_seq2seq, train_seq2seq

    from nlpkit.rnn.configs import Seq2SeqSettings, with_overrides

    settings = with_overrides(Seq2SeqSettings(), **task_kw, **options)  # None keeps Seq2SeqSettings' defaults
    result = train_seq2seq(out=out, reverse=reverse, peeky=peeky, settings=settings, store=store(data_dir))
    metrics = _brief(result.metrics)
    metrics["reloaded_test_exact_match"] = evaluate_seq2seq(out, device="cpu")["exact_match"]
    return metrics


@flow(name="train-seq2seq", **RUN_HOOKS)
def train_seq2seq_flow(out: str = "models/seq2seq", max_digits: int = 3, n_train: int = 45000, n_test: int = 5000,
                       epochs: int = 25, lr: float | None = None, max_minutes: float | None = None, seed: int = 0,
                       device: str = "auto", threads: int | None = None,
                       data_dir: str | None = None, settings: Settings | str | None = None,
                       max_cpu_minutes: float | None = None, batch_size: int | None = None,
                       hidden_size: int | None = None, embed_dim: int | None = None,
                       size: str = "fixed") -> dict[str, dict[str, Any]]:
    """Train plain, reversed and reversed+peeky seq2seq on addition side by side (one task each);
    ``max_minutes``/``max_cpu_minutes`` are the budgets of each variant (``size="budget"``: the model is
    sized to them, the same sizes for the three variants, so only the trick differs)."""
    from nlpkit.rnn.seq2seq_train import VARIANTS

    cfg = resolve(settings, data_dir)
    data_dir, out = str(cfg.data_dir), str(cfg.path(out))

    options = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "patience": 5, "max_minutes": max_minutes,
               "seed": seed, "device": device, "threads": threads, "max_cpu_minutes": max_cpu_minutes}
    task_kw = {"max_digits": max_digits, "n_train": n_train, "n_test": n_test,
               **{k: v for k, v in {"hidden_size": hidden_size, "embed_dim": embed_dim}.items() if v is not None}}
    task_kw["sizing"] = _sizing(size, "seq2seq", {**task_kw, **options})
    results = {name: train_seq2seq_task(f"{out}/{name.replace('+', '_')}", rev, peek, data_dir, options, task_kw)
               for name, rev, peek in VARIANTS}
    publish("train-seq2seq", {name: {k: v for k, v in m.items() if isinstance(v, (int, float, str))}
                              for name, m in results.items()})
    return results
