"""A dataset's features are one unit: every reader sees all of one build's outputs or all of another's.

Regression tests for the probes of issue 19 (two overlapping builds of ``fa`` and ``fb`` lost one's
update; a build killed after ``features_<d>`` committed left the index new and the shared tables old),
run as real child processes with real locks and ``kill -9``, plus a ``hypothesis`` state machine that
interleaves builds of two datasets, kills at every write step, vacuums and concurrent readers.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pytest

from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.features.build import build_features, load_index
from nlpkit.features.stale import stale_reasons
from nlpkit.features.storeio import feature_table
from nlpkit.store import SqlSandbox, Store
from tests.features._features_writer import options

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("_features_writer.py")
WRITE_STEPS = ("files", "artifacts", "side_tables", "committed")


def write_reviews(texts: list[str], path: Path, prefix: str) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"id": f"{prefix}{i}", "text": text}) + "\n")
    return path


def import_reviews(store: Store, name: str, texts: list[str], tmp: Path, prefix: str) -> None:
    import_corpus(store, name, write_reviews(texts, tmp / f"{name}-{prefix}.jsonl", prefix), ImportOptions(id_col="id"))


def units(store: Store, names: list[str]) -> dict[str, tuple[int, int]]:
    """``(documents, k)`` of each dataset's features as ONE SQL statement sees them through every view.

    Raises AssertionError when any view disagrees with another or with ``features_<d>`` itself
    (a mixed unit). One statement registers one current version per dataset, so a whole unit
    must agree everywhere.
    """
    index = " UNION ALL ".join(f"SELECT '{d}' AS dataset, count(*) AS n FROM features_{d}" for d in names)
    sql = f"""
        WITH s AS (SELECT dataset, count(DISTINCT doc) n, max(rank) k FROM similar_docs GROUP BY 1),
             c AS (SELECT dataset, count(*) n, max(k) ck FROM clusters GROUP BY 1),
             p AS (SELECT dataset, count(*) n FROM projections WHERE method = 'pca' GROUP BY 1),
             m AS (SELECT dataset, sum(size) n FROM clusters_summary GROUP BY 1),
             sc AS (SELECT dataset, max(k) FILTER (WHERE chosen) ck FROM clusters_scores GROUP BY 1),
             kw AS (SELECT dataset, count(DISTINCT key) n FROM tfidf_keywords WHERE scope = 'doc' GROUP BY 1),
             i AS ({index})
        SELECT i.dataset, i.n, s.n, s.k, c.n, c.ck, p.n, m.n, sc.ck, kw.n
        FROM i LEFT JOIN s USING (dataset) LEFT JOIN c USING (dataset) LEFT JOIN p USING (dataset)
             LEFT JOIN m USING (dataset) LEFT JOIN sc USING (dataset) LEFT JOIN kw USING (dataset)
        ORDER BY 1"""
    out = {}
    for d, n_index, n_sim, k, n_cl, ck, n_proj, n_sum, sck, n_kw in SqlSandbox(store).query(sql)[1]:
        assert n_index == n_sim == n_cl == n_proj == n_sum == n_kw, (d, n_index, n_sim, n_cl, n_proj, n_sum, n_kw)
        assert ck == sck, (d, ck, sck)
        out[d] = (int(n_index), int(k))
    return out


@pytest.fixture(scope="module")
def reviews(imdb_texts) -> list[str]:
    return imdb_texts[:180]


def _child(root: Path, dataset: str, k: int, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WRITER), str(root), dataset, str(k), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(root.parent)})


def _waiting_on_a_lock(pid: int) -> bool:
    """True while process ``pid`` is blocked in ``flock`` (a ``->`` waiter line of /proc/locks)."""
    return any(parts[1] == "->" and str(pid) in parts
               for parts in (line.split() for line in Path("/proc/locks").read_text().splitlines()) if len(parts) > 1)


@pytest.mark.slow
def test_overlapping_builds_of_two_datasets_both_land(reviews, tmp_path):
    """Issue 19 probe: `features build fa --k 5` and `fb --k 5` both reach "write" while the shared tables'
    locks are held, and both go as far as they can (exited, or blocked on a lock); then the locks go. Both
    commit, and neither erases the other's new rows (before, each rebuilt ``similar_docs`` from a read taken
    before the lock, so the second commit brought back the first dataset's old k=10 rows)."""
    store = Store(tmp_path / "data")
    import_reviews(store, "fa", reviews[:40], tmp_path, "a")
    import_reviews(store, "fb", reviews[40:80], tmp_path, "b")
    for d in ("fa", "fb"):
        build_features(store, d, options(10))
    assert units(store, ["fa", "fb"]) == {"fa": (40, 10), "fb": (40, 10)}
    locks = store.root / "locks"
    with ExitStack() as held:
        for name in ("similar_docs", "tfidf_keywords", "projections", "clusters"):
            f = held.enter_context((locks / f"{name}.lock").open("a"))
            fcntl.flock(f, fcntl.LOCK_EX)
        kids = {d: _child(store.root, d, 5, "barrier", str(tmp_path / f"at-write-{d}")) for d in ("fa", "fb")}
        deadline = time.monotonic() + 600
        while not all((tmp_path / f"at-write-{d}").exists() and (k.poll() is not None or _waiting_on_a_lock(k.pid))
                      for d, k in kids.items()):
            assert all(k.poll() in (None, 0) for k in kids.values()), {d: k.communicate() for d, k in kids.items()}
            assert time.monotonic() < deadline, "children never reached the write phase"
            time.sleep(0.2)
    for d, kid in kids.items():
        out, err = kid.communicate(timeout=600)
        assert kid.returncode == 0 and "committed" in out, (d, err[-2000:])
    _, rows = SqlSandbox(store).query("SELECT dataset, max(rank), count(*) FROM similar_docs "
                                      "WHERE dataset IN ('fa', 'fb') GROUP BY 1 ORDER BY 1")
    assert [(d, k) for d, k, _ in rows] == [("fa", 5), ("fb", 5)]
    assert units(store, ["fa", "fb"]) == {"fa": (40, 5), "fb": (40, 5)}


