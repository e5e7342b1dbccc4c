"""Paragraph voting: keep or drop each paragraph that either of two extractors found, by a small learned model.

Extractors disagree at the edges of an article: one keeps a caption, a "Read more" line or a
newsletter box that another drops, and one stops halfway through a long article where another
goes on. Instead of trusting one of them, the paragraphs of trafilatura (``favor_precision``)
and of trafilatura's readability fork are merged in page order (:func:`merge_paragraphs`) and
each gets features (:func:`paragraph_features`): which extractor holds it, whether it lies
inside the span each chose, its length, position, punctuation, digits and capitals, and how
the two outputs' lengths compare. A logistic regression (:class:`ParagraphVoter`, coefficients
in a JSON file, no pickle) keeps a precision paragraph whose probability reaches one threshold
and adds a readability-only paragraph that reaches a higher one. The model and thresholds were
chosen by 5-fold cross-validation grouped by site over two development sets
(``benchmarks/train_paragraph_voter.py``; scores in ``benchmarks/results/extraction.md``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["FEATURES", "MAX_PARAGRAPHS", "ParagraphVoter", "merge_paragraphs", "paragraph_features", "split_paragraphs", "vote"]

_WORD = re.compile(r"\w+")
_LINK_LIKE = re.compile(r"https?://|www\.|@\w|\|")
_SENTENCE_END = re.compile(r"[.!?。…다요\"'”’)\]:]\s*$")
#: paragraphs read per extractor output (bounds the work on giant pages)
MAX_PARAGRAPHS = 2_000
#: names of the model's features, in order (the JSON model lists them too and must match)
FEATURES = (
    "bias", "in_precision", "in_readability", "in_precision_and_readability",
    "inside_precision_span", "inside_readability_span", "log_tokens", "short", "position", "ends_sentence",
    "digit_share", "upper_share", "log_readability_over_precision", "precision_empty", "link_like",
)


def split_paragraphs(text: str | None) -> list[str]:
    """Non-empty lines of an extractor's output, whitespace collapsed (at most :data:`MAX_PARAGRAPHS`)."""
    out = [" ".join(line.split()) for line in (text or "").splitlines()]
    return [p for p in out if p][:MAX_PARAGRAPHS]


def _shingles(text: str) -> set[tuple[str, ...]]:
    tokens = _WORD.findall(text.lower())
    if len(tokens) < 4:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3)}


@dataclass(frozen=True, slots=True)
class _Source:
    """One extractor's output, ready for membership tests."""

    text: str
    shingles: frozenset[tuple[str, ...]]
    tokens: int

    @classmethod
    def of(cls, paragraphs: Sequence[str]) -> _Source:
        text = "\n".join(paragraphs)
        return cls(text, frozenset(_shingles(text)), len(_WORD.findall(text)))

    def share(self, paragraph: str) -> float:
        """How much of ``paragraph`` this output holds: 1 for a substring, else the share of its 4-token shingles."""
        if not self.text:
            return 0.0
        at = self.text.find(paragraph)
        while at >= 0:  # a substring counts only on word boundaries ("p1" is not in "p10")
            end = at + len(paragraph)
            if (at == 0 or not self.text[at - 1].isalnum()) and (end == len(self.text) or not self.text[end].isalnum()):
                return 1.0
            at = self.text.find(paragraph, at + 1)
        own = _shingles(paragraph)
        return len(own & self.shingles) / len(own) if own else 0.0


def merge_paragraphs(primary: Sequence[str], secondary: Sequence[str]) -> list[str]:
    """Union of two paragraph lists in page order; a paragraph both hold appears once.

    Walks ``primary``; a paragraph also found later in ``secondary`` first emits the secondary
    paragraphs before it, so paragraphs only one side has stay where they were on the page. A
    secondary paragraph whose 4-token shingles are mostly (>= half) in ``primary`` already is
    left out: extractors split text differently, and one block holding three of the primary's
    paragraphs would otherwise repeat them.

    >>> merge_paragraphs(["b", "d"], ["a", "b", "c"])
    ['a', 'b', 'd', 'c']
    """
    have, mine = _Source.of(primary), set(primary)
    secondary = [p for p in secondary if p in mine or have.share(p) < 0.5]
    where: dict[str, int] = {}
    for k, p in enumerate(secondary):
        where.setdefault(p, k)
    out: list[str] = []
    j = 0
    for p in primary:
        k = where.get(p, -1)
        if k >= j:
            out.extend(q for q in secondary[j:k] if q not in mine)
            j = k + 1
        out.append(p)
    out.extend(q for q in secondary[j:] if q not in mine)
    return list(dict.fromkeys(out))


