"""Cross-dataset views (``similar_docs`` ...): the union of each ``features_<d>``'s table at the version it pins."""

from __future__ import annotations

import pyarrow as pa
import pytest

from nlpkit.errors import DatasetError
from nlpkit.store import SqlSandbox, Store, datasets


def _unit(store: Store, d: str, k: int) -> None:
    """A features_<d> version whose similar_docs side table holds k rows of dataset d."""
    with store.write_version(f"features_{d}") as w:
        w.write(pa.table({"id": [f"{d}{i}" for i in range(k)]}))
        w.write(pa.table({"dataset": [d] * k, "doc": [f"{d}{i}" for i in range(k)], "rank": list(range(1, k + 1))}),
                "similar_docs")


def _view(sandbox: SqlSandbox) -> list[tuple]:
    return sandbox.query("SELECT dataset, count(*), max(rank) FROM similar_docs GROUP BY 1 ORDER BY 1")[1]


def test_the_view_is_the_union_of_every_dataset_pinned_table(store: Store) -> None:
    _unit(store, "fa", 3)
    _unit(store, "fb", 2)
    with store.write_version("other") as w:  # not a features_ dataset: never in the view
        w.write(pa.table({"id": ["x"]}))
        w.write(pa.table({"dataset": ["other"], "doc": ["x"], "rank": [1]}), "similar_docs")
    with store.write_version("features_fc") as w:  # no similar_docs table: not in the view
        w.write(pa.table({"id": ["c"]}))
    assert _view(SqlSandbox(store)) == [("fa", 3, 3), ("fb", 2, 2)]
    assert SqlSandbox(store).query("SELECT count(*) FROM features_fa_similar_docs")[1] == [(3,)]


def test_a_killed_writers_side_commit_is_never_seen_and_as_of_pins_the_view(store: Store,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _unit(store, "fa", 3)
    _unit(store, "fb", 2)

    def die(step: str) -> None:
        if step == "side_tables":
            raise KeyboardInterrupt  # stands for the kill: after the side table's commit, before data's

    monkeypatch.setattr(datasets, "crash_hook", die)
    with pytest.raises(KeyboardInterrupt):
        _unit(store, "fa", 7)
    monkeypatch.undo()
    assert _view(SqlSandbox(store)) == [("fa", 3, 3), ("fb", 2, 2)]  # the side table's newest commit is unpinned
    _unit(store, "fa", 5)
    assert _view(SqlSandbox(store)) == [("fa", 5, 5), ("fb", 2, 2)]
    first = store.versions("features_fa")[0].number
    assert _view(SqlSandbox(store, as_of={"features_fa": first})) == [("fa", 3, 3), ("fb", 2, 2)]


def test_view_names_cannot_be_taken_by_a_dataset_or_table(store: Store) -> None:
    for name in ("similar_docs", "clusters_summary"):
        with pytest.raises(DatasetError, match="cross-dataset view"):
            with store.write_version(name) as w:
                w.write(pa.table({"x": [1]}))
    with pytest.raises(DatasetError, match="cross-dataset view"):
        store.append("tfidf_keywords", pa.table({"x": [1]}))
