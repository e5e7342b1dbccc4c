"""Predicted topics of the scraped news articles, aligned with a corpus for filtering and display.

``article_topics`` (written by ``nlpkit topics apply`` / the topics flow) holds one row per article,
model and model version. The app shows one topic per article: the newest prediction with a label
(a skipped article, e.g. an English one under a Korean model, has none), so a retrained model's
answers replace the old ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from nlpkit.store import SqlSandbox
from nlpkit.ui.corpus import Corpus

__all__ = ["Topics", "read_topics"]

_LATEST = """
SELECT article_id, label_name, probability, model FROM article_topics
WHERE label_name IS NOT NULL AND probability IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY predicted_at DESC, model) = 1
"""


@dataclass(frozen=True)
class Topics:
    """Per corpus row: the topic name ("" when none), its probability (NaN) and the model that gave it."""

    names: np.ndarray
    probability: np.ndarray
    model: np.ndarray

    def values(self) -> list[str]:
        """The topic names present, sorted (the filter menu)."""
        return self._values

    @cached_property
    def _values(self) -> list[str]:
        return sorted({str(n) for n in self.names if n})

    def of(self, row: int) -> tuple[str, float, str] | None:
        name = str(self.names[row])
        return (name, float(self.probability[row]), str(self.model[row])) if name else None


def read_topics(sandbox: SqlSandbox, corpus: Corpus) -> Topics:
    """The latest labelled prediction of each of ``corpus``'s documents (keyed by the article URL)."""
    n = len(corpus.row)
    names = np.full(n, "", dtype=object)
    prob = np.full(n, np.nan)
    model = np.full(n, "", dtype=object)
    t = sandbox.arrow(_LATEST).to_pydict()
    for doc, name, p, m in zip(t["article_id"], t["label_name"], t["probability"], t["model"], strict=True):
        r = corpus.row.get(doc)
        if r is not None:
            names[r], prob[r], model[r] = name, p, m
    return Topics(names, prob, model)
