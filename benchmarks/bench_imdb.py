"""IMDB benchmark: streamed rebuild vs extract-to-disk-then-read, and the TF-IDF baselines.

Run: ``.venv/bin/python benchmarks/bench_imdb.py [--tarball PATH] [--skip-naive] [--skip-nblr]``

1. Rebuild time, same build code and cleaning, two ways to get at the 100,000 reviews:
   streamed from the ``.tar.gz`` (what `nlpkit rebuild imdb` does) vs the naive way,
   ``tar.extractall`` to disk and then reading the directory. The read phase alone (no
   cleaning) is timed both ways as well.
2. Stored size of the dataset version on disk.
3. Baseline: TF-IDF uni+bigrams (min_df=2, sublinear tf) + liblinear LR, C chosen on valid,
   accuracy on test and fit time; then the NB-weighted variant.
Timings are wall-clock on a shared machine: compare numbers from the same run only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

from nlpkit.datasets.imdb import build_imdb, iter_reviews  # noqa: E402
from nlpkit.models.baseline import BaselineConfig, train_baseline  # noqa: E402
from nlpkit.store import Store  # noqa: E402
from nlpkit.text.clean import TextCleaner  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NLPKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def _read_all(path: Path) -> tuple[int, int]:
    n = size = 0
    for m in iter_reviews(path):
        n += 1
        size += len(m.data or b"")
    return n, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tarball", type=Path, default=SHARED / "imdb" / "aclImdb_v1.tar.gz")
    ap.add_argument("--nltk-data", type=Path, default=SHARED / "nltk_data")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--skip-nblr", action="store_true")
    ap.add_argument("--out", type=Path, help="Also write the numbers as JSON here.")
    args = ap.parse_args()
    results: dict[str, object] = {}
    cleaner = TextCleaner(nltk_data=args.nltk_data)
    with tempfile.TemporaryDirectory(prefix="bench_imdb_") as tmp_s:
        tmp = Path(tmp_s)
        store = Store(tmp / "data")

        t0 = time.perf_counter()
        n, size = _read_all(args.tarball)
        results["read_stream_s"] = round(time.perf_counter() - t0, 2)
        print(f"read phase, streamed tar.gz:        {results['read_stream_s']:7.2f} s  ({n:,} reviews, {size / 1e6:.0f} MB text)")

        t0 = time.perf_counter()
        info = build_imdb(store, args.tarball, cleaner=cleaner)
        results["rebuild_stream_s"] = round(time.perf_counter() - t0, 2)
        results["dataset_mb"] = round(_size_mb(info.path), 1)
        results["counts"] = info.manifest["counts"]
        print(f"full rebuild, streamed tar.gz:      {results['rebuild_stream_s']:7.2f} s  -> {info.rows:,} rows, "
              f"{results['dataset_mb']} MB on disk (zstd Parquet)")

        if not args.skip_naive:
            t0 = time.perf_counter()
            with tarfile.open(args.tarball) as tar:
                tar.extractall(tmp / "extracted", filter="data")
            extract_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            n2, _ = _read_all(tmp / "extracted" / "aclImdb")
            read_s = time.perf_counter() - t1
            results["read_naive_s"] = round(extract_s + read_s, 2)
            print(f"read phase, extract + read files:   {results['read_naive_s']:7.2f} s  (extract {extract_s:.1f} s "
                  f"+ read {read_s:.1f} s, {n2:,} reviews)")
            t1 = time.perf_counter()
            build_imdb(Store(tmp / "data_naive"), tmp / "extracted" / "aclImdb", cleaner=cleaner)
            results["rebuild_naive_s"] = round(extract_s + time.perf_counter() - t1, 2)
            print(f"full rebuild, extract then read:    {results['rebuild_naive_s']:7.2f} s  "
                  f"(extract {extract_s:.1f} s + build from directory)")
            shutil.rmtree(tmp / "extracted")

        names = {0: "negative", 1: "positive"}
        for variant in ("lr", *(() if args.skip_nblr else ("nblr",))):
            t0 = time.perf_counter()
            res = train_baseline(store, "imdb", BaselineConfig(variant=variant, label_names=names))  # type: ignore[arg-type]
            total = time.perf_counter() - t0
            grid = store.read("imdb_baseline", "grid").to_pylist()
            results[f"baseline_{variant}"] = {
                "c": res.c, "test_accuracy": round(res.metrics["test"]["accuracy"], 4),
                "test_f1": round(res.metrics["test"]["f1"], 4), "valid_accuracy": round(res.metrics["valid"]["accuracy"], 4),
                "fit_seconds_all_c": round(res.fit_seconds, 1), "fit_seconds_chosen_c":
                    next(g["fit_seconds"] for g in grid if g["c"] == res.c), "total_seconds": round(total, 1),
                "model_mb": round((res.model.path / "model.skops").stat().st_size / 1e6, 1),
            }
            b = results[f"baseline_{variant}"]
            print(f"baseline tfidf_{variant:4}: C={res.c:g} (valid {b['valid_accuracy']:.4f}) test accuracy "
                  f"{b['test_accuracy']:.4f} f1 {b['test_f1']:.4f}; vectorize + {len(grid)} fits "
                  f"{b['fit_seconds_all_c']:.1f} s (LR at chosen C {b['fit_seconds_chosen_c']:.1f} s); "
                  f"model {b['model_mb']} MB")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
