"""The language a classifier reads, and the check that a text is in it.

A model knows the words of the corpus it was trained on; Korean text given to the English IMDB
model gets an answer that means nothing ("positive 0.54"). The language of a model is that of its
training dataset: the most common :func:`nlpkit.text.lang.detect_language` answer over the first
texts of the dataset (a few dozen are plenty: each corpus is in one language).

>>> mismatch("en", "정말 감동적인 영화였다")
'the model was trained on English text; this text looks Korean (ko): its answer means little'
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from nlpkit.errors import NlpkitError
from nlpkit.text.lang import detect_language

__all__ = ["LANGUAGE_NAMES", "dataset_language", "mismatch"]

LANGUAGE_NAMES = {"ko": "Korean", "en": "English", "ru": "Russian", "und": "undetermined"}
_SAMPLE = 48


def dataset_language(sandbox: Any, dataset: str) -> str:
    """``ko``/``en``/... for ``dataset`` (read through the SQL sandbox: the first rows only), ``und`` when unknown."""
    try:
        _, rows = sandbox.query(f'SELECT text FROM "{dataset}" WHERE text IS NOT NULL LIMIT {_SAMPLE}')
    except NlpkitError:  # a dataset without text (or gone) has no known language
        return "und"
    votes = Counter(detect_language(str(r[0])) for r in rows if r and r[0])
    votes.pop("und", None)
    return votes.most_common(1)[0][0] if votes else "und"


def mismatch(model_language: str, text: str) -> str:
    """A one-line warning when ``text`` is not in ``model_language`` (both known), else ``""``."""
    found = detect_language(text)
    if "und" in (model_language, found) or found == model_language:
        return ""
    return (f"the model was trained on {LANGUAGE_NAMES.get(model_language, model_language)} text; this text looks "
            f"{LANGUAGE_NAMES.get(found, found)} ({found}): its answer means little")
