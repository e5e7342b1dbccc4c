"""Korean news LM: morpheme- vs character-level on the same held-out articles and the same CPU budget.

    NLPKIT_DATA_DIR=/tmp/x/data python benchmarks/bench_news_lm.py --cpu-minutes 3 \
        --candidate morph:hidden_size=256,max_vocab=8000 --candidate char:hidden_size=512

Reads the stored kiwi tokens of korean_news (``nlpkit tokens dataset korean_news -t kiwi -d
dictionaries/ko/news.tsv`` first); the split is the dataset's by-article ``split`` column. Each
candidate trains in this process with one thread until ``--cpu-minutes`` of process CPU time,
then the best weights are scored on the test articles. Printed per candidate (one JSON line):
valid/test nats per character (morphemes: nats per token x tokens / characters of the text the
tokens cover, whitespace gaps and article breaks counted as one character each), perplexity per
token, the test ``<unk>`` rate, epochs, CPU seconds.

``test_nats_per_char_unk_spelled`` charges what predicting ``<unk>`` hides: each test token
outside the vocabulary also pays for spelling its characters (and a ``▁``) with a unigram
character model of the training text (add-one), so a small morpheme vocabulary cannot look
better than it is. Character-level models have no ``<unk>`` on this corpus (the figure is equal).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import tempfile
from collections import Counter
from typing import Any

from nlpkit.rnn.configs import LMSettings
from nlpkit.rnn.lm_train import load_lm
from nlpkit.rnn.news_lm import NewsCorpus, load_news_corpus, split_morph, train_news_lm
from nlpkit.store import Store


def _parse(spec: str) -> tuple[str, dict[str, Any]]:
    level, _, rest = spec.partition(":")
    kw: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        k, _, v = item.partition("=")
        kw[k] = None if v == "none" else {"true": True, "false": False}.get(v, v)
        if isinstance(kw[k], str):
            kw[k] = float(v) if "." in v or "e-" in v else int(v)
    return level, kw


def _unk_spelling_nats(corpus: NewsCorpus, model_dir: str) -> tuple[float, int]:
    """Nats to spell the test tokens the model's vocabulary lacks, and how many there are."""
    _, _, vocab = load_lm(model_dir)
    chars = Counter(c for t in corpus.streams["train"] for c in t)
    total = sum(chars.values()) + len(chars) + 1
    cost = {c: -math.log((n + 1) / total) for c, n in chars.items()}
    unseen = -math.log(1 / total)
    nats, n = 0.0, 0
    for tok in corpus.streams["test"]:
        if tok not in vocab:
            form, _, spaced = split_morph(tok)
            nats += sum(cost.get(c, unseen) for c in form + " " * spaced)
            n += 1
    return nats, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--dataset", default="korean_news")
    ap.add_argument("--cpu-minutes", type=float, default=3.0)
    ap.add_argument("--max-minutes", type=float, default=None, help="wall-clock cap too (a loaded machine)")
    ap.add_argument("--out", default=None, help="keep the models in OUT/<n> (default: a temporary folder)")
    ap.add_argument("--candidate", action="append", required=True, help="LEVEL:key=value,... (LMSettings fields)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    store = Store(args.data_dir)
    for n, spec in enumerate(args.candidate):
        level, kw = _parse(spec)
        base = LMSettings(level=level, tokenizer="kiwi")
        with tempfile.TemporaryDirectory() as tmp:
            out = f"{args.out}/{n}" if args.out else tmp
            result = train_news_lm(store, args.dataset, out=out, settings=base, overwrite=True, threads=1,
                                   device="cpu", max_cpu_minutes=args.cpu_minutes, max_minutes=args.max_minutes, **kw)
            corpus = load_news_corpus(store, args.dataset, "kiwi", level=level)
            spell, n_unk = _unk_spelling_nats(corpus, out)
        m = result.metrics
        test_tokens = len(corpus.streams["test"])
        m["test_nats_per_char_unk_spelled"] = (m["test_loss"] * test_tokens + spell) / corpus.chars["test"]
        m["test_tokens"], m["test_chars"], m["test_unk"] = test_tokens, corpus.chars["test"], n_unk
        keep = ("valid_nats_per_char", "test_nats_per_char", "valid_perplexity", "test_perplexity", "test_loss",
                "test_unk_rate", "test_nats_per_char_unk_spelled", "test_tokens", "test_chars", "test_unk", "epochs", "cpu_seconds", "stop_reason", "train_loss")
        print(json.dumps({"candidate": spec, **{k: m[k] for k in keep if k in m}}), flush=True)


if __name__ == "__main__":
    main()
