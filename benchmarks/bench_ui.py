"""How fast `nlpkit ui` answers on a real store: start-up, memory, first paint, every interaction.

Starts ``nlpkit ui`` on a free port over ``--data-dir`` (a store with features built, e.g. the
korean_news + scraped articles store, or the 100k-document IMDB one), waits for its preload,
then:

- times each page and interaction over HTTP (median and max of ``--repeat`` requests);
- loads each page in headless Chromium (Debian's, when installed) and reads the browser's own
  ``first-contentful-paint``;
- reports the server's resident memory and CPU seconds after the preload (the preload is over when
  the server's CPU time stops growing), and the server's CPU milliseconds per interaction;
- heads its output with the machine, the commit of each checkout and the load average before and
  after each run (the machine is shared: wall times move with the load, CPU times much less).

Targets (issue #14): first paint < 2 s, every interaction < 500 ms.

    python benchmarks/bench_ui.py --data-dir /tmp/ui_data --dataset korean_news --query "반도체 수출" \
        --query "Hong Kong" --trend-dataset articles --before /tmp/before   # a checkout of main: before/after
    python benchmarks/bench_ui.py --data-dir /tmp/ui_imdb --dataset imdb --query "gripping thriller" --paint

Each page is requested once (``first``: what the first visitor waits, caches cold) and then
``--repeat`` times (median, max; ``cpu``: the server's median CPU ms per request). With ``--paint``
the first page is also loaded in Chromium the moment the server accepts requests (caches cold, during
the preload), then every page after it.
"""

from __future__ import annotations

import argparse
import os
import platform
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
        origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(url))
        req = urllib.request.Request(url, data=data, headers={"Origin": origin} if data is not None else {})
        with urllib.request.urlopen(req, timeout=180) as r:  # a form POST from the app's own page (same origin)
            body, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return time.perf_counter() - t0, status, body