def _span(flags: Sequence[bool]) -> tuple[int, int]:
    idx = [i for i, f in enumerate(flags) if f]
    return (idx[0], idx[-1]) if idx else (1, 0)


def paragraph_features(candidates: Sequence[str], outputs: Mapping[str, Sequence[str]]) -> list[list[float]]:
    """One row of :data:`FEATURES` per candidate paragraph.

    ``outputs`` maps ``"precision"`` and ``"readability"`` to each extractor's paragraphs (a
    missing one counts as empty).
    """
    src = {name: _Source.of(outputs.get(name, ())) for name in ("precision", "readability")}
    shares = {name: [s.share(c) for c in candidates] for name, s in src.items()}
    held = {name: [v >= 0.5 for v in vals] for name, vals in shares.items()}
    p_lo, p_hi = _span(held["precision"])
    r_lo, r_hi = _span(held["readability"])
    ratio = math.log((1 + src["readability"].tokens) / (1 + src["precision"].tokens))
    n = max(1, len(candidates) - 1)
    rows = []
    for i, c in enumerate(candidates):
        n_tokens = len(_WORD.findall(c))
        chars = max(1, len(c))
        letters = sum(map(str.isalpha, c))
        rows.append([
            1.0, shares["precision"][i], shares["readability"][i], shares["precision"][i] * shares["readability"][i],
            float(p_lo <= i <= p_hi), float(r_lo <= i <= r_hi),
            math.log1p(n_tokens), float(n_tokens < 6), i / n,
            float(bool(_SENTENCE_END.search(c))),
            sum(map(str.isdigit, c)) / chars,
            sum(map(str.isupper, c)) / max(1, letters),
            ratio, float(src["precision"].tokens == 0),
            float(bool(_LINK_LIKE.search(c))),
        ])
    return rows


@dataclass(frozen=True, slots=True)
class ParagraphVoter:
    """A logistic regression over :data:`FEATURES` with two thresholds.

    A paragraph the precise extractor gave is kept when its probability is at least
    ``keep_threshold``; one only readability found is added when it is at least
    ``add_threshold`` (higher: adding text needs more evidence than keeping it).
    """

    coefficients: tuple[float, ...]
    keep_threshold: float = 0.5
    add_threshold: float = 0.5
    mean: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()

    @classmethod
    def from_json(cls, path: str | Path | None = None) -> ParagraphVoter:
        """Load a model file (default: the one shipped in ``nlpkit/news/paragraph_voter.json``)."""
        if path is None:
            raw = resources.files("nlpkit.news").joinpath("paragraph_voter.json").read_text("utf-8")
        else:
            raw = Path(path).read_text("utf-8")
        data = json.loads(raw)
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError(f"paragraph voter model {path or 'paragraph_voter.json'}: features "
                             f"{data.get('features')} do not match this code's {list(FEATURES)}; retrain it with "
                             "benchmarks/train_paragraph_voter.py")
        return cls(tuple(data["coefficients"]), float(data["keep_threshold"]), float(data["add_threshold"]),
                   tuple(data["mean"]), tuple(data["scale"]))

    def probabilities(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """Probability of "keep" for each feature row."""
        out = []
        for row in rows:
            z = 0.0
            for k, (x, w) in enumerate(zip(row, self.coefficients)):
                if k and self.scale:  # the bias column is not standardised
                    x = (x - self.mean[k]) / self.scale[k]
                z += w * x
            out.append(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))))
        return out


    def keep(self, rows: Sequence[Sequence[float]]) -> list[bool]:
        """Keep or drop each candidate (its ``in_precision`` feature says which threshold applies)."""
        at = FEATURES.index("in_precision")
        return [p >= (self.keep_threshold if row[at] >= 0.5 else self.add_threshold)
                for row, p in zip(rows, self.probabilities(rows))]


def vote(outputs: Mapping[str, str], voter: ParagraphVoter) -> str:
    """The kept paragraphs of the extractors' merged outputs, one per line.

    ``outputs`` maps ``"precision"`` and ``"readability"`` to texts.
    """
    paras = {name: split_paragraphs(text) for name, text in outputs.items()}
    candidates = merge_paragraphs(paras.get("precision", []), paras.get("readability", []))
    if not candidates:
        return ""
    return "\n".join(c for c, k in zip(candidates, voter.keep(paragraph_features(candidates, paras))) if k)
