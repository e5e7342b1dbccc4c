"""Suggestions ("did you mean ...?") for a mistyped name (dataset, table, model, command), from what exists.

>>> did_you_mean("korean_nwes", ["imdb", "korean_news"])
"did you mean 'korean_news'?"
>>> did_you_mean("xyz", ["imdb"])
''
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = ["close_matches", "did_you_mean", "missing_hint"]


def close_matches(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.7) -> list[str]:
    """Up to ``n`` candidates that look like ``name``, best first (case-insensitive, ``name`` itself left out)."""
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(str(c).lower(), str(c))
    by_lower.pop(str(name).lower(), None)
    return [by_lower[m] for m in difflib.get_close_matches(str(name).lower(), list(by_lower), n=n, cutoff=cutoff)]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` (the closest candidate) when something close to ``name`` exists, else ``""``."""
    matches = close_matches(name, candidates, n=1)
    return f"did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""


def missing_hint(name: str, built: Sequence[str], stored: Sequence[str], built_label: str) -> tuple[str, str]:
    """For ``name`` lacking something built (features, a baseline): ``(hint, target)``.

    A close name that has it: ``"did you mean 'x'? (<built_label>: a, b)"`` and ``x``; else a close
    stored dataset: ``"did you mean 'y'?"`` and ``y`` (build it there); else ``""`` and ``name``.
    """
    hint = did_you_mean(name, built)
    if hint:
        return f"{hint} ({built_label}: {', '.join(built)})", close_matches(name, built, n=1)[0]
    if name not in stored and (hint := did_you_mean(name, stored)):
        return hint, close_matches(name, stored, n=1)[0]
    return "", name
