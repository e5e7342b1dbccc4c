"""PyTorch recurrent models: sentiment/topic classifiers, language models, seq2seq.

Importing this package does not import torch. The torch-free entry points here load the
heavy modules on first use; a missing torch raises MissingDependencyError saying
``pip install 'nlpkit[torch]'``.

- ``nlpkit.rnn.vocab``, ``batching``, ``data``, ``reports``, ``configs``, ``token_source``: torch-free building blocks.
- ``nlpkit.rnn.driver``: ``fit``, the one training driver every kind below runs through.
- ``nlpkit.rnn.classify``: ``train_classifier``, ``evaluate_classifier``, ``predict_text``.
- ``nlpkit.rnn.lm_train`` and ``sampling``: ``train_lm``, ``evaluate_lm``, ``generate``.
- ``nlpkit.rnn.seq2seq_train``: ``train_seq2seq``, ``compare_variants``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nlpkit.models.prediction import Prediction
from nlpkit.rnn.checkpoint import is_model_dir
from nlpkit.rnn.vocab import Vocab

__all__ = ["Prediction", "Vocab", "is_model_dir", "model_kind", "predict", "predict_text"]


def model_kind(model_dir: str | Path) -> str | None:
    """``"classifier"``, ``"lm"`` or ``"seq2seq"`` for an nlpkit RNN model directory, else None."""
    from nlpkit.rnn.checkpoint import FORMAT
    from nlpkit.rnn.model_checks import MAX_CONFIG_BYTES, read_json_checked

    cfg = Path(model_dir) / "config.json"
    if not cfg.is_file():
        return None
    data = read_json_checked(cfg, max_bytes=MAX_CONFIG_BYTES)  # a damaged config.json: one line naming it
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return str(data.get("kind"))


def predict_text(model_dir: str | Path, text: str) -> tuple[str, float]:
    """Label name and probability a saved RNN classifier gives ``text`` (imports torch on first use)."""
    from nlpkit.rnn.classify import predict_text as _predict

    return _predict(model_dir, text)


def predict(model_dir: str | Path, texts: Sequence[str]) -> list[Prediction]:
    """A :class:`~nlpkit.models.prediction.Prediction` per text (label id, name, probability, all probabilities)."""
    from nlpkit.rnn.classify import predict as _predict

    return _predict(model_dir, texts)
