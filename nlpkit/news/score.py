"""The article-extraction benchmark's scoring: 4-token shingles, per-page P/R, F1 of the means.

Matches ``scrapinghub/article-extraction-benchmark`` (see the MANIFEST of
``article_extraction_dev``): tokens are ``\\w+`` matches; per page the multisets of
4-token shingles of truth and prediction give tp/fp/fn, normalised by tp+fp+fn; precision
is averaged over pages with tp+fp>0, recall over pages with tp+fn>0, and F1 is the
harmonic mean of the two averages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ExtractionScore", "page_counts", "score_pages"]

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class ExtractionScore:
    """Benchmark scores over a set of pages."""

    f1: float
    precision: float
    recall: float
    pages: int


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    if len(tokens) < n:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_counts(truth: str, prediction: str) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) of one page's shingles; all zero when both are empty."""
    t, p = _shingles(truth), _shingles(prediction)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    if total == 0:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


def score_pages(pairs: Iterable[tuple[str, str]]) -> ExtractionScore:
    """Score (truth, prediction) pairs the way the benchmark does.

    >>> score_pages([("a b c d e", "a b c d e")]).f1
    1.0
    """
    precisions: list[float] = []
    recalls: list[float] = []
    n = 0
    for truth, prediction in pairs:
        n += 1
        tp, fp, fn = page_counts(truth, prediction)
        if tp == fp == fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if tp + fp > 0:
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(tp / (tp + fn))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ExtractionScore(f1=f1, precision=precision, recall=recall, pages=n)
