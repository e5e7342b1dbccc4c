"""NSMC tokenizer table: each backend with and without the user dictionary, through stored tokens,
scored by the TF-IDF baseline (LR) and NB-LR on the official test set.

    python benchmarks/bench_nsmc_tokenizers.py --backends chars,mecab,kiwi,okt,komoran
    python benchmarks/bench_nsmc_tokenizers.py --train-sample 30000      # stratified subsample of train

Per (backend, dictionary) the NSMC rows are tokenized once into the bench store's stored tokens
dataset ``tokens_<dataset>_<backend>`` (one store per dictionary setting, so both stay stored),
then LR and NB-LR are fit on those tokens (uni+bigrams, C chosen on valid) and scored on test.
Columns: test accuracy of LR and NB-LR, tokenizing speed (documents per wall second and per
CPU second of this process; JVM taggers' threads included), vocabulary (distinct token forms
in train) and TF-IDF features. ``chars`` has no dictionary. ``--rnn-row`` adds a row for the
RNN classifier from a saved model directory's metrics.json. The table is printed and written as
markdown to ``benchmarks/results/bench_nsmc_tokenizers.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from nlpkit.models.baseline import BaselineConfig, train_baseline
from nlpkit.store import Store
from nlpkit.tokenize.dataset import tokenize_dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _rnn_common import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DICTS = sorted(str(p) for p in (ROOT / "dictionaries" / "ko").glob("*.tsv"))


def _dataset(store: Store, source: str, train_sample: int, seed: int) -> str:
    """``nsmc`` (official split) in ``store``, or ``nsmc_s<N>``: a label-stratified train subsample, valid and test whole."""
    from nlpkit.datasets.korean import build_nsmc

    if "nsmc" not in store.datasets():
        build_nsmc(store, source)
    if not train_sample:
        return "nsmc"
    name = f"nsmc_s{train_sample}"
    if name in store.datasets():
        return name
    table = store.read("nsmc")
    rows = table.to_pylist()
    train = [r for r in rows if r["split"] == "train"]
    rng = random.Random(seed)
    keep: list[dict[str, Any]] = []
    for label in sorted({r["label"] for r in train}):
        group = [r for r in train if r["label"] == label]
        keep += rng.sample(group, round(train_sample * len(group) / len(train)))
    kept = keep + [r for r in rows if r["split"] != "train"]
    with store.write_version(name, source=f"nsmc: stratified {train_sample} of train (seed {seed}), valid/test whole",
                             parameters={"train_sample": train_sample, "seed": seed}) as w:
        w.write(pa.Table.from_pylist(kept, schema=table.schema))
    return name


def _vocab(store: Store, tokens: str, dataset: str) -> int:
    ids = set(store.read(dataset, columns=["id", "split"]).filter(
        pa.compute.equal(store.read(dataset, columns=["split"])["split"], "train"))["id"].to_pylist())
    t = store.read(tokens, columns=["id", "tokens"])
    col = t.column("tokens").combine_chunks()
    offsets, forms = col.offsets.to_numpy(), col.flatten().field("form").to_pylist()
    seen: set[str] = set()
    for i, doc in enumerate(t.column("id").to_pylist()):
        if doc in ids:
            seen.update(forms[offsets[i]:offsets[i + 1]])
    return len(seen)


def run_one(base: Path, source: str, backend: str, with_dict: bool, train_sample: int, seed: int) -> dict[str, Any]:
    store = Store(base / ("dict" if with_dict else "nodict"))
    dataset = _dataset(store, source, train_sample, seed)
    dicts = DICTS if with_dict else []
    t0, c0 = time.perf_counter(), time.process_time()
    res = tokenize_dataset(store, dataset, backend, user_dicts=dicts)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    row: dict[str, Any] = {"tokenizer": backend, "dict": "yes" if with_dict else "no",
                           "docs": res.tokenized or None, "tok_wall_s": round(wall, 1), "tok_cpu_s": round(cpu, 1),
                           "docs_per_s": round(res.tokenized / wall) if res.tokenized else None,
                           "docs_per_cpu_s": round(res.tokenized / cpu) if res.tokenized and cpu else None,
                           "vocab": _vocab(store, res.out_name, dataset)}
    for variant in ("lr", "nblr"):
        out = train_baseline(store, dataset, BaselineConfig(tokenizer=backend, user_dicts=tuple(dicts), variant=variant,
                                                            seed=seed))
        row[f"{variant}_test"] = round(out.metrics["test"]["accuracy"], 4)
        row[f"{variant}_valid"] = round(out.metrics["valid"]["accuracy"], 4)
        row["features"] = out.version.manifest["counts"]["n_features"]
        row["n_train"] = out.version.manifest["counts"]["n_train"]
        row["n_test"] = out.metrics["test"]["n"]
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return row


def rnn_row(model_dir: Path) -> dict[str, Any]:
    m = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    c = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tok = c.get("tokens", {})
    return {"tokenizer": f"RNN: {c['tokenizer']} ({tok.get('token_format', 'form')})",
            "dict": "yes" if tok.get("user_dicts") else "no", "rnn_test": round(m["test_accuracy"], 4),
            "cpu_min": round(m["cpu_seconds"] / 60, 1), "wall_min": round(m["wall_seconds"] / 60, 1),
            "threads": m["threads"], "vocab": c["model"]["vocab_size"], "n_test": m.get("test_n")}


COLUMNS = ["tokenizer", "dict", "lr_test", "nblr_test", "rnn_test", "lr_valid", "nblr_valid", "docs_per_s",
           "docs_per_cpu_s", "tok_wall_s", "tok_cpu_s", "vocab", "features", "n_train", "n_test", "cpu_min",
           "wall_min", "threads"]


def markdown(rows: list[dict[str, Any]]) -> str:
    cols = [c for c in COLUMNS if any(r.get(c) is not None for r in rows)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join("" if r.get(c) is None else str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="chars,mecab,kiwi,okt,komoran")
    ap.add_argument("--source", default=str(ROOT.parent / "shared" / "data" / "nsmc"))
    ap.add_argument("--bench-dir", default="data/bench_nsmc_tokenizers", help="stores of this benchmark")
    ap.add_argument("--train-sample", type=int, default=0, help="stratified train subsample (0: all 135k)")
    ap.add_argument("--no-dict-only", action="store_true")
    ap.add_argument("--rnn-row", type=Path, action="append", default=[], help="RNN model directory (repeatable)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_nsmc_tokenizers.md"))
    a = ap.parse_args()
    rows = []
    for backend in a.backends.split(","):
        for with_dict in ((False,) if backend == "chars" or a.no_dict_only else (False, True)):
            rows.append(run_one(Path(a.bench_dir), a.source, backend, with_dict, a.train_sample, a.seed))
    rows += [rnn_row(d) for d in a.rnn_row]
    sample = f"stratified {a.train_sample} of train" if a.train_sample else "all 135k train"
    head = (f"NSMC official split ({sample}; valid 15k carved from train; test = official 50k), "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine()}, load {os.getloadavg()[0]:.1f}\n"
            f"user dictionary: {', '.join(Path(d).name for d in DICTS)}; LR/NB-LR: TF-IDF uni+bigrams, C on valid\n")
    table = markdown(rows)
    print(head + table)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(head + "\n" + table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
