"""How fast `nlpkit ui` answers on a real store: start-up, memory, first paint, every interaction.

Starts ``nlpkit ui`` on a free port over ``--data-dir`` (a store with features built, e.g. the
korean_news + scraped articles store, or the 100k-document IMDB one), waits for its preload,
then:

- times each page and interaction over HTTP (median and max of ``--repeat`` requests);
- loads each page in headless Chromium (Debian's, when installed) and reads the browser's own
  ``first-contentful-paint``;
- reports the server's resident memory after the preload.

Targets (issue #14): first paint < 2 s, every interaction < 500 ms.

    python benchmarks/bench_ui.py --data-dir /tmp/ui_data --dataset korean_news --query "반도체 수출" \
        --query "Hong Kong" --trend-dataset articles --before /tmp/before   # a checkout of main: before/after
    python benchmarks/bench_ui.py --data-dir /tmp/ui_imdb --dataset imdb --query "gripping thriller" --paint

Each page is requested once (``first``: what the first visitor waits, caches cold) and then
``--repeat`` times (median, max).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, data: bytes | None = None) -> tuple[float, int, bytes]:
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url, data=data, timeout=60) as r:
            body, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return time.perf_counter() - t0, status, body


def _rss_mib(pid: int) -> float:
    import psutil

    p = psutil.Process(pid)
    return sum(c.memory_info().rss for c in [p, *p.children(recursive=True)]) / 2**20


def _pages(base: str, args: argparse.Namespace) -> dict[str, tuple[str, bytes | None]]:
    ds = urllib.parse.quote(args.dataset)
    _, _, body = _get(f"{base}/sql/download?format=csv&q=" + urllib.parse.quote(
        f"SELECT doc FROM similar_docs WHERE dataset = '{args.dataset}' ORDER BY doc LIMIT 1"))
    lines = body.decode(errors="replace").splitlines()
    doc = lines[1].strip('"') if len(lines) > 1 else ""
    term = urllib.parse.quote(args.term or args.query[-1].split()[0])
    sql = urllib.parse.urlencode({"q": f"SELECT label, count(*) FROM {args.dataset} GROUP BY 1"}).encode()
    pages: dict[str, tuple[str, bytes | None]] = {"articles (list)": (f"/articles?dataset={ds}", None),
                                                  "articles (filter)": (f"/articles?dataset={ds}&split=test", None)}
    for q in args.query:
        pages[f"search {q[:18]}"] = (f"/articles?dataset={ds}&q={urllib.parse.quote(q)}", None)
    pages.update({
        "article": (f"/article?dataset={ds}&id={urllib.parse.quote(doc, safe='')}", None),
        "topics": (f"/topics?dataset={ds}", None),
        "cluster members": (f"/topics?dataset={ds}&cluster=0", None),
        "trends": (f"/trends?dataset={args.trend_dataset or args.dataset}&q={term}&days=30", None),
        "models and runs": ("/models", None),
        "sql page": ("/sql", None),
        "sql query (POST)": ("/sql", sql),
        "csv download": ("/sql/download?format=csv&q=" + urllib.parse.quote(f"SELECT * FROM {args.dataset} LIMIT 1000"),
                         None),
    })
    for extra in args.extra:
        name, _, path = extra.partition("=/")
        pages[name] = ("/" + path, None)
    return pages


def measure(code: Path, args: argparse.Namespace) -> tuple[str, dict[str, tuple[float, float, float, int, int]], str]:
    """Start `nlpkit ui` from the checkout ``code``; time each page: first request, median and max of the rest."""
    port = _port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NLPKIT_DATA_DIR": args.data_dir, "PYTHONPATH": str(code)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "nlpkit.cli", "ui", "--port", str(port)], cwd=code, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                _get(base + "/sql")
                break
            except OSError:
                time.sleep(0.05)
        ready = time.perf_counter() - t0
        ds = urllib.parse.quote(args.dataset)
        first_s, status, _ = _get(f"{base}/articles?dataset={ds}")  # waits for the dataset's preload
        startup = (f"accepting requests {ready:.1f} s after launch; the first articles list answered "
                   f"{first_s:.1f} s later (status {status}); RSS {_rss_mib(proc.pid):.0f} MiB")
        time.sleep(args.settle)  # let the rest of the preload (feature tables, index, models) finish
        out = {}
        pages = _pages(base, args)
        for name, (path, data) in pages.items():
            first, status, body = _get(base + path, data)
            times = []
            for _ in range(args.repeat):
                dt, status, body = _get(base + path, data)
                times.append(dt * 1000)
            out[name] = (first * 1000, statistics.median(times), max(times), status, len(body))
        return startup, out, base if args.paint else ""
    finally:
        if not args.paint:
            proc.terminate()
            proc.wait(10)
        else:
            args._proc = proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--query", required=True, action="append", help="a search (repeatable: Korean and English)")
    ap.add_argument("--term", default=None, help="a term for the trend chart (default: the last query's first word)")
    ap.add_argument("--trend-dataset", default=None, help="dataset with dates for the trend page (default: --dataset)")
    ap.add_argument("--extra", action="append", default=[], help="NAME=/PATH: another page to time (repeatable)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--settle", type=float, default=5.0, help="seconds to wait after the first page before timing")
    ap.add_argument("--before", type=Path, default=None,
                    help="another checkout (e.g. `git worktree add /tmp/before main`) timed first on the same store")
    ap.add_argument("--paint", action="store_true", help="also read Chromium's first contentful paint (this code)")
    args = ap.parse_args()

    runs: dict[str, tuple[str, dict[str, tuple[float, float, float, int, int]]]] = {}
    paint_base = ""
    if args.before is not None:
        keep, args.paint = args.paint, False
        startup, out, _ = measure(args.before.resolve(), args)
        runs["before"] = (startup, out)
        args.paint = keep
    startup, out, paint_base = measure(ROOT, args)
    runs["after" if args.before is not None else "this code"] = (startup, out)
    for label, (startup, _) in runs.items():
        print(f"{label}: server {startup}")
    names = list(out)
    header = f"{'interaction':<26}" + "".join(f" {label + ' first':>14} {label + ' median':>14} {'max':>6}"
                                                for label in runs) + f" {'status':>6} {'KiB':>6}"
    print(header)
    for name in names:
        row = f"{name:<26}"
        for _, (_, res) in runs.items():
            first, med, mx, _, _ = res.get(name, (float("nan"),) * 3 + (0, 0))
            row += f" {first:>14.0f} {med:>14.0f} {mx:>6.0f}"
        _, _, _, status, size = out[name]
        print(row + f" {status:>6} {size / 1024:>6.0f}")
    if paint_base:
        try:
            _paint(paint_base, [p for n, (p, d) in _pages(paint_base, args).items() if d is None and "download" not in n])
        finally:
            args._proc.terminate()
            args._proc.wait(10)


def _paint(base: str, paths: list[str]) -> None:
    chromium, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_bin:
        print("first paint: skipped (chromium/chromedriver not installed)")
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1000"):
        opts.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile:
        opts.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(executable_path=driver_bin), options=opts)
        try:
            print(f"{'page (Chromium)':<40} {'first contentful paint ms':>26} {'load ms':>8}")
            for path in paths:
                driver.get(base + path)
                fcp = driver.execute_script(
                    "const e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null")
                load = driver.execute_script("const n = performance.getEntriesByType('navigation')[0]; "
                                             "return n.loadEventEnd - n.startTime")
                print(f"{path[:40]:<40} {'-' if fcp is None else round(fcp):>26} {round(load):>8}")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
