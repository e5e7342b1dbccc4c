"""The one prediction type every classifier returns (TF-IDF baseline and RNN alike)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Prediction"]


@dataclass(frozen=True, slots=True)
class Prediction:
    """A classifier's answer for one text; prints as ``name<TAB>probability``.

    ``label`` is the class id (index or dataset label value), ``name`` its readable name,
    ``probability`` that of the predicted class and ``probabilities`` every class's, by name.
    """

    label: int
    name: str
    probability: float
    probabilities: Mapping[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.name}\t{self.probability:.3f}"
