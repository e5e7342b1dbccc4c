"""Cross-dataset SQL views over per-dataset tables: ``similar_docs`` is every ``features_<d>``'s own table.

A features build of one dataset writes its outputs as side tables of one version of
``features_<dataset>`` (one commit pins them all, see :mod:`nlpkit.store.datasets`), so no table is
shared between datasets and no writer reads another dataset's rows. Analysts and the web app
still query the familiar cross-dataset names; each is the union of the table of the same name of
the current version of every dataset whose name starts with the prefix, read at the Delta version
that version pins::

    SELECT dataset, max(rank) FROM similar_docs GROUP BY 1      -- features_fa, features_fb, ...

A dataset's rows in a view therefore change all at once, when its ``features_<dataset>`` commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["FEATURE_TABLES", "UNION_VIEWS", "union_source", "view_prefix"]

#: The feature tables every ``features_<dataset>`` version holds (besides ``data``), one SQL view each.
FEATURE_TABLES = ("similar_docs", "tfidf_keywords", "projections", "clusters", "clusters_summary", "clusters_scores")

#: View name -> (dataset-name prefix, table of each such dataset). The view is their ``UNION ALL BY NAME``.
UNION_VIEWS: dict[str, tuple[str, str]] = {name: ("features_", name) for name in FEATURE_TABLES}


def view_prefix(names: set[str] | None) -> tuple[str, ...]:
    """The dataset prefixes a query over ``names`` needs opened for its views (all when ``names`` is None)."""
    return tuple({UNION_VIEWS[n][0] for n in UNION_VIEWS if names is None or n in names})


def union_source(loaders: list[Callable[[], Any]]) -> Callable[[], Any]:
    """A loader of the union of the sources ``loaders`` give (Parquet file lists or pyarrow datasets).

    File lists stay one file list (the sandbox reads it with ``read_parquet(..., union_by_name)``);
    when any source is a pyarrow dataset, the union is a pyarrow ``UnionDataset``.
    """

    def load() -> Any:
        import pyarrow.dataset as pads

        sources = [load() for load in loaders]
        if all(isinstance(s, list) for s in sources):
            return [f for s in sources for f in s]
        parts = [pads.dataset(s, format="parquet") if isinstance(s, list) else s for s in sources]
        return pads.dataset(parts)

    return load
