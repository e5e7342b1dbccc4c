"""All-pairs top-10 cosine, single-query latency and TF-IDF throughput on 100,000 real IMDB reviews.

Prints nlpkit's engine next to the naive baselines on the *same* features, in one run:
``cosine_similarity`` blocks + argpartition, ``NearestNeighbors(brute, cosine)``,
``sparse_dot_topn.sp_matmul_topn``. Each engine runs in its own process so its peak memory
(max RSS) is its own. The naive baselines take minutes on 100k; by default they run on a
``--subset`` (first N documents) where every engine is also checked for exactly the same
neighbours (ties aside), and their 100k time is extrapolated (quadratic). ``--full-baselines``
runs them on everything.

    .venv/bin/python benchmarks/bench_similarity.py [--data-dir data] [--subset 20000] [--threads 2]

Documents: the store's ``imdb`` dataset when it exists (``--data-dir``), else the aclImdb
tarball in ../shared/data is streamed (train+test labelled 50k + unsup 50k). Terms: scikit-learn's
default word pattern, lower-cased, English stop words removed; TF-IDF sublinear, min_df=2,
max_df=0.5, float32.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARBALL = ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_v1.tar.gz"


def load_texts(data_dir: str | None) -> tuple[list[str], list[str], str]:
    if data_dir:
        from nlpkit.errors import DatasetError
        from nlpkit.store import Store

        try:
            t = Store(data_dir).read("imdb", columns=["id", "text"])
            return t.column("id").to_pylist(), t.column("text").to_pylist(), f"store {data_dir} dataset imdb"
        except DatasetError:
            pass
    ids, texts = [], []
    with tarfile.open(TARBALL, "r:gz") as tf:
        for m in tf:
            parts = m.name.split("/")
            if m.isfile() and len(parts) == 4 and parts[2] in ("pos", "neg", "unsup") and m.name.endswith(".txt"):
                ids.append(f"{parts[1]}/{parts[2]}/{parts[3][:-4]}")
                texts.append(tf.extractfile(m).read().decode("utf-8"))  # type: ignore[union-attr]
    return ids, texts, str(TARBALL)


def child(engine: str, matrix: str, n: int, threads: int, out: str) -> None:
    """Run one engine on the first n rows and save its neighbours; prints time and peak RSS as JSON."""
    X = sp.load_npz(matrix).tocsr()[:n]
    t0 = time.perf_counter()
    if engine in ("numba", "sparse_dot_topn", "brute"):
        from nlpkit.features.similarity import topk_cosine

        if engine == "numba":  # compile outside the timing (cached on disk after the first run)
            topk_cosine(X[:200], 10, engine="numba")
            t0 = time.perf_counter()
        nb = topk_cosine(X, 10, engine=engine, n_threads=threads)  # type: ignore[arg-type]
        idx, val = nb.indices, nb.scores
    elif engine == "nn_brute":
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(n_neighbors=11, metric="cosine", algorithm="brute", n_jobs=threads).fit(X)
        dist, ind = nn.kneighbors(X)
        val = (1.0 - dist).astype(np.float32)
        idx = ind.astype(np.int32)
        keep = idx != np.arange(n)[:, None]  # drop the document itself
        idx = np.vstack([r[k][:10] for r, k in zip(idx, keep)])
        val = np.vstack([r[k][:10] for r, k in zip(val, keep)])
    else:
        raise SystemExit(f"unknown engine {engine}")
    seconds = time.perf_counter() - t0
    np.savez(out, idx=idx, val=val)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"engine": engine, "n": n, "seconds": seconds, "max_rss_mb": _peak_rss_mb(),
                      "cpu_seconds": usage.ru_utime + usage.ru_stime}))


def _peak_rss_mb() -> float:
    """VmHWM of this process (ru_maxrss would include the parent's memory at fork time)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(engine: str, matrix: str, n: int, threads: int, tmp: str) -> dict:
    out = os.path.join(tmp, f"{engine}_{n}.npz")
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}
    res = subprocess.run([sys.executable, __file__, "--child", engine, matrix, str(n), str(threads), out],
                         capture_output=True, text=True, env=env)
    if res.returncode:
        raise SystemExit(f"{engine} failed:\n{res.stderr[-3000:]}")
    info = json.loads(res.stdout.strip().splitlines()[-1])
    with np.load(out) as z:
        info["idx"], info["val"] = z["idx"], z["val"]
    return info


