"""Seq2seq on addition: plain / reversed / reversed+peeky side by side (exact match on held-out problems),
with time, tokens/s and memory, plus per-example (batch 1) throughput on the same problems as the naive baseline.

    python benchmarks/bench_rnn_seq2seq.py --max-minutes 3      # per variant

The book's setting ("Deep Learning from Scratch 2", ch. 7): 3-digit operands, 50,000 problems,
hidden 128, 25 epochs; it reports plain ~10%, reversed ~50%, reversed+peeky ~99% (Adam).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _rnn_common import machine, peak_rss_mb, report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--digits", type=int, default=3)
    ap.add_argument("--n-train", type=int, default=45000)
    ap.add_argument("--n-test", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--max-minutes", type=float, default=3.0, help="per variant")
    ap.add_argument("--baseline-problems", type=int, default=2000, help="0 skips the throughput comparison")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default="/tmp/bench_rnn_seq2seq")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from nlpkit.rnn.seq2seq import AdditionTask, Seq2Seq, Seq2SeqConfig, addition_vocab, make_addition_data
    from nlpkit.rnn.seq2seq_train import compare_variants
    from nlpkit.rnn.train_loop import TrainOptions

    torch.set_num_threads(args.threads)
    print(f"addition, {args.digits}-digit operands, {args.n_train} train / {args.n_test} test; {machine()}")
    if args.baseline_problems > 0:
        vocab = addition_vocab()
        pairs = make_addition_data(args.baseline_problems, AdditionTask(args.digits), seed=5)
        src = torch.tensor([vocab.encode(q) for q, _ in pairs])
        tgt = torch.tensor([vocab.encode(a, bos=True) for _, a in pairs])
        rates = {}
        for name, bs in ((f"batch {args.batch_size}", args.batch_size), ("per-example (batch 1)", 1)):
            torch.manual_seed(0)
            model = Seq2Seq(Seq2SeqConfig(vocab_size=len(vocab), reverse=True, peeky=True))
            opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
            tokens, spent = 0, 0.0
            for i in range(0, len(pairs), bs):
                t0 = time.perf_counter()
                s, t = src[i : i + bs], tgt[i : i + bs]
                logits = model(s, t[:, :-1])
                loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), t[:, 1:].reshape(-1))
                opt.zero_grad()
                loss.backward()
                opt.step()
                spent += time.perf_counter() - t0
                tokens += s.numel() + t.numel() - s.shape[0]
            rates[name] = tokens / spent
        names = list(rates)
        report(f"training throughput, tokens/s over the same {len(pairs)} problems", {**{k: round(v, 1) for k, v in rates.items()},
                                                 "speed-up": round(rates[names[0]] / rates[names[1]], 2)})
    opts = TrainOptions(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, max_minutes=args.max_minutes,
                        device=args.device, threads=args.threads, patience=5, warmup_steps=100)
    t0 = time.perf_counter()
    rows = compare_variants(args.out, max_digits=args.digits, n_train=args.n_train, n_test=args.n_test, opts=opts)
    print("\n| variant | test exact match | epochs | train s |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['test_exact_match']:.4f} | {r['epochs']} | {r['train_seconds']:.0f} |")
    report("seq2seq addition", {"wall_seconds": round(time.perf_counter() - t0, 1),
                                "peak_rss_mb": round(peak_rss_mb(), 1), "max_minutes_per_variant": args.max_minutes})
    print(f"\nmachine at the end: {machine()}")


if __name__ == "__main__":
    main()
