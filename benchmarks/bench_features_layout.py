"""Features layout benchmark: one unit per dataset (new) against shared tables rewritten per build (old).

Run: ``.venv/bin/python benchmarks/bench_features_layout.py [--docs 3000] [--repeats 3] [--queries 30]``

On real NSMC reviews (``/work/shared/data/nsmc/ratings_train.zip``), two datasets ``nsmc_a`` and
``nsmc_b`` of ``--docs`` reviews each, in two fresh stores:

1. features build: every step runs once per dataset (tokenize with Kiwi, TF-IDF, top-k, keywords,
   PCA/LDA, k-means; the same for both layouts), then the write phase is timed per layout,
   ``--repeats`` times alternating: **new** = one ``features_<d>`` version holding every feature
   table (this branch's ``write_outputs``); **old** = the ``features_<d>`` version, then the four
   shared tables (``similar_docs``, ``tfidf_keywords``, ``projections``, ``clusters``) each rewritten
   with every other dataset's rows read back (the pre-issue-19 ``replace_rows``, kept below verbatim).
   A build = steps + write; the ratio is new / old.
2. ``similar`` through SQL (what the web app and analysts run): ``SELECT neighbour, score FROM
   similar_docs WHERE dataset = 'nsmc_b' AND doc = ...``, each a fresh sandbox, median over
   ``--queries`` documents: the new view over the pinned per-dataset tables against the old
   shared dataset read by the old sandbox (``git show <base>:nlpkit/store/sql.py``).
3. ``similar`` through the index (``nlpkit features similar --id``): the same artifact in both layouts.

CPU seconds (``time.process_time``) next to wall seconds; the machine is shared, so compare numbers of
one run only.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from nlpkit.datasets.importer import ImportOptions, import_corpus  # noqa: E402
from nlpkit.errors import DatasetError  # noqa: E402
from nlpkit.features import build as B  # noqa: E402
from nlpkit.features.query import load_query_index  # noqa: E402
from nlpkit.store import SqlSandbox, Store  # noqa: E402
from nlpkit.store.views import UNION_VIEWS  # noqa: E402

BASE = "ae7aac0"  # main before issue 19: the old layout's code
NSMC = Path("/work/shared/data/nsmc/ratings_train.zip")


def old_replace_rows(store: Store, name: str, dataset: str, tables: dict[str, pa.Table]) -> str:
    """The pre-issue-19 ``nlpkit.features.storeio.replace_rows`` (read every dataset's rows, rewrite all)."""
    old: dict[str, pa.Table] = {}
    try:
        info = store.latest(name)
        for table in info.tables:
            prev = store.read(name, table)
            if "dataset" in prev.column_names:
                old[table] = prev.filter(pc.not_equal(prev.column("dataset"), dataset))
    except DatasetError:
        pass
    params = {"datasets": sorted({dataset, *(str(d) for t in old.values()
                                             for d in np.unique(t.column("dataset").to_numpy(False)))})}
    with store.write_version(name, parameters=params, source=f"nlpkit features build {dataset}") as w:
        for table, new in tables.items():
            prev = old.get(table)
            if prev is not None and prev.num_rows:
                w.write(pa.concat_tables([prev.cast(new.schema), new]), table)
                continue
            w.write(new, table)
    return store.latest(name).version


def old_write_outputs(store: Store, f: B.Fitted, options: B.BuildOptions) -> None:
    """The pre-issue-19 write: the index version, then four shared tables, one commit each."""
    from dataclasses import asdict

    ds, ids = f.corpus.dataset, f.corpus.ids
    params = {"options": {k: v for k, v in asdict(options).items() if k != "spec"}, "spec": f.spec.to_dict(),
              "dataset": ds, "dataset_version": f.corpus.version, **f.provenance}
    nnz = np.diff(f.X.indptr)
    with store.write_version(B.index_name(ds), parameters=params, source=f"{ds} {f.corpus.version}") as w:
        w.write(pa.table({"id": ids, "row": np.arange(len(ids), dtype=np.int64), "terms": nnz.astype(np.int32)}))
        B.SimilarityIndex(f.tfidf, f.X, ids, f.spec).save(w.dir / "index")
        np.save(w.dir / "pca.npy", f.pca.features, allow_pickle=False)
    t = B.unit_tables(f)  # the very rows the old code built
    old_replace_rows(store, "similar_docs", ds, {"data": t["similar_docs"]})
    old_replace_rows(store, "tfidf_keywords", ds, {"data": t["tfidf_keywords"]})
    old_replace_rows(store, "projections", ds, {"data": t["projections"]})
    old_replace_rows(store, "clusters", ds, {"data": t["clusters"], "summary": t["clusters_summary"],
                                             "scores": t["clusters_scores"]})


class OldStore(Store):
    """The store as the old layout saw it: no cross-dataset views reserve the shared tables' names."""

    def _sql_names(self) -> dict[str, str]:
        return {k: v for k, v in super()._sql_names().items() if k not in UNION_VIEWS}


def old_sandbox_class() -> Any:
    """``SqlSandbox`` of the base commit (its registry knows no views), loaded from git."""
    src = subprocess.run(["git", "show", f"{BASE}:nlpkit/store/sql.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    mod = sys.modules["old_sql"] = types.ModuleType("old_sql")  # dataclasses look their module up
    exec(compile(src, "old_sql.py", "exec"), mod.__dict__)  # noqa: S102 - our own code at a known commit
    return mod.SqlSandbox


def nsmc(n: int, skip: int) -> list[dict[str, str]]:
    with zipfile.ZipFile(NSMC) as z, z.open("ratings_train.txt") as f:
        lines = io.TextIOWrapper(f, "utf-8").read().splitlines()[1:]
    rows = [line.split("\t") for line in lines[skip:skip + n]]
    return [{"id": r[0], "text": r[1], "label": r[2]} for r in rows if len(r) == 3]


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--queries", type=int, default=30)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="feat19-bench-"))
    stores = {"new": Store(tmp / "new"), "old": OldStore(tmp / "old")}
    names = ("nsmc_a", "nsmc_b")
    for i, d in enumerate(names):
        src = tmp / f"{d}.jsonl"
        src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in nsmc(args.docs, i * args.docs)), "utf-8")
        for st in stores.values():
            import_corpus(st, d, src, ImportOptions(id_col="id", label_col="label"))
    opts = B.BuildOptions(k=10)
    fitted: dict[str, B.Fitted] = {}
    steps: dict[str, tuple[float, float]] = {}

    def fit(d: str) -> None:
        f = B.step_terms(stores["new"], d, opts)
        for step in (B.step_tfidf, B.step_similarity, B.step_keywords, B.step_projections, B.step_clusters):
            f = step(f, opts)
        fitted[d] = f

    for d in names:
        steps[d] = timed(lambda d=d: fit(d))
    write: dict[str, list[tuple[float, float]]] = {"new": [], "old": []}
    writers = {"new": lambda st, f: B.write_outputs(st, f, opts), "old": lambda st, f: old_write_outputs(st, f, opts)}
    for _ in range(args.repeats):
        for layout in ("old", "new"):
            for d in names:  # nsmc_b's write reads nsmc_a's rows back in the old layout
                write[layout].append(timed(lambda layout=layout, d=d: writers[layout](stores[layout], fitted[d])))
    step_w = sum(w for w, _ in steps.values()) / len(names)
    step_c = sum(c for _, c in steps.values()) / len(names)
    print(f"features layout benchmark: {len(names)} datasets x {args.docs:,} NSMC reviews, k=10, "
          f"{args.repeats} builds each per layout (machine shared and loaded: compare within this run)")
    print(f"\n1. features build, per dataset (steps: {step_w:.2f} s wall / {step_c:.2f} s CPU, same for both)")
    print(f"{'layout':8} {'write wall':>11} {'write CPU':>10} {'build wall':>11} {'build CPU':>10}")
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in write.items()}
    for layout in ("old", "new"):
        w, c = med[layout]
        print(f"{layout:8} {w:10.3f}s {c:9.3f}s {step_w + w:10.3f}s {step_c + c:9.3f}s")
    print(f"ratio new/old: write wall {med['new'][0] / med['old'][0]:.2f}, write CPU {med['new'][1] / med['old'][1]:.2f}, "
          f"build wall {(step_w + med['new'][0]) / (step_w + med['old'][0]):.2f}, "
          f"build CPU {(step_c + med['new'][1]) / (step_c + med['old'][1]):.2f}")

    ids = fitted["nsmc_b"].corpus.ids
    picks = [ids[i] for i in np.random.default_rng(0).choice(len(ids), args.queries, replace=False)]
    sandboxes = {"new": lambda: SqlSandbox(stores["new"]), "old": lambda C=old_sandbox_class(): C(stores["old"])}
    sandboxes["new, own table"] = sandboxes["new"]
    tables = {"old": "similar_docs", "new": "similar_docs", "new, own table": "features_nsmc_b_similar_docs"}
    answers: dict[str, list[Any]] = {k: [] for k in tables}
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in tables}
    for doc in picks:
        for layout, table in tables.items():
            sql = f"SELECT neighbour, score FROM {table} WHERE dataset = 'nsmc_b' AND doc = '{doc}' ORDER BY rank"
            times[layout].append(timed(lambda layout=layout, sql=sql: answers[layout].append(
                sandboxes[layout]().query(sql)[1])))
    assert answers["new"] == answers["old"] == answers["new, own table"], "the layouts answer differently"
    print(f"\n2. similar through SQL (... WHERE dataset AND doc; a fresh sandbox each; median of {args.queries};"
          " 'own table' is what the web app now reads)")
    sq = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    for layout in tables:
        print(f"{layout:15} {sq[layout][0] * 1000:8.1f} ms wall {sq[layout][1] * 1000:8.1f} ms CPU  "
              f"ratio to old: wall {sq[layout][0] / sq['old'][0]:.2f}, CPU {sq[layout][1] / sq['old'][1]:.2f}")

    print(f"\n3. similar through the index (load + by_id, median of {args.queries})")
    for layout in ("old", "new"):
        qs = [timed(lambda layout=layout, doc=doc: load_query_index(stores[layout], "nsmc_b").by_id(doc, 10))
              for doc in picks]
        print(f"{layout:8} {statistics.median(w for w, _ in qs) * 1000:8.1f} ms wall "
              f"{statistics.median(c for _, c in qs) * 1000:8.1f} ms CPU")


if __name__ == "__main__":
    main()
