"""PyTorch recurrent models: sentiment/topic classifiers, language models, seq2seq.

Importing this package does not import torch. The torch-free entry points here load the
heavy modules on first use; a missing torch raises MissingDependencyError saying
``pip install 'nlpkit[torch]'``.

- ``nlpkit.rnn.vocab``, ``batching``, ``data``, ``reports``: torch-free building blocks.
- ``nlpkit.rnn.classify``: ``train_classifier``, ``evaluate_classifier``, ``predict_text``.
- ``nlpkit.rnn.lm_train`` and ``sampling``: ``train_lm``, ``evaluate_lm``, ``generate``.
- ``nlpkit.rnn.seq2seq_train``: ``train_seq2seq``, ``compare_variants``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nlpkit.rnn.checkpoint import is_model_dir
from nlpkit.rnn.vocab import Vocab

__all__ = ["Prediction", "Vocab", "is_model_dir", "model_kind", "predict", "predict_text"]


@dataclass(frozen=True, slots=True)
class Prediction:
    """A classifier's answer for one text; prints as ``label<TAB>probability``."""

    name: str
    probability: float

    def __str__(self) -> str:
        return f"{self.name}\t{self.probability:.3f}"


def model_kind(model_dir: str | Path) -> str | None:
    """``"classifier"``, ``"lm"`` or ``"seq2seq"`` for an nlpkit RNN model directory, else None."""
    import json

    if not is_model_dir(model_dir):
        return None
    return str(json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8")).get("kind"))


def predict_text(model_dir: str | Path, text: str) -> tuple[str, float]:
    """Label and probability a saved RNN classifier gives ``text`` (imports torch on first use)."""
    from nlpkit.rnn.classify import predict_text as _predict

    return _predict(model_dir, text)


def predict(model_dir: str | Path, texts: Sequence[str]) -> list[Prediction]:
    """:func:`predict_text` for several texts, in order."""
    if isinstance(texts, str):
        raise TypeError("predict expects a list of texts, got one str; use predict_text for a single text")
    return [Prediction(*predict_text(model_dir, t)) for t in texts]
