"""Store benchmark: the old Parquet layout (commit ecabab1) vs the Delta Lake store, in one run.

Run: ``.venv/bin/python benchmarks/bench_store.py [--tarball PATH] [--per-folder N] [--appends 1000]``

1. IMDB rebuild (same build code, same cleaning) into each store; and the store's own part
   alone: writing the built rows again as a new version, batch by batch.
2. Latest-version query latency on ``imdb`` (median of a few runs, each a fresh connection:
   the old catalog file opened read-only vs a fresh in-memory sandbox).
3. ``--appends`` small appends (one row each) to ``articles``, a full read, compaction, and a
   full read again.
4. Time-travel read of an old version (``v1``) while a newer one exists.

The old code is loaded from git (``git show ecabab1:nlpkit/store/...``). Timings are
wall-clock on a shared machine: compare numbers from the same run only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")

import pyarrow as pa  # noqa: E402

from nlpkit.datasets.imdb import build_imdb, sample_tarball  # noqa: E402
from nlpkit.store import SqlSandbox, Store  # noqa: E402
from nlpkit.store.tables import compact_table  # noqa: E402
from nlpkit.text.clean import TextCleaner  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NLPKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
OLD_COMMIT = "ecabab1"


def _old_modules() -> tuple[Any, Any]:
    """The pre-Delta ``versions`` and ``catalog`` modules, loaded from git under private names."""
    def load(name: str, path: str, replace: dict[str, str]) -> types.ModuleType:
        src = subprocess.run(["git", "show", f"{OLD_COMMIT}:{path}"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
        for a, b in replace.items():
            src = src.replace(a, b)
        mod = types.ModuleType(name)
        mod.__file__ = str(ROOT / path)
        sys.modules[name] = mod
        exec(compile(src, f"{OLD_COMMIT}:{path}", "exec"), mod.__dict__)  # noqa: S102 - our own old code
        return mod

    versions = load("_old_versions", "nlpkit/store/versions.py",
                    {"from nlpkit.store.catalog import Catalog": "from _old_catalog import Catalog"})
    catalog = load("_old_catalog", "nlpkit/store/catalog.py",
                   {"from nlpkit.store.versions import Store": "from _old_versions import Store"})
    return versions, catalog


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def _timed(func: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = func()
    return time.perf_counter() - t, out


def bench(store: Any, query: Any, tarball: Path, appends: int, cleaner: TextCleaner) -> dict[str, Any]:
    r: dict[str, Any] = {}
    r["rebuild_s"], info = _timed(lambda: build_imdb(store, tarball, cleaner=cleaner))
    r["rows"] = info.rows
    table = store.read("imdb")
    batches = table.to_batches(max_chunksize=5000)

    def rewrite() -> None:
        with store.write_version("imdb", source="bench rewrite") as w:
            for b in batches:
                w.write(pa.Table.from_batches([b]))
            w.write(store.read("imdb", "rejects"), "rejects")

    r["store_write_s"], _ = _timed(rewrite)
    r["size_mb"] = round(_size_mb(store.root / "datasets" / "imdb"), 1)
    sql = "SELECT split, label, count(*), avg(length(text)) FROM imdb GROUP BY ALL ORDER BY ALL"
    lat = [_timed(lambda: query(sql))[0] for _ in range(5)]
    r["query_latest_median_s"] = statistics.median(lat)
    r["time_travel_v1_s"], old = _timed(lambda: store.read("imdb", version="v1"))
    assert old.num_rows == info.rows
    row = {"canonical_url": "u", "title": "t", "body": "b" * 200, "fetched_at": "2026-01-01"}
    t = time.perf_counter()
    for i in range(appends):
        store.append("articles", pa.table({k: [f"{v}{i}" if k == "canonical_url" else v] for k, v in row.items()}))
    r["appends_s"] = time.perf_counter() - t
    r["read_before_compaction_s"], t0 = _timed(lambda: store.read_appended("articles"))
    assert t0.num_rows == appends
    r["compaction_s"], _ = _timed(lambda: _compact(store))
    r["read_after_compaction_s"], t1 = _timed(lambda: store.read_appended("articles"))
    assert t1.column("canonical_url").to_pylist() == t0.column("canonical_url").to_pylist()
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}


def _compact(store: Any) -> None:
    if isinstance(store, Store):
        compact_table(store.table_dir("articles"), min_files=2)
        return
    # the old NewsStore.compact: read every part, write one, delete the others
    import pyarrow.parquet as pq

    d = store.root / "tables" / "articles"
    parts = sorted(d.glob("part-*.parquet"))
    merged = pa.concat_tables([pq.read_table(p) for p in parts], promote_options="permissive")
    pq.write_table(merged, d / "part-99999999T000000000000-merged.parquet", compression="zstd")
    for p in parts:
        p.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tarball", type=Path, default=SHARED / "imdb" / "aclImdb_v1.tar.gz")
    ap.add_argument("--per-folder", type=int, default=0, help="Reviews per folder (0 = the full 100,000).")
    ap.add_argument("--appends", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_store.json")
    args = ap.parse_args()
    old_versions, old_catalog = _old_modules()
    cleaner = TextCleaner(nltk_data=SHARED / "nltk_data")
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball
        if args.per_folder:
            tarball = sample_tarball(args.tarball, Path(tmp) / "slice.tar.gz", per_folder=args.per_folder)
        old_store = old_versions.Store(Path(tmp) / "old")
        new_store = Store(Path(tmp) / "new")
        results = {
            "old_parquet_layout": bench(old_store, old_catalog.Catalog(old_store).query, tarball, args.appends, cleaner),
            "delta": bench(new_store, SqlSandbox(new_store).query, tarball, args.appends, cleaner),
        }
    results["setup"] = {"per_folder": args.per_folder or "full", "appends": args.appends, "cpus": os.cpu_count()}
    old, new = results["old_parquet_layout"], results["delta"]
    results["ratios_delta_over_old"] = {k: round(new[k] / old[k], 2) for k in old if isinstance(old[k], float)
                                        and old[k] > 0}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
