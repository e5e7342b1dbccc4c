"""What a person needs to read a list of similar documents: title, outlet or label name, rounded score.

An index answers with ids; :func:`describe_hits` reads only those rows of the dataset (a filter on
``id``) and gives each hit a title (the ``title`` column, else the first words of the text) and a
group: the outlet for news articles, else the label's name. Label names are the caller's when it
gives them (``--label-names a,b,c``: label 0 is ``a``), else the dataset's own
(:func:`nlpkit.datasets.labels.label_names`: ``imdb`` negative/positive); a label without a name is
shown as its id.

"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nlpkit.datasets.labels import name_of
from nlpkit.datasets.labels import label_names as dataset_label_names
from nlpkit.errors import FeatureError
from nlpkit.features.query import Hit
from nlpkit.store import Store

__all__ = ["DescribedHit", "describe_hits", "first_words"]

_OUTLET_COLUMNS = ("outlet", "source")


@dataclass(frozen=True, slots=True)
class DescribedHit:
    """One neighbour as printed: rank, id, title (or first words), outlet or label name, score."""

    rank: int
    id: str
    title: str
    group: str
    score: float


def first_words(text: str, n: int = 12) -> str:
    """The first ``n`` words of ``text`` (a title for documents without one), with "…" when cut."""
    words = str(text or "").split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def describe_hits(store: Store, dataset: str, hits: Sequence[Hit],
                  label_names: Mapping[str, str] | None = None, words: int = 12) -> list[DescribedHit]:
    """``hits`` of an index over ``dataset`` with title and outlet/label name, read from the dataset's latest version.

    A hit whose id is no longer in the dataset keeps an empty title and group (it is still listed).
    """
    if not hits:
        return []
    import pyarrow.compute as pc

    cols = store.columns(dataset)
    wanted = ["id"] + [c for c in ("title", "label", *_OUTLET_COLUMNS) if c in cols]
    if "title" not in cols and "text" in cols:
        wanted.append("text")
    ids = [h.id for h in hits]
    table = store.read(dataset, columns=wanted, filter=pc.field("id").cast("string").isin(ids))
    rows = {str(r["id"]): r for r in table.to_pylist()}
    outlet = next((c for c in _OUTLET_COLUMNS if c in cols), None)
    names = dict(label_names) if label_names else dataset_label_names(store, dataset)
    out = []
    for h in hits:
        r = rows.get(h.id, {})
        title = str(r.get("title") or "").strip() or first_words(str(r.get("text") or ""), words)
        if outlet and r.get(outlet):
            group = str(r[outlet])
        elif r.get("label") is not None:
            group = name_of(names, r["label"])
        else:
            group = ""
        out.append(DescribedHit(h.rank, h.id, " ".join(title.split()), group, h.score))
    return out
