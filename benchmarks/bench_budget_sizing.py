"""Score vs budget per model kind: sizes chosen by the budget rule (nlpkit.rnn.sizing) next to the fixed
default sizes at the same budget, in one run.

    python benchmarks/bench_budget_sizing.py --kinds seq2seq,lm --budgets 1,3      # CPU minutes
    python benchmarks/bench_budget_sizing.py --kinds classifier --budgets 1,3,10,30 --data-dir /tmp/store
    python benchmarks/bench_budget_sizing.py --plan-only --budgets 1,3,10,30    # the rule's table, no training

Kinds: classifier (IMDB words, eval on --eval-limit test reviews), lm (tiny-shakespeare chars, valid nats/char),
seq2seq (addition, reversed+peeky, exact match on 1,000 test problems). Every run is bounded by process CPU
time (``max_cpu_minutes``, 1 thread), so the figures are fair on a loaded machine; the chosen sizes come from
a throughput probe at the start of each budget run. Prints one row per (kind, budget, sizing).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _rnn_common import ensure_dataset, get_store, machine, peak_rss_mb  # noqa: E402


def _run(kind: str, minutes: float, size: str, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    from nlpkit.rnn.configs import SizingOptions
    from nlpkit.rnn.train_loop import TrainOptions

    opts = TrainOptions(epochs=1000, max_cpu_minutes=minutes, threads=1, seed=0, patience=1000)
    sizing = SizingOptions(size)
    if kind == "seq2seq":
        from nlpkit.rnn.configs import Seq2SeqSettings
        from nlpkit.rnn.seq2seq_train import train_seq2seq

        st = Seq2SeqSettings(reverse=True, peeky=True, n_train=45000, n_test=1000, sizing=sizing)
        m = train_seq2seq(out=out, settings=st, opts=opts, overwrite=True).metrics
        return {"score": m["test_exact_match"], "metric": "exact match", **_common(m)}
    store = get_store(args.data_dir)
    if kind == "lm":
        from nlpkit.rnn.configs import LMSettings
        from nlpkit.rnn.data import load_lm_text
        from nlpkit.rnn.lm_train import train_lm

        ensure_dataset(store, "lm_tinyshakespeare")
        train, valid, source = load_lm_text(store=store, dataset="lm_tinyshakespeare")
        m = train_lm(train, valid, out=out, settings=LMSettings(sizing=sizing), opts=opts, overwrite=True).metrics
        return {"score": m["valid_nats_per_char"], "metric": "nats/char", **_common(m)}
    from nlpkit.rnn.classify import train_classifier
    from nlpkit.rnn.configs import ClassifierSettings
    from nlpkit.rnn.data import load_labelled

    ensure_dataset(store, "imdb")
    splits = load_labelled(store, "imdb", eval_limit=args.eval_limit)
    m = train_classifier(splits, out=out, settings=ClassifierSettings(sizing=sizing), opts=opts, overwrite=True,
                         source="imdb", store=store).metrics
    return {"score": m["test_accuracy"], "metric": f"test acc (n={m['test_n']})", **_common(m)}


def _common(m: dict[str, Any]) -> dict[str, Any]:
    sizing = m.get("sizing") or {}
    return {"sizes": sizing.get("sizes", "defaults"), "rung": sizing.get("rung"), "steps": m["steps"],
            "epochs": m["epochs"], "cpu_s": m["cpu_seconds"], "tokens_per_s": m["tokens_per_s"]}


def _plan_table(kinds: list[str], budgets: list[float], args: argparse.Namespace) -> None:
    """What the rule picks per budget on this machine (probe measured here, real data sizes), without training."""
    from nlpkit.rnn.device import resolve_runtime
    from nlpkit.rnn.sizing import choose_sizes, measure_throughput

    runtime = resolve_runtime("cpu", threads=1)
    store = get_store(args.data_dir)
    for kind in kinds:
        data: dict[str, Any] = {}
        if kind == "classifier":
            import pyarrow.compute as pc

            ids = store.read("imdb", columns=["id"], filter=pc.field("split") == "train").column("id").to_pylist()
            toks = store.read("tokens_imdb_words", columns=["id", "n_tokens"]).to_pydict()
            n_of = dict(zip(toks["id"], toks["n_tokens"], strict=True))
            data = {"lengths": [n_of[i] for i in ids if i in n_of], "vocab_size": 30000}
        elif kind == "lm":
            data = {"data_tokens": 1_003_854, "vocab_size": 65}  # tiny-shakespeare's train chars
        else:
            data = {"data_tokens": 12, "vocab_size": 16}
        tp, _ = measure_throughput(kind, vocab_size=data["vocab_size"], runtime=runtime, steps=4)
        for minutes in budgets:
            p = choose_sizes(kind, budget_seconds=60 * minutes, throughput=tp, **data)
            print(f"| {kind} | {minutes:g} | {tp:,.0f} | {p.rung} | "
                  f"{', '.join(f'{k} {v}' for k, v in p.sizes.items())} | {p.affordable_tokens:,.0f} | "
                  f"{p.need_tokens:,.0f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kinds", default="seq2seq,lm,classifier")
    ap.add_argument("--budgets", default="1,3,10", help="CPU minutes, comma-separated (30 optional)")
    ap.add_argument("--sizing", default="budget,fixed", help="budget (the rule) and/or fixed (the defaults)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--eval-limit", type=int, default=5000)
    ap.add_argument("--plan-only", action="store_true", help="print the rule's choices per budget, train nothing")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print("machine:", machine())
    if args.plan_only:
        print("| kind | CPU min | probe tokens/CPU-s | rung | sizes | affordable tokens | needed tokens |")
        print("|---|---|---|---|---|---|---|")
        _plan_table(args.kinds.split(","), [float(b) for b in args.budgets.split(",")], args)
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sizing-") as tmp:
        for kind in args.kinds.split(","):
            for minutes in (float(b) for b in args.budgets.split(",")):
                for size in args.sizing.split(","):
                    r = {"kind": kind, "cpu_minutes": minutes, "sizing": size,
                         **_run(kind, minutes, size, Path(tmp) / f"{kind}_{minutes}_{size}", args)}
                    rows.append(r)
                    print(f"{kind:<10} {minutes:>5g} min {size:<6} {r['metric']:<22} {r['score']:.4f}  "
                          f"rung {r['rung']}  {r['sizes']}  {r['steps']} steps, {r['cpu_s']} CPU s, "
                          f"{r['tokens_per_s']:.0f} tok/s", flush=True)
    print(f"peak RSS {peak_rss_mb():.0f} MB")
    print("json:", json.dumps(rows, default=str))


if __name__ == "__main__":
    main()
