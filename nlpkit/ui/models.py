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

from nlpkit.errors import NlpkitError
from nlpkit.store import SqlSandbox, Store
from nlpkit.ui.corpus import UiError, label_names

__all__ = ["SavedModel", "Predicted", "Predictor", "read_model_runs", "read_runs", "saved_models"]

_MAX_TEXT = 20_000  # characters a predict request may carry


@dataclass(frozen=True, slots=True)
class SavedModel:
    key: str    # what the form sends back: baseline:<dataset> or the model directory
    title: str  # what the menu shows
    version: str


@dataclass(frozen=True, slots=True)
class Predicted:
    """The predict box's answer: the label name, its probability and the runners-up."""

    model: str
    label: str
    probability: float
    others: list[tuple[str, float]]


def read_model_runs(sandbox: SqlSandbox, store: Store, datasets: list[str], limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` rows of ``model_runs``, each with its confusion matrix and class names."""
    cols, rows = sandbox.query(f"SELECT * FROM model_runs ORDER BY created_at DESC LIMIT {int(limit)}")
    names_of: dict[str, dict[str, str]] = {}
    out = []
    for i, r in enumerate(rows):
        d = dict(zip(cols, r))
        d["n"] = i
        try:
            d["matrix"] = json.loads(d["confusion"]) if d.get("confusion") else None
            classes = json.loads(d["classes"]) if d.get("classes") else []
        except (TypeError, ValueError):
            d["matrix"], classes = None, []
        dataset = str(d.get("dataset") or "")
        if dataset not in names_of:
            names_of[dataset] = _label_names(sandbox, store, dataset, datasets)
        d["class_names"] = [names_of[dataset].get(str(x), str(x)) for x in classes]
        out.append(d)
    return out


def _label_names(sandbox: SqlSandbox, store: Store, dataset: str, datasets: list[str]) -> dict[str, str]:
    """Label value -> name: the dataset's own ``category`` column wins over the registry's names."""
    names = label_names(dataset)
    if dataset in datasets and "category" in store.columns(dataset):
        _, rows = sandbox.query(f'SELECT DISTINCT CAST(label AS VARCHAR), category FROM "{dataset}"')
        names.update({str(a): str(b) for a, b in rows if b})
    return names


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


def saved_models(store: Store, runs: list[dict[str, Any]]) -> list[SavedModel]:
    """Every model the predict box can use: the datasets' baselines, then the RNN classifiers."""
    out = []
    for name in store.datasets():
        if name.endswith("_baseline"):
            dataset = name.removesuffix("_baseline")
            try:
                version = store.latest(name).version
            except NlpkitError:
                continue
            out.append(SavedModel(f"baseline:{dataset}", f"TF-IDF baseline of {dataset} ({version})", version))
    for path in _rnn_dirs(store, runs):
        try:
            config = json.loads((path / "config.json").read_text(encoding="utf-8"))
            stamp = str((path / "model.safetensors").stat().st_mtime_ns)
        except (OSError, ValueError):
            continue
        source = config.get("source") or "?"
        out.append(SavedModel(str(path), f"RNN classifier {path.name} ({config.get('arch', 'rnn')}, trained on {source})",
                              stamp))
    return out


class Predictor:
    """Loads each saved model once per version and answers the predict box (thread-safe)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[str, Any]] = {}

    def predict(self, models: list[SavedModel], key: str, text: str) -> Predicted:
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
        clf = hit[1]
        return self._answer(model, clf, text)

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
        names = dict(clf.label_names)
        ranked = sorted(p.probabilities.items(), key=lambda kv: -kv[1])
        readable = [(_name(names, k), float(v)) for k, v in ranked]
        return Predicted(model.title, _name(names, p.name), float(p.probability), readable[1:4])


def _name(names: dict[int, str], value: str) -> str:
    """A label id printed as a digit becomes its name (``"1"`` -> ``"economy"``)."""
    return names.get(int(value), value) if str(value).lstrip("-").isdigit() else str(value)
