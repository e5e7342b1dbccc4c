"""How fast `nlpkit ui` answers on a real store: start-up, memory, first paint, every interaction.

Starts ``nlpkit ui`` on a free port over ``--data-dir`` (a store with features built, e.g. the
korean_news + scraped articles store, or the 100k-document IMDB one), waits for its preload,
then:

- times each page and interaction over HTTP (median and max of ``--repeat`` requests);
- loads each page in headless Chromium (Debian's, when installed) and reads the browser's own
  ``first-contentful-paint``;
- reports the server's resident memory after the preload.

Targets (issue #14): first paint < 2 s, every interaction < 500 ms.

    python benchmarks/bench_ui.py --data-dir /tmp/ui_data --dataset korean_news --query "반도체 수출"
    python benchmarks/bench_ui.py --data-dir /tmp/ui_imdb --dataset imdb --query "gripping thriller"
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--term", default=None, help="a term for the trend chart (default: the query's first word)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    port = _port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NLPKIT_DATA_DIR": args.data_dir, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "nlpkit.cli", "ui", "--port", str(port)], cwd=ROOT, env=env,
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
        q = urllib.parse.quote(args.query)
        # the first request for the dataset waits for the preload (documents, tables, index, tokenizer)
        first, status, _ = _get(f"{base}/articles?dataset={ds}&q={q}")
        preload = time.perf_counter() - t0
        print(f"server: accepting requests {ready:.2f} s after launch; first search answered {first:.2f} s later "
              f"(status {status}; preload done {preload:.1f} s after launch); RSS {_rss_mib(proc.pid):.0f} MiB")
        _, _, body = _get(f"{base}/sql/download?format=csv&q=" + urllib.parse.quote(
            f"SELECT doc FROM similar_docs WHERE dataset = '{args.dataset}' LIMIT 1"))
        doc = body.decode().splitlines()[1].strip('"') if len(body.decode().splitlines()) > 1 else ""
        term = urllib.parse.quote(args.term or args.query.split()[0])
        sql = urllib.parse.urlencode({"q": f"SELECT label, count(*) FROM {args.dataset} GROUP BY 1"}).encode()
        pages = {
            "articles (list)": f"/articles?dataset={ds}",
            "search": f"/articles?dataset={ds}&q={q}",
            "search + filter": f"/articles?dataset={ds}&q={q}&since=2000-01-01",
            "article": f"/article?dataset={ds}&id={urllib.parse.quote(doc, safe='')}",
            "topics": f"/topics?dataset={ds}",
            "cluster members": f"/topics?dataset={ds}&cluster=0",
            "trends": f"/trends?dataset={ds}&q={term}&days=30",
            "models and runs": "/models",
            "sql page": "/sql",
            "sql query (POST)": "/sql",
            "csv download": "/sql/download?format=csv&q=" + urllib.parse.quote(f"SELECT * FROM {args.dataset} LIMIT 1000"),
        }
        print(f"{'interaction':<20} {'median ms':>10} {'max ms':>8} {'status':>6} {'KiB':>7}")
        for name, path in pages.items():
            times, status, size = [], 0, 0
            for _ in range(args.repeat):
                dt, status, body = _get(base + path, sql if name.endswith("(POST)") else None)
                times.append(dt * 1000)
                size = len(body)
            print(f"{name:<20} {statistics.median(times):>10.0f} {max(times):>8.0f} {status:>6} {size / 1024:>7.0f}")
        _paint(base, [p for n, p in pages.items() if not n.endswith(("(POST)", "download"))])
    finally:
        proc.terminate()
        proc.wait(10)


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
