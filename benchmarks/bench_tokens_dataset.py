"""Tokens dataset build, end to end: the old per-token row build vs the column-wise one, same input.

Run: ``.venv/bin/python benchmarks/bench_tokens_dataset.py [--n 50000] [--backend mecab] [--reps 2]``

- Input: the first ``--n`` reviews of the official NSMC train file (``../shared/data/nsmc``),
  written once as a store dataset; user dictionary ``dictionaries/ko/news.tsv``.
- Each run is ``tokenize_dataset`` (plan, tokenize, build rows, stream to the store, one Delta
  commit) in a fresh process, after the engine's warm-up, with the result cache cold and into its
  own ``out_name`` (nothing reused). Timed: wall, process CPU (engine threads included), peak RSS.
- ``per-token``: what main did before this change -- a dict per token and ``Table.from_pylist``,
  one Parquet row group per batch, the user-dictionary merge tried on every chunk.
  ``columnar``: this code -- ``tokens_table`` (flat arrays + list offsets), ~250k-token row groups,
  the merge only on chunks an entry's first word occurs in.
- Runs alternate (per-token, columnar, per-token, ...) so a busy shared machine slows both alike.
- Identity, outside the timed region: the two stored tables are equal row for row.
- Row build alone: the same token lists (``--n`` reviews tokenized once, cache off) turned into
  rows by each build, alternating ``--reps`` + 1 times: process CPU seconds and tokens per second,
  the part of the run this change targets, free of the engine's share of the noise.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DICT = ROOT / "dictionaries" / "ko" / "news.tsv"


def _per_token_rows(ids: Any, shas: Any, fingerprint: str, token_lists: Any) -> pa.Table:
    """main's row build: one dict per token (``tokens_to_arrow``), then ``Table.from_pylist``."""
    from nlpkit.tokenize.dataset import TOKENS_SCHEMA, tokens_to_arrow

    return pa.Table.from_pylist([{"id": i, "text_sha256": s, "fingerprint": fingerprint, "n_tokens": len(t),
                                  "tokens": tokens_to_arrow(t)} for i, s, t in zip(ids, shas, token_lists)],
                                schema=TOKENS_SCHEMA)


def _prepare(store_dir: Path, n: int) -> None:
    from nlpkit.store import Store

    with zipfile.ZipFile(SHARED / "nsmc" / "ratings_train.zip") as z:
        lines = z.read("ratings_train.txt").decode("utf-8").splitlines()[1:n + 1]
    rows = [line.split("\t") for line in lines]
    table = pa.table({"id": [r[0] for r in rows], "text": [r[1] for r in rows]})
    with Store(store_dir).write_version("nsmc_bench") as w:
        w.write(table)


def _row_build(store_dir: Path, backend: str, reps: int) -> list[str]:
    from nlpkit.store import Store
    from nlpkit.tokenize import get_tokenizer
    from nlpkit.tokenize.dataset import tokens_table

    texts = Store(store_dir).read("nsmc_bench", columns=["text"]).column("text").to_pylist()
    lists = list(get_tokenizer(backend, user_dicts=[str(DICT)], cache=False).tokenize_batch(texts))
    ids = [str(i) for i in range(len(lists))]
    n = sum(map(len, lists))
    best: dict[str, float] = {}
    for rep in range(reps + 1):
        for name, build in (("per-token", _per_token_rows), ("columnar", tokens_table))[::1 if rep % 2 else -1]:
            cpu = time.process_time()
            build(ids, ids, "fp", lists)
            best[name] = min(best.get(name, 1e9), time.process_time() - cpu)
    return [f"# row build alone ({n:,} tokens, best of {reps + 1}): " + ", ".join(
        f"{k} {v:.2f} cpu s ({n / v / 1e6:.2f}M tokens/s)" for k, v in best.items())]


def _child(store_dir: Path, variant: str, backend: str, out: str) -> None:
    from nlpkit.store import Store
    from nlpkit.tokenize import dataset as tokds
    from nlpkit.tokenize import get_tokenizer

    tok = get_tokenizer(backend, user_dicts=[str(DICT)])
    tok.warm_up()
    if variant == "per-token":
        tokds.tokens_table = _per_token_rows  # type: ignore[assignment]
        tokds._ROW_GROUP_TOKENS = 0  # one row group per batch
        tok._merge_probe = re.compile("")  # type: ignore[attr-defined]  # every chunk tried against every entry
    wall, cpu = time.perf_counter(), time.process_time()
    res = tokds.tokenize_dataset(Store(store_dir), "nsmc_bench", backend, user_dicts=[str(DICT)], out_name=out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"variant": variant, "docs": res.tokenized, "rejected": res.rejected, "wall_s": wall,
                      "cpu_s": cpu, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--backend", default="mecab")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--child", nargs=3, metavar=("STORE", "VARIANT", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(Path(args.child[0]), args.child[1], args.backend, args.child[2])
        return
    from nlpkit.store import Store

    with tempfile.TemporaryDirectory(prefix="bench_tokens_") as tmp:
        store_dir = Path(tmp) / "data"
        _prepare(store_dir, args.n)
        runs: list[dict[str, Any]] = []
        for rep in range(args.reps):
            for variant in ("per-token", "columnar") if rep % 2 == 0 else ("columnar", "per-token"):
                out = f"tokens_{variant.replace('-', '_')}_{rep}"
                proc = subprocess.run([sys.executable, __file__, "--backend", args.backend, "--child", str(store_dir),
                                       variant, out], capture_output=True, text=True, check=True, cwd=ROOT)
                runs.append({**json.loads(proc.stdout.strip().splitlines()[-1]), "out": out})
        st = Store(store_dir)
        a, b = (st.read(f"tokens_{v}_0").sort_by("id") for v in ("per_token", "columnar"))
        identical = a.equals(b)
        tokens = sum(b.column("n_tokens").to_pylist())
        stage = _row_build(store_dir, args.backend, args.reps)
    print(f"# tokens dataset build, {args.backend} + {DICT.name}, {args.n:,} NSMC train reviews ({tokens:,} tokens), "
          f"{args.reps} runs each, alternating, fresh process each (plan + tokenize + rows + store write + commit)")
    print(f"{'variant':10} {'docs/s wall':>12} {'docs/s cpu':>11} {'wall s':>8} {'cpu s':>7} {'peak RSS MB':>12}")
    for variant in ("per-token", "columnar"):
        mine = [r for r in runs if r["variant"] == variant]
        wall = min(r["wall_s"] for r in mine)
        cpu = min(r["cpu_s"] for r in mine)
        rss = max(r["rss_mb"] for r in mine)
        print(f"{variant:10} {args.n / wall:12,.0f} {args.n / cpu:11,.0f} {wall:8.1f} {cpu:7.1f} {rss:12,.0f}")
    for r in runs:
        print(f"#   run {r['out']}: wall {r['wall_s']:.1f} s, cpu {r['cpu_s']:.1f} s, rss {r['rss_mb']:.0f} MB")
    print(f"# stored tables identical: {'yes' if identical else 'NO'} (best of the runs shown; wall is load-bound)")
    print("\n".join(stage))


if __name__ == "__main__":
    main()