@pytest.mark.slow
@pytest.mark.parametrize("step", WRITE_STEPS)
def test_a_rebuild_killed_at_any_write_step_leaves_a_whole_unit_and_the_flow_repairs_it(
        step, reviews, tmp_path, prefect_harness):
    """Issue 19 probe: kill -9 a rebuild of ``mixk`` (new documents, new k) at each step of its one write.
    Before the commit every reader sees the whole old unit, after it the whole new one; the next flow run
    rebuilds a stale unit (or skips a current one) and leaves the new unit whole."""
    from pipelines.features import features_flow, unchanged_since_last_build

    store = Store(tmp_path / "data")
    import_reviews(store, "mixk", reviews[:40], tmp_path, "old")
    build_features(store, "mixk", options(10))
    old_ids = set(load_index(store, "mixk").ids)
    import_reviews(store, "mixk", reviews[80:130], tmp_path, "new")  # the index must now hold other documents
    kid = _child(store.root, "mixk", 5, "kill", step)
    out, err = kid.communicate(timeout=600)
    assert kid.returncode == -9 and "committed" not in out, err[-2000:]

    seen = units(store, ["mixk"])["mixk"]
    ids = set(load_index(store, "mixk").ids)
    tables = {t: set(feature_table(store, "mixk", t).column(c).to_pylist())
              for t, c in (("similar_docs", "doc"), ("clusters", "id"), ("projections", "id"))}
    if step == "committed":
        assert seen == (50, 5) and all(i.startswith("new") for i in ids)
    else:
        assert seen == (40, 10) and ids == old_ids
    assert all(t == ids for t in tables.values())
    flow_options = {"tokenizer": None, "k": 5, "max_docs": None}
    assert unchanged_since_last_build(str(store.root), "mixk", flow_options) == (step == "committed")
    summary = features_flow(dataset="mixk", data_dir=str(store.root), k=5)
    assert ("skipped" in summary) == (step == "committed")
    assert units(store, ["mixk"]) == {"mixk": (50, 5)} and stale_reasons(store, "mixk") == []


def test_a_features_version_without_the_whole_unit_is_stale_and_in_no_view(reviews, tmp_path):
    """A ``features_<d>`` version that does not pin every feature table (one written before they were per
    dataset) is stale for the flow's skip check and `data rebuild`, and the views show none of its rows."""
    from pipelines.features import unchanged_since_last_build

    store = Store(tmp_path / "data")
    import_reviews(store, "legacy", reviews[:30], tmp_path, "l")
    build_features(store, "legacy", options(3))
    assert stale_reasons(store, "legacy") == []
    assert unchanged_since_last_build(str(store.root), "legacy", {"tokenizer": None, "k": 3, "max_docs": None})
    params = store.latest("features_legacy").manifest["parameters"]
    with store.write_version("features_legacy", parameters=params) as w:  # the old layout: index rows only
        w.write(pa.table({"id": ["l0"], "row": [0], "terms": [1]}))
    reasons = stale_reasons(store, "legacy")
    assert len(reasons) == 1 and "does not pin similar_docs, tfidf_keywords" in reasons[0]
    assert not unchanged_since_last_build(str(store.root), "legacy", {"tokenizer": None, "k": 3, "max_docs": None})
    from nlpkit.errors import QueryError

    with pytest.raises(QueryError, match="similar_docs"):  # no dataset pins the table: the view is not there
        SqlSandbox(store).query("SELECT count(*) FROM similar_docs")
