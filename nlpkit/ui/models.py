"""The Models page's answers: ``model_runs`` with confusion matrices, the flows' run history, the saved
models a person can try, and the predict box behind them.

A saved model is one of

- a TF-IDF baseline (the latest ``<dataset>_baseline`` dataset, ``nlpkit models baseline``), key ``baseline:<dataset>``;
- an RNN classifier directory (``nlpkit train classifier``) named by a ``model_runs.model_dir`` or found
  under ``<data_dir>/models/``, key its path.

Both are loaded through :func:`nlpkit.topics.classifier.load_topic_classifier`, so a text is tokenized by
the spec stored with the model and the answer carries the label *name*. Only keys from
:func:`saved_models` are accepted: the page never loads a path a visitor typed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpkit.datasets.labels import label_names, name_of
from nlpkit.errors import NlpkitError
from nlpkit.rnn.model_checks import MAX_CONFIG_BYTES, read_json_checked
from nlpkit.store import SqlSandbox, Store
from nlpkit.ui.corpus import UiError

__all__ = ["AUTO", "FIGURES", "SavedModel", "Predicted", "Predictor", "read_model_runs", "read_runs", "saved_models"]

_MAX_TEXT = 20_000  # characters a predict request may carry


AUTO = "auto"  # the predict box's default: the first saved model whose language is the text's


@dataclass(frozen=True, slots=True)
class SavedModel:
    key: str    # what the form sends back: baseline:<dataset> or the model directory
    title: str  # what the menu shows
    version: str
    language: str = "und"  # of its training dataset (nlpkit.models.language.dataset_language)


@dataclass(frozen=True, slots=True)
class Predicted:
    """The predict box's answer: the label name, its probability, the runners-up, which model answered and
    a warning when the text is not in the model's language."""

    model: str
    label: str
    probability: float
    others: list[tuple[str, float]]
    language: str = "und"  # the text's
    warning: str = ""


#: Each kind's figures, in the order a row shows them (classifiers, seq2seq, language models, all).
FIGURES = (("accuracy", "accuracy"), ("f1", "macro F1"), ("exact_match", "exact match"), ("perplexity", "perplexity"),
           ("nats_per_token", "nats/token"), ("loss", "loss"))


def read_model_runs(sandbox: SqlSandbox, store: Store, datasets: list[str], limit: int) -> list[dict[str, Any]]:
    """One entry per model (name, dataset and, for RNNs, directory), newest first, from the newest ``limit`` rows:
    a retrained baseline's earlier versions are its history.

    An entry is its latest evaluation (the latest ``test`` row when there is one, else the latest row),
    with ``figures`` (label, value rounded to 3 decimals), the sample size when the test was a sample
    (``sample``: the RNN's ``eval_limit`` note), the confusion matrix with the dataset's label names
    and ``history``: every other row, oldest last, for a folded table.
    """
    del datasets  # names come from nlpkit.datasets.labels, which reads the store itself
    cols, rows = sandbox.query(f"SELECT * FROM model_runs ORDER BY created_at DESC LIMIT {int(limit)}")
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        d = dict(zip(cols, r, strict=True))
        key = (str(d.get("model") or ""), str(d.get("dataset") or ""), str(d.get("model_dir") or ""))
        groups.setdefault(key, []).append(d)
    names_of: dict[str, dict[str, str]] = {}
    out = []
    for n, ((model, dataset, where), group) in enumerate(groups.items()):
        latest = next((d for d in group if d.get("split") == "test"), group[0])
        if dataset not in names_of:
            names_of[dataset] = label_names(store, dataset)
        shown = next((d for d in group if d.get("confusion") and d.get("split") == latest.get("split")), None) \
            or next((d for d in group if d.get("confusion")), None)
        matrix, classes = _matrix(shown) if shown else (None, [])
        out.append({
            "n": n, "model": model, "dataset": dataset, "where": where, "model_dir": latest.get("model_dir"),
            "split": latest.get("split"),
            "created_at": str(latest.get("created_at") or "")[:19].replace("T", " "),
            "figures": [(label, round(float(latest[key]), 3)) for key, label in FIGURES
                        if latest.get(key) is not None and latest[key] == latest[key]],
            "accuracy_std": latest.get("accuracy_std"), "rows": latest.get("n"), "sample": _sample_note(latest),
            "elapsed_s": latest.get("elapsed_s"),
            "matrix": matrix, "class_names": [name_of(names_of[dataset], c) for c in classes],
            "matrix_split": shown.get("split") if shown else None,
            "history": [{"created_at": str(d.get("created_at") or "")[:19].replace("T", " "), "split": d.get("split"),
                         "epoch": d.get("epoch"),
                         "figures": ", ".join(f"{label} {float(d[k]):.3f}" for k, label in FIGURES
                                              if d.get(k) is not None and d[k] == d[k])}
                        for d in group if d is not latest],
        })
    return out


def _matrix(row: dict[str, Any]) -> tuple[list[list[int]] | None, list[Any]]:
    try:
        return json.loads(row["confusion"]), (json.loads(row["classes"]) if row.get("classes") else [])
    except (TypeError, ValueError):
        return None, []


