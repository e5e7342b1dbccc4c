"""The article-extraction benchmark's scoring: 4-token shingles, per-page P/R, F1 of the means.

Matches ``scrapinghub/article-extraction-benchmark`` (see the MANIFEST of
``article_extraction_dev``): tokens are ``\\w+`` matches; per page the multisets of
4-token shingles of truth and prediction give tp/fp/fn, normalised by tp+fp+fn; precision
is averaged over pages with tp+fp>0, recall over pages with tp+fn>0, and F1 is the
harmonic mean of the two averages.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit
from dataclasses import dataclass

__all__ = ["ExtractionScore", "page_counts", "score_pages", "score_snippets", "site_fold", "site_of"]

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


def score_snippets(pages: Iterable[tuple[Sequence[str], Sequence[str], str]]) -> ExtractionScore:
    """trafilatura's evaluation (its ``tests/comparison.py``): ``(with, without, text)`` per page.

    A ``with`` snippet found in the text is a true positive, a missing one a false negative; a
    ``without`` snippet found is a false positive. Precision and recall are over all snippets
    of all pages (micro), F1 their harmonic mean.

    >>> score_snippets([(["main text"], ["Impressum"], "the main text")]).f1
    1.0
    """
    tp = fn = fp = n = 0
    for with_, without, text in pages:
        n += 1
        found = sum(s in text for s in with_)
        tp, fn = tp + found, fn + len(with_) - found
        fp += sum(s in text for s in without)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ExtractionScore(f1=f1, precision=precision, recall=recall, pages=n)


def site_of(url: str) -> str:
    """The site a page belongs to, for folds grouped by site: the host without ``www.`` and subdomains.

    >>> site_of("https://www.bbc.co.uk/news/x"), site_of("http://blog.example.com/a")
    ('bbc.co.uk', 'example.com')
    """
    host = (urlsplit(url).hostname or "").lower()
    parts = host.split(".")
    if len(parts) > 2 and len(parts[-1]) == 2 and len(parts[-2]) <= 3:  # bbc.co.uk, yna.co.kr
        return ".".join(parts[-3:])
    return ".".join(parts[-2:])


def site_fold(url: str, folds: int = 5) -> int:
    """A stable fold number for the page's site (sha256 of :func:`site_of`), so runs and tests agree."""
    return int(hashlib.sha256(site_of(url).encode("utf-8")).hexdigest(), 16) % folds
