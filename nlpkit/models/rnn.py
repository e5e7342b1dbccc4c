"""RNN classifier predictions under ``nlpkit.models`` (``nlpkit predict DIR TEXT`` looks here).

The models themselves live in :mod:`nlpkit.rnn`; this module only re-exports its
torch-free prediction entry points.
"""

from nlpkit.rnn import Prediction, is_model_dir, predict, predict_text

__all__ = ["Prediction", "is_model_dir", "predict", "predict_text"]
