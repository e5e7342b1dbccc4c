"""Longest JVM tagger call on adversarial inputs, before and after the time limits (issue #20).

Run: ``PYTHONPATH=<checkout> .venv/bin/python benchmarks/bench_hostile_tokenizers.py --backend kkma
[--search 40] [--skip-bombs]`` once per backend and checkout (``/work/main`` = before, the branch =
after); each run is one process (one JVM), prints one markdown row per case and the peak RSS.

- Fixed cases: repeated syllables (``"가" * n``, ``"하" * 200``), jamo runs (``"ㅋ" * 400``,
  ``"ㄱㄴㄷㄹ" * 100``), mixed script (Hangul, Latin, digits, Hanja, emoji, 400 characters), and a
  200k-character mixed-script line through ``tokenize_bounded`` (what ``tokens text`` calls; the
  per-document budget is ``--doc-budget``, 60 s like ``tokenize.doc_budget_s``).
- Search: ``hypothesis`` with ``target(CPU seconds)`` over texts of up to 120 characters drawn from
  those alphabets: the search steers toward slower inputs; the slowest found is reported.
- Wall (``perf_counter``) and CPU (``process_time``: the JVM's threads are this process's) per case;
  a case is ``ok``, ``timeout`` (stopped by the limit) or the failure reason. ``--skip-bombs`` leaves
  out the inputs that never return before the fix (Kkma ``"가" * 100``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings

MIXED = "한국어English123😀漢字𠀀ㅋㅋ"


def cases(skip_bombs: bool) -> list[tuple[str, str]]:
    out = [(f'"가" * {n}', "가" * n) for n in (20, 30, 40)]
    if not skip_bombs:
        out.append(('"가" * 100', "가" * 100))
    out += [('"하" * 200', "하" * 200), ('"ㅋ" * 400', "ㅋ" * 400), ('"ㄱㄴㄷㄹ" * 100', "ㄱㄴㄷㄹ" * 100),
            ("mixed script, 400 chars", (MIXED * 40)[:400]), ("mixed, no spaces", ("가a1漢😀" * 80)[:400])]
    return out


def timed(fn):  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), time.process_time()
    try:
        res = fn()
        status = "ok" if not getattr(res, "error", None) else res.error.reason
    except Exception as e:  # noqa: BLE001 - report any failure as its reason
        status = getattr(e, "reason", type(e).__name__)
    return time.perf_counter() - w, time.process_time() - c, status


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", required=True)
    ap.add_argument("--search", type=int, default=0, help="hypothesis examples (0: no search)")
    ap.add_argument("--skip-bombs", action="store_true")
    ap.add_argument("--long", action="store_true", help="also the 200k-character mixed-script line")
    ap.add_argument("--doc-budget", type=float, default=60.0)
    args = ap.parse_args()
    from nlpkit.tokenize import get_tokenizer

    opts = {"warn_slow": False} if args.backend == "kkma" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok = get_tokenizer(args.backend, cache=False, **opts)
        tok.warm_up()
    print(f"| {args.backend} | case | wall s | CPU s | result |")
    worst = (0.0, "")
    for label, text in cases(args.skip_bombs):
        wall, cpu, status = timed(lambda: tok.tokenize(text))
        worst = max(worst, (wall, label))
        print(f"| {args.backend} | {label} | {wall:.2f} | {cpu:.2f} | {status} |", flush=True)
    if args.long:
        try:
            from nlpkit.tokenize.dataset import tokenize_bounded

            def run():  # type: ignore[no-untyped-def]
                return next(iter(tokenize_bounded(tok, [(MIXED + " ") * 14_000], args.doc_budget)))
        except ImportError:  # before: tokens text had no budget
            def run():  # type: ignore[no-untyped-def]
                return next(iter(tok.tokenize_batch([(MIXED + " ") * 14_000])))
        wall, cpu, status = timed(run)
        print(f"| {args.backend} | 200k mixed-script line (tokens text) | {wall:.2f} | {cpu:.2f} | {status} |",
              flush=True)
    if args.search:
        from hypothesis import HealthCheck, given, settings, target
        from hypothesis import strategies as st

        alphabet = st.sampled_from(list("가나다하ㅋㄱㄴㅏ a1漢") + ["😀", "𠀀"])
        found: list[tuple[float, float, str, str]] = []

        @settings(max_examples=args.search, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.lists(alphabet, min_size=1, max_size=120).map("".join))
        def probe(text: str) -> None:
            wall, cpu, status = timed(lambda: tok.tokenize(text))
            found.append((wall, cpu, status, text))
            target(cpu)  # CPU, not wall: a loaded machine makes wall time noise

        probe()
        cpu, wall, status, text = max((c, w, s, t) for w, c, s, t in found)
        print(f"| {args.backend} | hypothesis slowest of {len(found)} ({text[:24]!r}…, {len(text)} chars) | "
              f"{wall:.2f} | {cpu:.2f} | {status} |")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB; slowest fixed case {worst[1]} {worst[0]:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
