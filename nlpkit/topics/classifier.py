"""A topic classifier, classical or RNN, behind one small interface the news stages use.

Two kinds answer the same ``predict(texts)`` call with one :class:`TopicPrediction` per text:

- ``baseline:<dataset>``: the latest TF-IDF baseline of ``<dataset>`` (``nlpkit baseline
  korean_news``); its model id is ``tfidf_<variant>:<dataset>`` and its version the baseline
  dataset's version (``v3``);
- a directory written by ``nlpkit train classifier``: model id ``rnn:<folder name>``, version the
  first 12 hex digits of the sha256 of its ``model.safetensors`` (a retrained model is a new
  version, so its predictions are written again).

Label ids map to names through the dataset's own names (:func:`nlpkit.datasets.labels.label_names`;
``korean_news``: 정치, 경제, ...), so a prediction always carries both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlpkit.datasets.labels import int_label_names
from nlpkit.errors import ModelError
from nlpkit.store import Store

__all__ = ["TopicClassifier", "TopicPrediction", "load_topic_classifier"]


@dataclass(frozen=True, slots=True)
class TopicPrediction:
    """One text's topic: label id, its name and the probability the model gives it.

    ``error`` is set (and label/name/probability are None) when the model could not classify
    the text, e.g. an RNN whose vocabulary knows none of its tokens.
    """

    label: int | None
    name: str | None
    probability: float | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TopicClassifier:
    """A loaded topic model: ``kind`` ``baseline`` or ``rnn``, its id, version and label names."""

    kind: str
    model: str
    version: str
    dataset: str
    label_names: Mapping[int, str]
    _store: Store | None = None
    _model_dir: Path | None = None

    def predict(self, texts: Sequence[str]) -> list[TopicPrediction]:
        """One prediction per text, in order; a text the model cannot classify gets ``error``."""
        if isinstance(texts, str):
            raise ModelError("predict expects a list of texts, got one str")
        if self.kind == "baseline":
            from nlpkit.models.baseline import predict_texts

            if self._store is None:
                raise ModelError("a baseline TopicClassifier needs its store; load it with load_topic_classifier")
            return [TopicPrediction(p.label, self.label_names.get(p.label, p.name), p.probability)
                    for p in predict_texts(self._store, self.dataset, list(texts))]
        from nlpkit import rnn

        ids = {name: i for i, name in self.label_names.items()}
        out: list[TopicPrediction] = []
        for text in texts:
            try:
                name, probability = rnn.predict_text(self._model_dir, text)  # type: ignore[arg-type]
            except ModelError as e:
                out.append(TopicPrediction(None, None, None, str(e)))
                continue
            label = ids.get(name)
            if label is None and name.lstrip("-").isdigit():
                label = int(name)
                name = self.label_names.get(label, name)
            out.append(TopicPrediction(label, name, probability))
        return out


def load_topic_classifier(store: Store, model: str) -> TopicClassifier:
    """The classifier ``model`` names: ``baseline:<dataset>`` or an RNN classifier directory.

    >>> clf = load_topic_classifier(store, "baseline:korean_news")   # doctest: +SKIP
    >>> clf.predict(["반도체 수출이 늘었다"])[0].name                     # doctest: +SKIP
    '경제'
    """
    if model.startswith("baseline:"):
        dataset = model.removeprefix("baseline:")
        from nlpkit.models.baseline import load_baseline

        _, config = load_baseline(store, dataset)  # a clear ModelError when there is none
        params = config.get("params", {})
        # the names stored with the model at training (taken from the dataset then), else the dataset's now
        names = {int(k): str(v) for k, v in (params.get("label_names") or {}).items()} or int_label_names(store, dataset)
        version = store.latest(f"{dataset}_baseline").version
        return TopicClassifier("baseline", f"tfidf_{params.get('variant', 'lr')}:{dataset}", version, dataset,
                               names, _store=store)
    path = Path(model)
    config_path = path / "config.json"
    if not config_path.is_file():
        raise ModelError(f"topic model {model!r}: expected 'baseline:<dataset>' (e.g. baseline:korean_news) or a "
                         "directory written by `nlpkit train classifier` (none with a config.json there)")
    from nlpkit import rnn

    if rnn.model_kind(path) != "classifier":
        raise ModelError(f"{path} is a {rnn.model_kind(path) or 'non-nlpkit'} model, not a classifier; "
                         "train one with `nlpkit train classifier --dataset korean_news`")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    dataset = str(config.get("source", ""))
    trained = [str(n) for n in config.get("labels", [])]  # the names the model answers with
    names = int_label_names(store, dataset)
    if not names or not set(trained) <= set(names.values()) | {str(k) for k in names}:
        names = dict(enumerate(trained))  # a model trained under other names keeps its own
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"{weights} is missing; retrain the model with `nlpkit train classifier`")
    digest = hashlib.sha256()
    with weights.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return TopicClassifier("rnn", f"rnn:{path.resolve().name}", digest.hexdigest()[:12], dataset, names,
                           _model_dir=path.resolve())
