"""NSMC tokenizer table: each backend with and without the user dictionary, through stored tokens,
scored by the TF-IDF baseline (LR) and NB-LR on the official test set.

    python benchmarks/bench_nsmc_tokenizers.py --backends chars,mecab,kiwi,okt,komoran
    python benchmarks/bench_nsmc_tokenizers.py --train-sample 20000 --valid-sample 5000 --test-sample 10000

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
SPLITS = ("train", "valid", "test")
DICTS = sorted(str(p) for p in (ROOT / "dictionaries" / "ko").glob("*.tsv"))


def _stratified(rows: list[dict[str, Any]], n: int, rng: random.Random) -> list[dict[str, Any]]:
    if not n or n >= len(rows):
        return rows
    out: list[dict[str, Any]] = []
    for label in sorted({r["label"] for r in rows}):
        group = [r for r in rows if r["label"] == label]
        out += rng.sample(group, round(n * len(group) / len(rows)))
    return out


def _dataset(store: Store, source: str, samples: dict[str, int], seed: int) -> str:
    """``nsmc`` (official split) in ``store``, or ``nsmc_<train>_<valid>_<test>``: label-stratified, seeded
    subsamples of the splits (0 keeps a split whole)."""
    from nlpkit.datasets.korean import build_nsmc

    if "nsmc" not in store.datasets():
        build_nsmc(store, source)
    if not any(samples.values()):
        return "nsmc"
    name = "nsmc_" + "_".join(str(samples[s]) for s in SPLITS)
    if name in store.datasets():
        return name
    table = store.read("nsmc")
    rows = table.to_pylist()
    rng = random.Random(seed)
    kept = [r for sp in SPLITS for r in _stratified([r for r in rows if r["split"] == sp], samples[sp], rng)]
    with store.write_version(name, source=f"nsmc: stratified subsample {samples} (seed {seed})",
                             parameters={"samples": samples, "seed": seed}) as w:
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


def run_one(base: Path, source: str, backend: str, with_dict: bool, samples: dict[str, int],
            seed: int, c_grid: tuple[float, ...], cached_only: bool = False) -> dict[str, Any] | None:
    key = "_".join(map(str, [*samples.values(), *c_grid]))
    cache = base / "rows" / f"{backend}_{'dict' if with_dict else 'nodict'}_{key}.json"
    if cache.is_file():  # measured by an earlier (or a parallel) run of this benchmark
        return dict(json.loads(cache.read_text(encoding="utf-8")))
    if cached_only:
        return None
    store = Store(base / ("dict" if with_dict else "nodict"))
    dataset = _dataset(store, source, samples, seed)
    dicts = DICTS if with_dict else []
    t0, c0 = time.perf_counter(), time.process_time()
    res = tokenize_dataset(store, dataset, backend, user_dicts=dicts)
    wall, cpu, docs = time.perf_counter() - t0, time.process_time() - c0, res.tokenized
    if not docs:  # stored by an earlier run: its build time (wall only) from the tokens dataset's manifest
        manifest = store.latest(res.out_name).manifest
        docs, wall, cpu = res.reused, float(manifest["build_seconds"]), float("nan")
    row: dict[str, Any] = {"tokenizer": backend, "dict": "yes" if with_dict else "no", "docs": docs,
                           "tok_wall_s": round(wall, 1), "tok_cpu_s": None if cpu != cpu else round(cpu, 1),
                           "docs_per_s": round(docs / wall), "docs_per_cpu_s": round(docs / cpu) if cpu > 0 else None,
                           "vocab": _vocab(store, res.out_name, dataset)}
    for variant in ("lr", "nblr"):
        out = train_baseline(store, dataset, BaselineConfig(tokenizer=backend, user_dicts=tuple(dicts), variant=variant,
                                                            seed=seed, c_grid=c_grid))
        row[f"{variant}_c"] = out.c
        row[f"{variant}_test"] = round(out.metrics["test"]["accuracy"], 4)
        row[f"{variant}_valid"] = round(out.metrics["valid"]["accuracy"], 4)
        row["features"] = out.model.manifest["counts"]["n_features"]
        row["n_train"] = out.model.manifest["counts"]["n_train"]
        row["n_test"] = out.metrics["test"]["n"]
    print(json.dumps(row, ensure_ascii=False), flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    return row


def rnn_row(model_dir: Path) -> dict[str, Any]:
    m = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    c = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tok = c.get("tokens", {})
    return {"tokenizer": f"RNN: {c['tokenizer']} ({tok.get('token_format', 'form')})",
            "dict": "yes" if tok.get("user_dicts") else "no", "rnn_test": round(m["test_accuracy"], 4),
            "cpu_min": round(m["cpu_seconds"] / 60, 1), "wall_min": round(m["wall_seconds"] / 60, 1),
            "threads": m["threads"], "vocab": c["model"]["vocab_size"], "n_test": m.get("test_n")}


COLUMNS = ["tokenizer", "dict", "lr_test", "nblr_test", "rnn_test", "lr_valid", "nblr_valid", "lr_c", "nblr_c",
           "docs_per_s",
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
    ap.add_argument("--valid-sample", type=int, default=0, help="stratified valid subsample (0: all 15k)")
    ap.add_argument("--test-sample", type=int, default=0, help="stratified test subsample (0: the official 50k)")
    ap.add_argument("--dicts", choices=["both", "yes", "no"], default="both",
                    help="with the user dictionary, without, or both (two processes may split the work: "
                         "rows are cached under --bench-dir/rows and a last run with both prints the whole table)")
    ap.add_argument("--rnn-row", type=Path, action="append", default=[], help="RNN model directory (repeatable)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cached-only", action="store_true", help="print the table of the rows measured so far")
    ap.add_argument("--c-grid", default="1,2,4,8,16",
                    help="LR/NB-LR C values tried on valid (NSMC's best is low: 8..256, the IMDB grid, "
                         "picked 8 or 16 and cost 3x the time)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_nsmc_tokenizers.md"))
    a = ap.parse_args()
    samples = {"train": a.train_sample, "valid": a.valid_sample, "test": a.test_sample}
    rows = []
    for backend in a.backends.split(","):
        choices = {"both": (False, True), "yes": (True,), "no": (False,)}[a.dicts]
        for with_dict in (c for c in choices if not (c and backend == "chars")):
            row = run_one(Path(a.bench_dir), a.source, backend, with_dict, samples, a.seed,
                          tuple(float(c) for c in a.c_grid.split(",")), a.cached_only)
            rows += [row] if row is not None else []
    rows += [rnn_row(d) for d in a.rnn_row]
    sample = ", ".join(f"{sp} {'all' if not n else f'stratified {n}'}" for sp, n in samples.items())
    head = (f"NSMC official split (valid carved from train, test = the official file; {sample}), "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine()}, load {os.getloadavg()[0]:.1f}\n"
            f"user dictionary: {', '.join(Path(d).name for d in DICTS)}; LR/NB-LR: TF-IDF uni+bigrams, C in "
            f"{{{a.c_grid}}} chosen on valid; docs/s = tokenizing speed (per CPU s of this process where measured)\n")
    table = markdown(rows)
    print(head + table)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(head + "\n" + table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
