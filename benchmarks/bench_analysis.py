"""Related words per term and stories for 10,000 articles: the stored-incidence path against the naive one.

In one run, on one store:

- related words (``--dataset``, default nsmc: 200k documents): ``doc_terms`` built from the stored
  tokens (``--tokenizer``, default mecab as the tokenize-nsmc flow stores them), then for ``--terms``
  terms of mixed frequency the query latency (p50/p95, wall and CPU) of
  :func:`nlpkit.features.related.related_words`, unfiltered and with a filter (``--label`` or a date
  range); the baseline is the textbook pass over every document's term set for one term (median of 3);
- stories: :func:`nlpkit.features.stories.find_stories` over ``--stories-n`` (10,000) texts of the
  dataset (first lines, times spread over 30 days, six outlets in turn), CPU seconds; the baseline is
  exact all-pairs Jaccard on 2,000 of them, extrapolated by (10,000/2,000)^2.

    .venv/bin/python benchmarks/bench_analysis.py --data-dir data --dataset nsmc
    .venv/bin/python benchmarks/bench_analysis.py --data-dir data --dataset korean_press --tokenizer kiwi
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--dataset", default="nsmc")
    ap.add_argument("--tokenizer", default="mecab")
    ap.add_argument("--terms", type=int, default=60)
    ap.add_argument("--stories-n", type=int, default=10_000)
    ap.add_argument("--out", default=None, help="Also write the results as JSON here.")
    args = ap.parse_args()

    import numpy as np
    import pandas as pd

    from nlpkit.features.docterms import build_doc_terms, load_doc_terms
    from nlpkit.features.related import related_words
    from nlpkit.features.stories import find_stories, jaccard, shingles
    from nlpkit.store import Store
    from nlpkit.tokenize.spec import default_spec

    store = Store(Path(args.data_dir))
    res: dict[str, object] = {"dataset": args.dataset}
    c0, t0 = time.process_time(), time.perf_counter()
    build_doc_terms(store, args.dataset, spec=default_spec("ko", args.tokenizer))
    res["doc_terms_build_cpu_s"] = round(time.process_time() - c0, 1)
    res["doc_terms_build_wall_s"] = round(time.perf_counter() - t0, 1)
    c0 = time.process_time()
    dt = load_doc_terms(store, args.dataset)
    res["load_cpu_s"] = round(time.process_time() - c0, 2)
    res["documents"], res["terms"], res["pairs"] = len(dt.ids), len(dt.terms), int(dt.X.nnz)

    order = np.argsort(-dt.df, kind="stable")
    picks = np.unique(np.linspace(0, min(len(order) - 1, 3000), args.terms).astype(int))
    terms = [dt.terms[order[i]] for i in picks]  # the most frequent term down to rank 3,000
    dt.csc  # noqa: B018  (built once on first use, as the web app's cache keeps it)
    labels = sorted(set(dt.meta["label"]) - {""})
    filt = {"label": labels[0]} if labels else {}
    for name, kw in (("related", {}), ("related_filtered", filt)):
        walls, cpus = [], []
        for term in terms:
            c, w = time.process_time(), time.perf_counter()
            related_words(dt, term, n=20, **kw)
            walls.append((time.perf_counter() - w) * 1000)
            cpus.append((time.process_time() - c) * 1000)
        res[f"{name}_ms_p50"] = round(_p(walls, 0.5), 2)
        res[f"{name}_ms_p95"] = round(_p(walls, 0.95), 2)
        res[f"{name}_cpu_ms_p95"] = round(_p(cpus, 0.95), 2)
    res["filter"] = filt
    # baseline: the textbook pass over every document's term set, for the most frequent term
    sets = [set(dt.X.indices[dt.X.indptr[i]:dt.X.indptr[i + 1]].tolist()) for i in range(len(dt.ids))]
    j = int(order[0])
    base = []
    for _ in range(3):
        w = time.perf_counter()
        co: dict[int, int] = {}
        for s in sets:
            if j in s:
                for k in s:
                    co[k] = co.get(k, 0) + 1
        df = np.zeros(len(dt.terms))
        for s in sets:
            for k in s:
                df[k] += 1
        base.append((time.perf_counter() - w) * 1000)
    res["baseline_textbook_ms"] = round(statistics.median(base), 1)

    # stories over N texts (first lines), times over 30 days, six outlets in turn
    t = store.read(args.dataset, columns=["id", "text"]).slice(0, args.stories_n)
    ids = [str(i) for i in t["id"].to_pylist()]
    titles = [(x or "").split("\n", 1)[0][:120] for x in t["text"].to_pylist()]
    times = pd.Series(pd.Timestamp("2024-01-01", tz="UTC")
                      + pd.to_timedelta(np.random.default_rng(0).uniform(0, 30 * 86400, len(ids)), unit="s"))
    outlets = [f"outlet{i % 6}" for i in range(len(ids))]
    c0, w0 = time.process_time(), time.perf_counter()
    found = find_stories(ids, titles, times, outlets)
    res["stories_n"] = len(ids)
    res["stories_cpu_s"] = round(time.process_time() - c0, 2)
    res["stories_wall_s"] = round(time.perf_counter() - w0, 2)
    res["stories_found"] = found.table.num_rows
    m = min(2000, len(ids))
    sh = [shingles(x) for x in titles[:m]]
    c0 = time.process_time()
    for a in range(m):
        for b in range(a + 1, m):
            jaccard(sh[a], sh[b])
    exact = time.process_time() - c0
    res["baseline_exact_pairs_cpu_s_2000"] = round(exact, 2)
    res["baseline_exact_pairs_cpu_s_extrapolated"] = round(exact * (len(ids) / m) ** 2, 1)
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    print(f"{'measure':40s} value")
    for k, v in res.items():
        print(f"{k:40s} {v}")
    if args.out:
        Path(args.out).write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
