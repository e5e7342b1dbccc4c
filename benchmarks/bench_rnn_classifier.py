"""RNN classifier on a full labelled dataset (imdb, nsmc, ...): accuracy, time, tokens/s, memory,
and tokens/s of the naive baselines on the same data in the same run.

    python benchmarks/bench_rnn_classifier.py --dataset imdb --max-minutes 30
    python benchmarks/bench_rnn_classifier.py --dataset nsmc --tokenizers chars,okt,kiwi,mecab --max-minutes 5

Baselines (same model size; each mode trains once over the same --baseline-docs random training texts):
  masked+bucketed: the CPU default (length buckets; the backward direction reads each text reversed
                   within its length, so no output depends on padding; fused oneDNN kernels)
  packed+bucketed: length buckets + pack_padded_sequence (the CUDA default; exact, same outputs)
  padded: random batches padded to the longest text, RNN run over the padding (no packing, no buckets)
  per-example: one unpadded text per step (batch size 1)
Throughput counts real (non-padding) tokens per second of training step time.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _rnn_common import ensure_dataset, get_store, machine, peak_cuda_mb, peak_rss_mb, report  # noqa: E402


def _throughput(model, ids, labels, batches, device) -> float:  # noqa: ANN001
    import torch

    from nlpkit.rnn.batching import pad_batch

    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    tokens, spent = 0, 0.0
    for batch in batches:
        t0 = time.perf_counter()
        x, lengths = pad_batch([ids[i] for i in batch])
        y = torch.tensor([labels[i] for i in batch], device=device)
        loss = torch.nn.functional.cross_entropy(model(x.to(device), lengths), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        spent += time.perf_counter() - t0
        tokens += int(lengths.sum())
    return tokens / spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="imdb")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--tokenizers", default="words", help="comma-separated; several give a comparison table")
    ap.add_argument("--arch", default="lstm")
    ap.add_argument("--hidden-size", type=int, default=128)
    ap.add_argument("--embed-dim", type=int, default=128)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--max-len", type=int, default=400)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--max-minutes", type=float, default=5.0)
    ap.add_argument("--baseline-docs", type=int, default=512, help="0 skips the throughput comparison")
    ap.add_argument("--eval-sample", type=int, default=0,
                    help="evaluate on a seeded random sample of this many valid and test texts (0: all)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/bench_rnn_classifier")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import torch

    from nlpkit.rnn.batching import bucket_batches
    from nlpkit.rnn.classifier import ClassifierConfig, RNNClassifier
    from nlpkit.rnn.classify import encode_texts, train_classifier
    from nlpkit.rnn.data import get_token_fn, load_labelled
    from nlpkit.rnn.device import resolve_runtime
    from nlpkit.rnn.train_loop import TrainOptions
    from nlpkit.rnn.vocab import Vocab

    torch.set_num_threads(args.threads)
    store = get_store(args.data_dir)
    ensure_dataset(store, args.dataset)
    splits = load_labelled(store, args.dataset, seed=args.seed)
    if args.eval_sample:
        for sp in ("valid", "test"):
            keep = sorted(random.Random(7).sample(range(len(splits.texts[sp])), min(args.eval_sample,
                                                                                     len(splits.texts[sp]))))
            splits.texts[sp] = [splits.texts[sp][j] for j in keep]
            splits.labels[sp] = [splits.labels[sp][j] for j in keep]
        print(f"[note] valid and test are seeded random samples of {args.eval_sample} texts each")
    print(f"[{args.dataset}] train {len(splits.texts['train'])}, valid {len(splits.texts['valid'])}, "
          f"test {len(splits.texts['test'])}; labels {splits.label_names}; {machine()}", flush=True)
    table = []
    for i, tok in enumerate(args.tokenizers.split(",")):
        t0 = time.perf_counter()
        tokens = get_token_fn(tok)(splits.texts["train"])
        tok_seconds = time.perf_counter() - t0
        runtime = resolve_runtime(args.device)
        if i == 0 and args.baseline_docs > 0:  # baselines once, on the first tokenizer's data
            vocab = Vocab.build(tokens, min_freq=2, max_size=30000)
            subset = _random_batches(len(tokens), 1, flat=True)[: args.baseline_docs]
            ids = encode_texts([tokens[j] for j in subset], vocab, args.max_len)
            labels = [splits.labels["train"][j] for j in subset]
            rates = {}
            buckets = bucket_batches([len(x) for x in ids], args.batch_size, seed=1)
            for name, mode, batches in (
                ("masked+bucketed", "masked", buckets),
                ("packed+bucketed", "packed", buckets),
                ("padded (naive, random batches)", "naive", _random_batches(len(ids), args.batch_size)),
                ("per-example loop (batch 1)", "masked", [[j] for j in range(len(ids))]),
            ):
                torch.manual_seed(0)
                cfg = ClassifierConfig(vocab_size=len(vocab), num_classes=len(splits.label_names), arch=args.arch,
                                       embed_dim=args.embed_dim, hidden_size=args.hidden_size,
                                       num_layers=args.layers, padding_mode=mode)  # type: ignore[arg-type]
                model = RNNClassifier(cfg).to(runtime.device)
                rates[name] = _throughput(model, ids, labels, batches, runtime.device)
            base = rates["masked+bucketed"]
            n_tok = sum(len(x) for x in ids)
            report(f"training throughput on {args.dataset} ({tok}), real tokens/s over the same {len(ids)} texts "
                   f"({n_tok:,} tokens)",
                   {**{k: round(v, 1) for k, v in rates.items()},
                    **{f"masked speed-up vs {k}": round(base / v, 2) for k, v in rates.items()
                       if k != "masked+bucketed"}})
        opts = TrainOptions(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, max_minutes=args.max_minutes,
                            seed=args.seed, device=args.device, threads=args.threads, warmup_steps=100)
        t0 = time.perf_counter()
        res = train_classifier(splits, out=f"{args.out}/{args.dataset}_{tok}", tokenizer=tok, arch=args.arch,
                               embed_dim=args.embed_dim, hidden_size=args.hidden_size, num_layers=args.layers,
                               max_len=args.max_len, opts=opts, source=args.dataset, store=store)
        wall = time.perf_counter() - t0
        m = res.metrics
        row = {"dataset": args.dataset, "tokenizer": tok, "arch": f"bi{args.arch}",
               "test_accuracy": m.get("test_accuracy"), "test_f1": m.get("test_f1"),
               "best_valid_accuracy": m["best_valid_accuracy"], "epochs": m["epochs"], "steps": m["steps"],
               "train_seconds": m["train_seconds"], "wall_seconds_incl_tokenize_eval": round(wall, 1),
               "tokenize_train_seconds": round(tok_seconds, 1), "train_tokens_per_s": m["tokens_per_s"],
               "peak_rss_mb": round(peak_rss_mb(), 1), "peak_cuda_mb": peak_cuda_mb(), "device": m["device"],
               "max_minutes": args.max_minutes, "test_texts": len(splits.texts["test"])}
        report(f"{args.dataset} classifier, tokenizer {tok}", row)
        table.append(row)
    if len(table) > 1:
        print("\n| tokenizer | test acc | test F1 | epochs | train s | tok/s |\n|---|---|---|---|---|---|")
        for r in table:
            print(f"| {r['tokenizer']} | {r['test_accuracy']:.4f} | {r['test_f1']:.4f} | {r['epochs']} | "
                  f"{r['train_seconds']:.0f} | {r['train_tokens_per_s']:.0f} |")
    print(f"\nmachine at the end: {machine()}")


def _random_batches(n: int, size: int, flat: bool = False) -> list:
    order = list(range(n))
    random.Random(1).shuffle(order)
    return order if flat else [order[i : i + size] for i in range(0, n, size)]


if __name__ == "__main__":
    main()