def _rss_mib(pid: int) -> float:
    import psutil

    p = psutil.Process(pid)
    return sum(c.memory_info().rss for c in [p, *p.children(recursive=True)]) / 2**20


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of the server process (and its children) so far."""
    import psutil

    p = psutil.Process(pid)
    return sum(sum(c.cpu_times()[:2]) for c in [p, *p.children(recursive=True)])


def _preloaded(base: str, pid: int, timeout_s: float = 600.0) -> str:
    """Wait until the server says its preload is over (``/healthz``); a server without that page (older
    code) is taken as preloaded when its CPU time stops growing for 2 s (unreliable on a loaded machine)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        _, status, body = _get(base + "/healthz")
        if status == 404:
            last = _cpu_s(pid)
            while time.perf_counter() - t0 < timeout_s:
                time.sleep(2.0)
                now = _cpu_s(pid)
                if now - last < 0.04:
                    return "CPU idle"
                last = now
        if body.startswith(b"ready"):
            return body.decode().strip()
        time.sleep(0.2)
    return "timed out"


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _commit(code: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=code, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=code,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return head + (" + uncommitted changes" if dirty else "")


def _machine() -> str:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {os.cpu_count()} CPUs ({model or platform.machine()}), {mem:.0f} GiB RAM"


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


Timing = tuple[float, float, float, float, int, int]  # first ms, median ms, max ms, median server CPU ms, status, bytes


def measure(code: Path, args: argparse.Namespace) -> tuple[str, dict[str, Timing], str]:
    """Start `nlpkit ui` from the checkout ``code``; time each page: first request, median and max of the rest."""
    port = _port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NLPKIT_DATA_DIR": args.data_dir, "PYTHONPATH": str(code)}
    load_before = _load()
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
        ready, ready_cpu = time.perf_counter() - t0, _cpu_s(proc.pid)
        ds = urllib.parse.quote(args.dataset)
        if args.paint:  # what a visitor sees who opens the app the moment it accepts requests
            fcp, load = _paint(base, [f"/articles?dataset={ds}"], quiet=True)[0]
            first = f"Chromium's first paint of the articles page then: {fcp} ms (load {load} ms)"
        else:
            first_s, status, _ = _get(f"{base}/articles?dataset={ds}")  # waits for the dataset's preload
            first = f"the first articles list answered {first_s:.1f} s later (status {status})"
        how = _preloaded(base, proc.pid)
        preload_s = time.perf_counter() - t0
        startup = (f"{_commit(code)}; accepting requests {ready:.1f} s after launch ({ready_cpu:.1f} CPU s); "
                   f"{first}; preload over "
                   f"{preload_s:.1f} s after launch ({how}; {_cpu_s(proc.pid):.1f} CPU s in all); RSS "
                   f"{_rss_mib(proc.pid):.0f} MiB; {load_before} before")
        out = {}
        pages = _pages(base, args)
        for name, (path, data) in pages.items():
            first, status, body = _get(base + path, data)
            times, cpus = [], []
            for _ in range(args.repeat):
                c0 = _cpu_s(proc.pid)
                dt, status, body = _get(base + path, data)
                cpus.append((_cpu_s(proc.pid) - c0) * 1000)
                times.append(dt * 1000)
            out[name] = (first * 1000, statistics.median(times), max(times), statistics.median(cpus), status,
                         len(body))
        return startup + f", {_load()} after", out, base if args.paint else ""
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
    ap.add_argument("--before", type=Path, default=None,
                    help="another checkout (e.g. `git worktree add /tmp/before main`) timed first on the same store")
    ap.add_argument("--paint", action="store_true", help="also read Chromium's first contentful paint (this code)")
    args = ap.parse_args()

    runs: dict[str, tuple[str, dict[str, Timing]]] = {}
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {_machine()}; store {args.data_dir}, "
          f"dataset {args.dataset}")
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
    header = f"{'interaction (ms)':<26}" + "".join(f" {label + ' first':>14} {label + ' median':>14} {'max':>6} "
                                                     f"{'cpu':>5}" for label in runs) + f" {'status':>6} {'KiB':>6}"
    print(header)
    for name in names:
        row = f"{name:<26}"
        for _, (_, res) in runs.items():
            first, med, mx, cpu, _, _ = res.get(name, (float("nan"),) * 4 + (0, 0))
            row += f" {first:>14.0f} {med:>14.0f} {mx:>6.0f} {cpu:>5.0f}"
        _, _, _, _, status, size = out[name]
        print(row + f" {status:>6} {size / 1024:>6.0f}")
    if paint_base:
        try:
            paths = [p for n, (p, d) in _pages(paint_base, args).items() if d is None and "download" not in n]
            print(f"{'page (Chromium, ' + _load() + ')':<40} {'first contentful paint ms':>26} {'load ms':>8}")
            for path, (fcp, load) in zip(paths, _paint(paint_base, paths)):
                print(f"{path[:40]:<40} {fcp:>26} {load:>8}")
        finally:
            args._proc.terminate()
            args._proc.wait(10)


def _paint(base: str, paths: list[str], quiet: bool = False) -> list[tuple[str, str]]:
    """(first contentful paint ms, load ms) of each page in a fresh headless Chromium ("-" when unknown)."""
    chromium, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_bin:
        if not quiet:
            print("first paint: skipped (chromium/chromedriver not installed)")
        return [("-", "-")] * len(paths)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1000"):
        opts.add_argument(flag)
    out = []
    with tempfile.TemporaryDirectory() as profile:
        opts.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(executable_path=driver_bin), options=opts)
        driver.set_page_load_timeout(120)
        try:
            for path in paths:
                driver.get(base + path)
                fcp = None
                for _ in range(20):  # the paint entry can land a moment after the load event
                    fcp = driver.execute_script("const e = performance.getEntriesByName('first-contentful-paint')[0]; "
                                                "return e ? e.startTime : null")
                    if fcp is not None:
                        break
                    time.sleep(0.1)
                load = driver.execute_script("const n = performance.getEntriesByType('navigation')[0]; "
                                             "return n.loadEventEnd - n.startTime")
                out.append(("-" if fcp is None else str(round(fcp)), str(round(load))))
        finally:
            driver.quit()
    return out


if __name__ == "__main__":
    main()
