"""`nlpkit features similar --text`: cold start and per-query latency, the CLI's path against the others.

In one run, on the same persisted index (a store where `nlpkit features build DATASET` ran):

- cold start, each in a fresh process (median of ``--repeats``): imports, index load, tokenizer
  model load and the first query, for
  ``query``  the CLI's path, :class:`nlpkit.features.query.QueryIndex` (numpy only);
  ``full``   what `similar` did before, :class:`SimilarityIndex` (scikit-learn, scipy, numba kernel);
- per-query latency after start-up (median over ``--queries`` real titles of the dataset) for
  ``query``, ``full`` and ``dense``: the naive baseline, brute-force cosine of the query vector
  against the dense document matrix (``X @ q``), same TF-IDF, same tokenizer.

    .venv/bin/python benchmarks/bench_similar.py --data-dir data --dataset korean_news

Prints a table; the first ids of each engine are checked to agree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_COLD = """
import json, sys, time
t0 = time.perf_counter(); c0 = time.process_time()
from nlpkit.store import Store
if sys.argv[1] == "query":
    from nlpkit.features.query import load_query_index as load
else:
    from nlpkit.features.build import load_index as load
t1 = time.perf_counter()
index = load(Store(sys.argv[2]), sys.argv[3])
t2 = time.perf_counter()
index.warm_up()
t3 = time.perf_counter()
hits = index.by_text(sys.argv[4], 10)
t4 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "load": t2 - t1, "tokenizer": t3 - t2, "query": t4 - t3, "total": t4 - t0,
                  "cpu": time.process_time() - c0, "ids": [h.id for h in hits]}))
"""


def cold(engine: str, data_dir: str, dataset: str, text: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _COLD, engine, data_dir, dataset, text], env=env, check=True,
                         capture_output=True, text=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    res["process"] = time.perf_counter() - started  # interpreter start and exit included
    return res


def per_query(data_dir: str, dataset: str, texts: list[str]) -> dict[str, list[float]]:
    import numpy as np

    from nlpkit.features.build import load_index
    from nlpkit.features.query import load_query_index
    from nlpkit.store import Store

    store = Store(data_dir)
    fast, full = load_query_index(store, dataset), load_index(store, dataset)
    fast.warm_up()
    full.warm_up()
    dense = full.matrix.toarray()  # the naive baseline: every document, every term

    def brute(text: str) -> list[str]:
        q = full.tfidf.transform([full.analyzer(text)]).toarray()[0]
        scores = dense @ q
        top = np.argsort(-scores, kind="stable")[:10]
        return [full.ids[i] for i in top if scores[i] > 0]

    engines = {"query": lambda t: [h.id for h in fast.by_text(t, 10)],
               "full": lambda t: [h.id for h in full.by_text(t, 10)], "dense": brute}
    times: dict[str, list[float]] = {name: [] for name in engines}
    for text in texts:
        answers = {}
        for name, run in engines.items():
            t0 = time.perf_counter()
            answers[name] = run(text)
            times[name].append((time.perf_counter() - t0) * 1e3)
        if answers["query"][:3] != answers["full"][:3] or set(answers["query"][:3]) - set(answers["dense"]):
            print(f"  note: engines disagree on {text[:30]!r}: {answers}")
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--dataset", default="korean_news")
    ap.add_argument("--text", default="반도체 수출")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--queries", type=int, default=200)
    a = ap.parse_args()
    from nlpkit.store import Store

    titles = [str(t) for t in Store(a.data_dir).read(a.dataset, columns=["title"]).column("title").to_pylist()
              if t][: a.queries] if "title" in Store(a.data_dir).columns(a.dataset) else [a.text] * a.queries
    print(f"dataset {a.dataset} in {a.data_dir}; cold start: median of {a.repeats} fresh processes, query {a.text!r}")
    print(f"{'engine':<7} {'process s':>9} {'imports s':>9} {'load s':>7} {'tokenizer s':>11} {'1st query ms':>12} "
          f"{'cpu s':>6}")
    for engine in ("query", "full"):
        runs = [cold(engine, a.data_dir, a.dataset, a.text) for _ in range(a.repeats)]
        med = {k: statistics.median(r[k] for r in runs) for k in ("process", "imports", "load", "tokenizer", "query",
                                                                    "cpu")}
        print(f"{engine:<7} {med['process']:>9.2f} {med['imports']:>9.2f} {med['load']:>7.2f} {med['tokenizer']:>11.2f} "
              f"{med['query'] * 1e3:>12.1f} {med['cpu']:>6.2f}")
    times = per_query(a.data_dir, a.dataset, titles)
    print(f"per query after start-up, {len(titles)} real titles as queries (tokenize + score + top 10):")
    for name, ms in times.items():
        q = statistics.quantiles(ms, n=20)
        print(f"  {name:<6} median {statistics.median(ms):7.2f} ms   p95 {q[-1]:7.2f} ms")


if __name__ == "__main__":
    main()
