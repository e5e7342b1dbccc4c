"""The labelled rows a baseline trains and scores on, and their terms from the stored tokens.

:func:`labelled_rows` gives each split's document ids and labels (IMDB's ``unsup`` reviews have
no label and never reach a classifier); :func:`split_terms` streams their terms from the tokens
version a model recorded (:func:`nlpkit.tokenize.stored_terms.iter_stored_terms`: column-wise,
one chunk of documents at a time, nothing re-tokenized); :func:`sample_rows` draws a stratified
sample for a cheap reload check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc

from nlpkit.errors import ModelError
from nlpkit.store.versions import Store
from nlpkit.tokenize.spec import TermSpec

__all__ = ["Split", "labelled_rows", "sample_rows", "split_terms"]


@dataclass(frozen=True, slots=True)
class Split:
    """One split's labelled documents: ids (stored order) and labels."""

    ids: list[str]
    y: np.ndarray


def labelled_rows(store: Store, dataset: str, version: str) -> dict[str, Split]:
    """``train``/``valid``/``test`` rows of ``dataset`` ``version`` that have a label."""
    table = store.read(dataset, version=version, columns=["id", "split", "label"])
    out = {}
    for split in ("train", "valid", "test"):
        part = table.filter(pc.equal(table["split"], split))
        part = part.filter(pc.is_valid(part["label"]))
        out[split] = Split([str(d) for d in part["id"].to_pylist()], part["label"].to_numpy(zero_copy_only=False))
    return out


def split_terms(store: Store, spec: TermSpec, provenance: Mapping[str, Any], split: Split) -> Iterator[list[str]]:
    """Terms of ``split``'s documents from ``provenance``'s tokens dataset and version, one document at a time."""
    from nlpkit.tokenize.stored_terms import iter_stored_terms

    return iter_stored_terms(store, provenance["tokens_dataset"], spec, split.ids,
                             version=provenance.get("tokens_version"))


def sample_rows(rows: Split, limit: int, seed: int = 0) -> Split:
    """About ``limit`` of ``rows``, stratified by label (the project's one splitter); all of them when fewer."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ModelError(f"limit must be an integer >= 1, got {limit!r}")
    n = len(rows.ids)
    if n <= limit:
        return rows
    from nlpkit.datasets.sources import stratified_split

    marks = stratified_split(rows.y.tolist(), [limit / n, 1 - limit / n], ["keep", "drop"], seed)
    keep = [i for i, m in enumerate(marks) if m == "keep"]
    return Split([rows.ids[i] for i in keep], rows.y[keep])
