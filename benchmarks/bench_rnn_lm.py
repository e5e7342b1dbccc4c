"""Char/word LSTM language model on full tiny-shakespeare (or PTB): validation nats/char (perplexity),
time, tokens/s, memory, and the tokens/s of a naive per-example baseline on the same text, in one run.

    python benchmarks/bench_rnn_lm.py --max-minutes 30                       # tiny-shakespeare, char level
    python benchmarks/bench_rnn_lm.py --dataset lm_ptb --level word --hidden-size 650 --dropout 0.5

Validation = the last 10% of tiny-shakespeare's characters (nanoGPT's split; target <= 1.47 nats/char).
Baseline: the same model trained one sequence at a time (batch 1) over the same first
--baseline-tokens training tokens that batched stateful truncated BPTT (--batch-size streams) trains on.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _rnn_common import ensure_dataset, get_store, machine, peak_cuda_mb, peak_rss_mb, report  # noqa: E402


def _rate(model, ids, batch_size: int, seq_len: int) -> float:  # noqa: ANN001
    """Training tokens/s of stateful TBPTT over all of ``ids`` with ``batch_size`` streams."""
    import torch

    from nlpkit.rnn.lm import detach_state

    n = ids.numel() // batch_size
    data = ids[: n * batch_size].view(batch_size, n)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    state, tokens, spent = None, 0, 0.0
    for t in range(0, n - 1, seq_len):
        t0 = time.perf_counter()
        x, y = data[:, t : t + seq_len], data[:, t + 1 : t + 1 + seq_len]
        x = x[:, : y.shape[1]]
        logits, state = model(x, detach_state(state))
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        spent += time.perf_counter() - t0
        tokens += y.numel()
    return tokens / max(spent, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="lm_tinyshakespeare")
    ap.add_argument("--text", default=None, help="a text file instead of a store dataset")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--level", default="char")
    ap.add_argument("--hidden-size", type=int, default=512)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--tie", default="auto", choices=["auto", "yes", "no"])
    ap.add_argument("--layer-norm", action="store_true")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup-steps", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--max-minutes", type=float, default=5.0)
    ap.add_argument("--baseline-tokens", type=int, default=32768, help="0 skips the throughput comparison")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/bench_rnn_lm")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import torch

    from nlpkit.rnn.data import load_lm_text
    from nlpkit.rnn.lm import LMConfig, RNNLanguageModel
    from nlpkit.rnn.lm_train import lm_tokens, train_lm
    from nlpkit.rnn.sampling import generate
    from nlpkit.rnn.lm_train import load_lm
    from nlpkit.rnn.train_loop import TrainOptions
    from nlpkit.rnn.vocab import Vocab

    torch.set_num_threads(args.threads)
    if args.text:
        train, valid, source = load_lm_text(text_file=args.text)
    else:
        store = get_store(args.data_dir)
        ensure_dataset(store, args.dataset)
        train, valid, source = load_lm_text(store=store, dataset=args.dataset)
    tie = None if args.tie == "auto" else args.tie == "yes"
    print(f"[{source}] train {len(train):,} chars, valid {len(valid):,} chars; {machine()}", flush=True)

    if args.baseline_tokens > 0:
        toks = lm_tokens(train, args.level)
        vocab = Vocab.build([toks], level=args.level)
        ids = torch.tensor(vocab.encode(toks))[: args.baseline_tokens + args.batch_size]
        rates = {}
        for name, bs in ((f"batched TBPTT (batch {args.batch_size})", args.batch_size), ("per-example (batch 1)", 1)):
            torch.manual_seed(0)
            tie_b = (args.level == "word") if tie is None else tie
            model = RNNLanguageModel(LMConfig(vocab_size=len(vocab), level=args.level, embed_dim=args.hidden_size,
                                              hidden_size=args.hidden_size, num_layers=args.layers,
                                              dropout=args.dropout, tie_weights=tie_b))
            rates[name] = _rate(model, ids, bs, args.seq_len)
        names = list(rates)
        report(f"training throughput, {args.level} tokens/s over the same {args.baseline_tokens:,} tokens",
               {**{k: round(v, 1) for k, v in rates.items()}, "speed-up": round(rates[names[0]] / rates[names[1]], 2)})

    opts = TrainOptions(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, max_minutes=args.max_minutes,
                        seed=args.seed, device=args.device, threads=args.threads, warmup_steps=args.warmup_steps,
                        patience=5)
    t0 = time.perf_counter()
    res = train_lm(train, valid, out=args.out, level=args.level, hidden_size=args.hidden_size,
                   num_layers=args.layers, dropout=args.dropout, tie_weights=tie, layer_norm=args.layer_norm,
                   seq_len=args.seq_len, opts=opts,
                   source=source)
    wall = time.perf_counter() - t0
    m = res.metrics
    row = {"source": source, "level": args.level,
           "model": f"{args.layers}x{args.hidden_size} lstm{' +LN' if args.layer_norm else ''}, dropout {args.dropout}, "
                    f"seq {args.seq_len}, "
                    f"batch {args.batch_size}, lr {args.lr}",
           "valid_loss_nats_per_token": m["valid_loss"],
           **({"valid_perplexity": m["valid_perplexity"]} if args.level == "word" else {}),
           "epochs": m["epochs"], "steps": m["steps"], "train_seconds": m["train_seconds"],
           "wall_seconds_incl_eval": round(wall, 1), "train_tokens_per_s": m["tokens_per_s"],
           "peak_rss_mb": round(peak_rss_mb(), 1), "peak_cuda_mb": peak_cuda_mb(), "device": m["device"],
           "max_minutes": args.max_minutes}
    report(f"{args.level}-level LM on {source}", row)
    model, _, vocab = load_lm(args.out)
    prompt = "ROMEO:\n" if args.level == "char" else "the"
    try:
        print("\nsample (T=0.7, top-k 40):\n" + prompt
              + generate(model, vocab, prompt, length=300, temperature=0.7, top_k=40, seed=0))
    except Exception as e:  # noqa: BLE001 - a sample is a bonus
        print(f"(no sample: {e})")
    print(f"\nmachine at the end: {machine()}")


if __name__ == "__main__":
    main()