def _sample_note(row: dict[str, Any]) -> str:
    """``"a stratified sample of 1,000 of 19,998 rows"`` when the row's split was sampled (``eval_limit``), else ""."""
    try:
        params = json.loads(row.get("params") or "{}")
    except (TypeError, ValueError):
        return ""
    notes = params.get("notes") if isinstance(params, dict) else None
    split = str(row.get("split") or "")
    for note in notes if isinstance(notes, list) else []:
        if isinstance(note, str) and note.startswith(f"{split}:") and "sample" in note:
            return note.split(":", 1)[1].strip()
    limit = params.get("eval_limit") if isinstance(params, dict) else None
    return f"a sample of at most {int(limit):,} rows (eval_limit)" if isinstance(limit, int) else ""


def read_runs(sandbox: SqlSandbox, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The flows' run history, newest first (``runs`` append table)."""
    _, described = sandbox.query("DESCRIBE runs")
    names = [str(r[0]) for r in described]
    order = next((c for c in ("started_at", "start", "time", "created_at") if c in names), names[0])
    return sandbox.query(f'SELECT * FROM runs ORDER BY "{order}" DESC LIMIT {int(limit)}')


def _rnn_dirs(store: Store, runs: list[dict[str, Any]]) -> list[Path]:
    from nlpkit import rnn

    found: list[Path] = []
    candidates = [Path(str(r["model_dir"])) for r in runs if r.get("model_dir")]
    models = store.root / "models" if isinstance(store.root, Path) else None
    if models is not None and models.is_dir():
        candidates += sorted(p for p in models.iterdir() if p.is_dir())
    for path in candidates:
        try:
            resolved = path.resolve()
            if resolved not in found and rnn.model_kind(resolved) == "classifier":
                found.append(resolved)
        except (OSError, ValueError):
            continue  # a moved or unreadable directory is not offered
    return found


def saved_models(store: Store, runs: list[dict[str, Any]], sandbox: SqlSandbox | None = None) -> list[SavedModel]:
    """Every model the predict box can use: the datasets' baselines, then the RNN classifiers (with languages)."""
    from nlpkit.models.language import dataset_language

    def language(dataset: str) -> str:
        return dataset_language(sandbox, dataset) if sandbox is not None and dataset else "und"

    out = []
    for name in store.datasets():
        if name.endswith("_baseline"):
            dataset = name.removesuffix("_baseline")
            try:
                version = store.latest(name).version
            except NlpkitError:
                continue
            lang = language(dataset)
            out.append(SavedModel(f"baseline:{dataset}", f"TF-IDF baseline of {dataset} ({version}, {lang})", version,
                                  lang))
    for path in _rnn_dirs(store, runs):
        try:
            config = read_json_checked(path / "config.json", max_bytes=MAX_CONFIG_BYTES)
            stamp = str((path / "model.safetensors").stat().st_mtime_ns)
        except (OSError, ValueError, NlpkitError):  # a damaged model directory is left out of the list
            continue
        source = str(config.get("source") or "?")
        lang = language(source if source != "?" else "")
        out.append(SavedModel(str(path), f"RNN classifier {path.name} ({config.get('arch', 'rnn')}, trained on {source}, "
                                         f"{lang})", stamp, lang))
    return out


class Predictor:
    """Loads each saved model once per version and answers the predict box (thread-safe)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[str, Any]] = {}

    def predict(self, models: list[SavedModel], key: str, text: str) -> Predicted:
        from nlpkit.models.language import mismatch
        from nlpkit.text.lang import detect_language

        language = detect_language(text)
        if key in ("", AUTO):
            key = _matching(models, language)
        by_key = {m.key: m for m in models}
        if key not in by_key:
            offered = ", ".join(m.title for m in models) or "(none: train one with `nlpkit models baseline korean_news`)"
            raise UiError(f"unknown model {key[:80]!r}: pick one of the saved models: {offered}")
        text = text.strip()
        if not text:
            raise UiError("nothing to classify: type a sentence in the box")
        if len(text) > _MAX_TEXT:
            raise UiError(f"the text has {len(text):,} characters; the predict box takes up to {_MAX_TEXT:,}")
        model = by_key[key]
        with self._lock:
            hit = self._loaded.get(key)
            if hit is None or hit[0] != model.version:
                from nlpkit.topics.classifier import load_topic_classifier

                hit = self._loaded[key] = (model.version, load_topic_classifier(self.store, key))
        answer = self._answer(model, hit[1], text)
        warning = mismatch(model.language, text)
        return Predicted(answer.model, answer.label, answer.probability, answer.others, language, warning)

    def warm(self, models: list[SavedModel]) -> None:
        """Load every model and its libraries (skops, torch) now, so the first prediction is fast."""
        for m in models:
            try:
                self.predict(models, m.key, "warm up 준비")
            except NlpkitError:
                continue  # a text the model cannot read still loaded it

    def _answer(self, model: SavedModel, clf: Any, text: str) -> Predicted:
        if clf.kind == "baseline":
            from nlpkit.models.baseline import predict_texts

            p = predict_texts(self.store, clf.dataset, [text])[0]
        else:
            from nlpkit import rnn

            try:
                p = rnn.predict(clf._model_dir, [text])[0]
            except NlpkitError as e:
                raise UiError(f"{model.title} cannot classify this text: {e}") from e
        names = {str(k): v for k, v in clf.label_names.items()}
        ranked = sorted(p.probabilities.items(), key=lambda kv: -kv[1])
        readable = [(name_of(names, k), float(v)) for k, v in ranked]
        return Predicted(model.title, name_of(names, p.name), float(p.probability), readable[1:4])


def _matching(models: list[SavedModel], language: str) -> str:
    """The first saved model trained in ``language`` (the text's), else the first model."""
    if not models:
        return ""
    return next((m.key for m in models if m.language == language), models[0].key)