def agreement(ref: dict, other: dict, tol: float = 1e-5) -> tuple[float, int]:
    """(max score difference, rows whose neighbour sets differ beyond ties at the k-th score)."""
    rv, ov = ref["val"], other["val"]
    diff = float(np.abs(rv - ov).max())
    bad = 0
    for r in range(rv.shape[0]):
        a = {int(j) for j, v in zip(ref["idx"][r], rv[r]) if j >= 0 and v > 0}
        b = {int(j) for j, v in zip(other["idx"][r], ov[r]) if j >= 0 and v > 0}
        if a != b:
            kth = min(rv[r][rv[r] > 0].min(initial=1.0), ov[r][ov[r] > 0].min(initial=1.0))
            sym = a ^ b
            # a differing neighbour is a tie if its score equals the k-th score (within tol)
            scores = {int(j): float(v) for j, v in zip(ref["idx"][r], rv[r])} | \
                     {int(j): float(v) for j, v in zip(other["idx"][r], ov[r])}
            if any(abs(scores[j] - kth) > tol for j in sym):
                bad += 1
    return diff, bad


def allpairs(X: sp.csr_matrix, args: argparse.Namespace) -> None:
    """All-pairs top-10: nlpkit on everything, every engine on the subset, agreement with the naive one."""
    with tempfile.TemporaryDirectory() as tmp:
        mpath = os.path.join(tmp, "X.npz")
        sp.save_npz(mpath, X)
        n_all, n_sub = X.shape[0], min(args.subset, X.shape[0])
        print(f"\n== all-pairs top-10 cosine, {args.threads} threads (each engine in its own process)")
        results = {}
        full = None
        if not args.no_full:
            full = run_child("numba", mpath, n_all, args.threads, tmp)
            print(f"  nlpkit numba (symmetric)  n={n_all:,}: {full['seconds']:7.1f} s wall, {full['cpu_seconds']:7.1f} s CPU, "
                  f"peak RSS {full['max_rss_mb']:6.0f} MB")
        engines = args.engines.split(",")
        for engine in engines:
            results[engine] = run_child(engine, mpath, n_sub, args.threads, tmp)
        print(f"  on the first {n_sub:,} documents (quadratic extrapolation to {n_all:,} in brackets):")
        scale = (n_all / n_sub) ** 2
        names = {"numba": "nlpkit numba", "sparse_dot_topn": "sparse_dot_topn", "brute": "cosine_similarity+argpartition",
                 "nn_brute": "NearestNeighbors(brute,cosine)"}
        ref = results.get("brute", results[engines[-1]])
        for engine, r in results.items():
            diff, bad = agreement(ref, r)
            print(f"  {names[engine]:32s} {r['seconds']:7.1f} s [{r['seconds'] * scale:7.0f} s] CPU {r['cpu_seconds']:6.1f} s"
                  f"  peak RSS {r['max_rss_mb']:6.0f} MB"
                  f"  | vs naive: max score diff {diff:.1e}, rows with other neighbours (beyond ties) {bad}")
        if args.full_baselines and full is not None:
            for engine in [e for e in engines if e != "numba"]:  # the --engines baselines, on everything
                r = run_child(engine, mpath, n_all, args.threads, tmp)
                diff, bad = agreement(r, full)
                print(f"  {names[engine]:32s} n={n_all:,}: {r['seconds']:7.1f} s  CPU {r['cpu_seconds']:6.1f} s  peak RSS {r['max_rss_mb']:6.0f} MB"
                      f"  | nlpkit vs it: max score diff {diff:.1e}, rows differing beyond ties {bad}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--subset", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--full-baselines", action="store_true")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--skip-allpairs", action="store_true", help="only TF-IDF throughput and the query latency")
    ap.add_argument("--keep-stopwords", action="store_true", help="the issue's features: no stop-word removal, no max_df")
    ap.add_argument("--max-df", type=float, default=0.5, help="drop terms in more than this share of documents")
    ap.add_argument("--no-full", action="store_true", help="skip nlpkit's run on all documents (subset only)")
    ap.add_argument("--engines", default="numba,sparse_dot_topn,brute,nn_brute", help="engines run on the subset")
    args = ap.parse_args()

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    from nlpkit.features.index import SimilarityIndex
    from nlpkit.features.tfidf import TokenTfidf
    from nlpkit.tokenize import TermSpec

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared machine: timings are noisy)")
    t0 = time.perf_counter()
    ids, texts, source = load_texts(args.data_dir)
    print(f"documents: {len(texts):,} from {source} ({time.perf_counter() - t0:.1f} s)")
    word = re.compile(r"(?u)\b\w\w+\b")
    stop = frozenset() if args.keep_stopwords else frozenset(ENGLISH_STOP_WORDS)
    max_df = 1.0 if args.keep_stopwords else args.max_df
    t0 = time.perf_counter()
    tokens = [[w for w in word.findall(t.lower()) if w not in stop] for t in texts]
    print(f"tokenized (regex, once) in {time.perf_counter() - t0:.1f} s")

    # -- TF-IDF throughput from tokens ------------------------------------------------------------
    print(f"\n== TF-IDF fit+transform from stored tokens (sublinear, min_df=2, max_df={max_df}, float32, "
          f"{'no stop-word removal' if args.keep_stopwords else 'English stop words removed'})")
    t0 = time.perf_counter()
    vec = TokenTfidf(min_df=2, max_df=max_df, sublinear_tf=True)
    X = vec.fit_transform(tokens)
    mine = time.perf_counter() - t0
    t0 = time.perf_counter()
    skv = TfidfVectorizer(analyzer=lambda d: d, min_df=2, max_df=max_df, sublinear_tf=True, dtype=np.float32)
    Y = skv.fit_transform(tokens)
    base = time.perf_counter() - t0
    same = X.shape == Y.shape and abs(X - Y).max() < 1e-6
    print(f"  nlpkit TokenTfidf        {len(tokens) / mine:10,.0f} docs/s ({mine:.1f} s)")
    print(f"  sklearn TfidfVectorizer  {len(tokens) / base:10,.0f} docs/s ({base:.1f} s)   identical matrix: {same}")
    print(f"  features: {X.shape[1]:,} terms, {X.nnz / X.shape[0]:.1f} non-zeros per row")

    if not args.skip_allpairs:
        allpairs(X, args)

    # -- single query -----------------------------------------------------------------------------
    print(f"\n== single query against the {X.shape[0]:,}-document index (text -> terms -> TF-IDF -> top-10)")
    cfg = TermSpec(backend="regex", stopwords=None if args.keep_stopwords else "en", lowercase=True)
    with tempfile.TemporaryDirectory() as tmp:
        SimilarityIndex(vec, X, ids, cfg).save(tmp)
        index = SimilarityIndex.load(tmp)
        rng = np.random.default_rng(0)
        picks = rng.choice(len(texts), args.queries, replace=False)
        index.by_text(texts[picks[0]], 10)
        lat, naive = [], []
        XT_dense_free = index.matrix
        for i in picks:
            t0 = time.perf_counter()
            index.by_text(texts[i], 10)
            lat.append(time.perf_counter() - t0)
            q = vec.transform([tokens[i]])
            t0 = time.perf_counter()
            s = (XT_dense_free @ q.T).toarray().ravel()
            np.argpartition(-s, 10)[:10]
            naive.append(time.perf_counter() - t0)
        lat_ms, naive_ms = np.array(lat) * 1e3, np.array(naive) * 1e3
        print(f"  nlpkit index.by_text (incl. vectorizing)  median {np.median(lat_ms):.2f} ms, p95 {np.percentile(lat_ms, 95):.2f} ms")
        print(f"  naive X @ q.T + argpartition (no vectorizing) median {np.median(naive_ms):.2f} ms, p95 {np.percentile(naive_ms, 95):.2f} ms")


if __name__ == "__main__":
    main()
