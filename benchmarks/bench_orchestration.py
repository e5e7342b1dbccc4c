"""Per-flow overhead of Prefect's local mode, and Dask vs the default task runner.

Prints, in one run on the same input:
- a trivial flow called through Prefect (ephemeral mode) vs the same function called plainly;
- a tokenization fan-out (Okt over real Korean news sentences, in batches) on the default
  in-process runner vs a 2-worker Dask LocalCluster (startup included, and excluded).

    PREFECT_SERVER_ANALYTICS_ENABLED=false .venv/bin/python benchmarks/bench_orchestration.py \
        --shared ../shared/data --sentences 20000 --batch 1000
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")

from prefect import flow, task  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402


def _noop(x: int) -> int:
    return x + 1


noop_flow = flow(name="noop")(_noop)


@task
def tokenize_batch(backend: str, sentences: list[str]) -> int:
    """Tokenize one batch in whatever process the task runner chose; returns the token count."""
    from nlpkit.tokenize import get_tokenizer

    tok = get_tokenizer(backend)
    return sum(len(tokens) for tokens in tok.tokenize_batch(sentences))


@flow(name="bench-tokenize")
def tokenize_fanout(backend: str, shared: str, n: int, batch: int) -> int:
    """Sentences are loaded inside the flow: flow-run parameters are capped at 512 KB by Prefect."""
    sents = sentences(Path(shared), n)
    batches = [sents[i: i + batch] for i in range(0, len(sents), batch)]
    return sum(f.result() for f in tokenize_batch.map(backend, batches))


def sentences(shared: Path, n: int) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    with gzip.open(shared / "korean_news" / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            for s in re.split(r"(?<=[.!?다])\s+", json.loads(line)["body"]):
                s = s.strip()
                if len(s) > 10 and s not in seen:
                    seen.add(s)
                    out.append(s)
    return (out * (n // max(len(out), 1) + 1))[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--sentences", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--backend", default="okt")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    t0 = time.perf_counter()
    noop_flow(0)
    first = time.perf_counter() - t0
    flow_times = []
    for i in range(args.repeat):
        t0 = time.perf_counter()
        noop_flow(i)
        flow_times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(args.repeat):
        _noop(i)
    plain = (time.perf_counter() - t0) / args.repeat
    print(f"trivial flow: first call {first:.2f} s (ephemeral API start), then median {statistics.median(flow_times) * 1000:.0f} ms "
          f"per flow run; plain call {plain * 1e6:.1f} us")

    sents = sentences(args.shared, args.sentences)
    batches = [sents[i: i + args.batch] for i in range(0, len(sents), args.batch)]
    print(f"tokenization batch: {len(sents):,} sentences ({sum(map(len, sents)):,} chars) in {len(batches)} batches, backend {args.backend}")

    runs = {"default (threads, in-process)": ThreadPoolTaskRunner(max_workers=2)}
    from prefect_dask import DaskTaskRunner

    runs["dask LocalCluster 2 workers"] = DaskTaskRunner(
        cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
    )
    tokens = {}
    for label, runner in runs.items():
        t0 = time.perf_counter()
        tokens[label] = tokenize_fanout.with_options(task_runner=runner)(args.backend, str(args.shared), args.sentences,
                                                                          args.batch)
        dt = time.perf_counter() - t0
        print(f"  {label:32} {dt:7.1f} s  {len(sents) / dt:8.0f} sentences/s  tokens={tokens[label]:,}")
    assert len(set(tokens.values())) == 1, f"runners disagree: {tokens}"


if __name__ == "__main__":
    main()
