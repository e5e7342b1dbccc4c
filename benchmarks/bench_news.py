"""News benchmark: extraction F1 per extractor, and end-to-end pages/s vs a naive loop.

Run: ``.venv/bin/python benchmarks/bench_news.py [--synthetic N] [--skip-naive] [--out FILE]``

1. Extraction quality on the 60 real English pages of ``article_extraction_dev`` with the
   benchmark's own scoring (4-token shingles, see its MANIFEST): trafilatura default,
   trafilatura ``favor_precision``, newspaper4k (``fetch_images=False``), and nlpkit's chain
   (site rules -> trafilatura precision -> trafilatura default when < 50 words -> newspaper4k),
   which is what ``nlpkit scrape`` runs. Milliseconds per page next to each.
2. End to end (fetch + decode + extract + dedupe + store) against a local HTTP server in its
   own process holding: the 60 real English pages, the 5 real Naver pages, and N SYNTHETIC
   layouts (etnews-like, generic UTF-8, generic EUC-KR) built around REAL Korean article text
   from ``korean_news`` (``nlpkit.news.testing``). nlpkit's ingest (async httpx, 2 extraction
   processes, politeness delay off as the issue asks) vs a naive sequential loop over the same
   URLs in the same run: ``requests`` (one Session) + newspaper4k parse + one Parquet write at the end.
   nlpkit runs ``--repeat`` times (fresh store each time); the median run is compared. Its
   pages/s counts start-up (worker processes, first writes into an empty store); "first to
   last page" is the rate between the first and the last page's fetch_log row. CPU ms per
   page (this process + its worker processes, sampled with psutil) is printed too: on a shared machine it is steadier
   than wall-clock pages/s.
Timings are wall-clock on a shared 2-core machine: compare numbers from the same run only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import statistics
import threading
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NLPKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
EXCLUDE: set[int] = set()  # processes whose CPU is not ours (the local HTTP server)


# -- pages ---------------------------------------------------------------------------------------
def build_pages(n_synthetic: int) -> dict[str, tuple[bytes, str]]:
    """path -> (bytes, Content-Type) for the local server."""
    from nlpkit.news.testing import load_korean_articles, synthetic_page

    pages: dict[str, tuple[bytes, str]] = {}
    dev = SHARED / "article_extraction_dev"
    for key in json.loads((dev / "ground-truth.json").read_text("utf-8")):
        pages[f"/en/{key}.html"] = (gzip.decompress((dev / "html" / f"{key}.html.gz").read_bytes()), "text/html; charset=utf-8")
    for f in sorted((SHARED / "korean_news_html").glob("*.html")):
        pages[f"/naver/{f.name}"] = (f.read_bytes(), "text/html")  # real bytes, charset left to the page
    layouts = ("etnews", "generic", "generic_euckr")
    for i, art in enumerate(load_korean_articles(SHARED, n_synthetic)):
        layout = layouts[i % 3]
        path = f"/ko/{layout}/{art.id}.html"
        ctype = "text/html; charset=euc-kr" if layout == "generic_euckr" else "text/html; charset=utf-8"
        pages[path] = (synthetic_page(art, layout, f"https://news.example.kr{path}"), ctype)  # type: ignore[arg-type]
    return pages


def _serve(pages: dict[str, tuple[bytes, str]], port_out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            body, ctype = pages.get(self.path, (b"", ""))
            self.send_response(200 if ctype else 404)
            self.send_header("Content-Type", ctype or "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    server.serve_forever()


# -- 1. extraction F1 ----------------------------------------------------------------------------
def extraction_scores() -> list[dict[str, object]]:
    import trafilatura

    from nlpkit.news.extract import _newspaper_text, extract_article
    from nlpkit.news.score import score_pages

    dev = SHARED / "article_extraction_dev"
    truth = json.loads((dev / "ground-truth.json").read_text("utf-8"))
    html = {k: gzip.decompress((dev / "html" / f"{k}.html.gz").read_bytes()).decode("utf-8") for k in truth}

    def chain(h: str, url: str) -> str:
        art, _ = extract_article(h, url)
        return art.body if art else ""

    extractors = {
        "trafilatura 2.3.1 extract() default": lambda h, u: trafilatura.extract(h, url=u) or "",
        "trafilatura favor_precision": lambda h, u: trafilatura.extract(h, url=u, favor_precision=True) or "",
        "newspaper4k 0.9.6 (fetch_images=False)": _newspaper_text,
        "nlpkit chain (rules > traf precision > traf default > newspaper4k) + cleaning": chain,
    }
    rows = []
    for name, fn in extractors.items():
        times, pairs = [], []
        for k, v in truth.items():
            t = time.perf_counter()
            pred = fn(html[k], v["url"])
            times.append(time.perf_counter() - t)
            pairs.append((v["articleBody"], pred))
        s = score_pages(pairs)
        rows.append({"extractor": name, "f1": round(s.f1, 4), "precision": round(s.precision, 4),
                     "recall": round(s.recall, 4), "ms_per_page": round(1000 * statistics.mean(times), 1)})
        print(f"  {name:80s} F1 {s.f1:.4f}  P {s.precision:.4f}  R {s.recall:.4f}  {rows[-1]['ms_per_page']:7.1f} ms/page",
              flush=True)
    return rows


# -- 2. end to end ---------------------------------------------------------------------------------
class CpuMeter:
    """CPU seconds of this process and its descendants (the forkserver's extraction workers are
    grandchildren, so rusage alone misses them): descendants are sampled every 50 ms, and the
    local HTTP server's process is left out."""

    def __init__(self, exclude: set[int]) -> None:
        import psutil

        self._me = psutil.Process()
        self._exclude = exclude
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        for child in self._me.children(recursive=True):
            if child.pid in self._exclude:
                continue
            try:
                t = child.cpu_times()
                self._seen[child.pid] = t.user + t.system
            except Exception:  # noqa: BLE001 - the process just ended
                pass

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()

    def __enter__(self) -> CpuMeter:
        self._sample()
        self._start_children = dict(self._seen)
        t = self._me.cpu_times()
        self._start_self = t.user + t.system
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sample()
        self._stop.set()
        self._thread.join()
        t = self._me.cpu_times()
        self.seconds = (t.user + t.system - self._start_self) + sum(
            v - self._start_children.get(pid, 0.0) for pid, v in self._seen.items())


def run_nlpkit(urls: list[str], workdir: Path, workers: int) -> dict[str, object]:
    from nlpkit.news.ingest import ingest
    from nlpkit.news.sources import FetchOptions, NewsSettings, SourceSpec
    from nlpkit.store import Store

    url_file = workdir / "urls.txt"
    url_file.write_text("\n".join(urls), encoding="utf-8")
    spec = SourceSpec(name="bench", kind="urls", path=url_file, outlet="bench", max_articles=10_000)
    news = NewsSettings(sources=[spec], extract_workers=workers, flush_every=100,
                        fetch=FetchOptions(per_host_delay=0.0, per_host_concurrency=16, total_concurrency=16))
    with CpuMeter(EXCLUDE) as meter:
        t = time.perf_counter()
        report = ingest(Store(workdir / "data"), news, [spec])
        seconds = time.perf_counter() - t
    cpu = meter.seconds
    done = report.stored + report.duplicates + report.failed
    store = Store(workdir / "data")
    times = sorted(r["time"] for r in store.read_appended("fetch_log").to_pylist() if r["stage"] == "article")
    span = (times[-1] - times[0]).total_seconds()
    return {"pages": done, "stored": report.stored, "duplicates": report.duplicates, "failed": report.failed,
            "kinds": dict(report.kinds), "seconds": round(seconds, 2), "pages_per_s": round(done / seconds, 1),
            "steady_pages_per_s": round((len(times) - 1) / span, 1) if span > 0 else None,
            "cpu_ms_per_page": round(1000 * cpu / done, 1), "stored_f1_en": _stored_f1(store)}


def _stored_f1(store: object) -> float:
    """Benchmark F1 of the bodies the pipeline stored for the 60 English pages (end-to-end quality)."""
    from nlpkit.news.newsstore import NewsStore
    from nlpkit.news.score import score_pages

    truth = json.loads((SHARED / "article_extraction_dev" / "ground-truth.json").read_text("utf-8"))
    bodies = {r["url"].rsplit("/en/", 1)[-1].removesuffix(".html"): r["body"]
              for r in NewsStore(store).articles(["url", "body"]).to_pylist() if "/en/" in r["url"]}  # type: ignore[arg-type]
    return round(score_pages((v["articleBody"], bodies.get(k, "")) for k, v in truth.items()).f1, 4)


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def run_naive(urls: list[str], workdir: Path) -> dict[str, object]:
    """What a first script does: one request after another, newspaper parses, store at the end."""
    import pyarrow as pa
    import requests
    import pyarrow.parquet as pq
    import tldextract.tldextract as tld
    from newspaper import Article, Config

    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=())  # offline, as in nlpkit
    cfg = Config()
    cfg.fetch_images = False
    rows = []
    meter = CpuMeter(EXCLUDE).__enter__()
    t = time.perf_counter()
    with requests.Session() as session:
        for url in urls:
            r = session.get(url, timeout=20)
            art = Article(url, config=cfg)
            art.download(input_html=r.text)
            try:
                art.parse()
            except Exception:  # noqa: BLE001
                continue
            rows.append({"url": url, "title": art.title, "body": art.text, "authors": list(art.authors)})
    pq.write_table(pa.Table.from_pylist(rows), workdir / "naive.parquet")
    seconds = time.perf_counter() - t
    meter.__exit__()
    cpu = meter.seconds
    return {"pages": len(urls), "stored": len(rows), "seconds": round(seconds, 2),
            "pages_per_s": round(len(urls) / seconds, 1), "cpu_ms_per_page": round(1000 * cpu / len(urls), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synthetic", type=int, default=240, help="Synthetic Korean pages (real text) to add.")
    ap.add_argument("--workers", type=int, default=2, help="Extraction processes for nlpkit.")
    ap.add_argument("--repeat", type=int, default=3, help="nlpkit runs (the median is compared with the naive loop).")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--skip-f1", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_news.json")
    args = ap.parse_args()
    results: dict[str, object] = {"machine": f"{os.cpu_count()} CPUs (shared)", "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                                  "load_average_at_start": os.getloadavg()}

    if not args.skip_f1:
        print("1. extraction on the 60 real pages of article_extraction_dev (benchmark scoring)")
        results["extraction"] = extraction_scores()

    pages = build_pages(args.synthetic)
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    server = ctx.Process(target=_serve, args=(pages, q), daemon=True)
    server.start()
    EXCLUDE.add(server.pid)  # type: ignore[arg-type]
    try:
        port = q.get(timeout=30)
        urls = [f"http://127.0.0.1:{port}{p}" for p in pages]
        n_real = sum(1 for p in pages if not p.startswith("/ko/"))
        print(f"\n2. end to end on {len(urls)} pages ({n_real} real, {len(urls) - n_real} synthetic layouts around real text)")
        with tempfile.TemporaryDirectory() as tmp:
            runs = []
            for i in range(args.repeat):  # a fresh store each time: every page is fetched, extracted and stored
                ours = run_nlpkit(urls, _fresh(Path(tmp) / f"run{i}"), args.workers)
                runs.append(ours)
                print(f"  nlpkit ingest ({args.workers} extraction processes), run {i + 1}: {ours['pages']} pages in "
                      f"{ours['seconds']}s = {ours['pages_per_s']} pages/s (first to last page: {ours['steady_pages_per_s']} pages/s), "
                      f"{ours['cpu_ms_per_page']} CPU ms/page, F1 of stored English bodies {ours['stored_f1_en']}  "
                      f"(stored {ours['stored']}, duplicates {ours['duplicates']}, failed {ours['failed']}: {ours['kinds']})",
                      flush=True)
            ours = sorted(runs, key=lambda r: r["pages_per_s"])[len(runs) // 2]  # the median run
            print(f"  median nlpkit run: {ours['pages_per_s']} pages/s; CPU-bound ceiling on 2 free cores: "
                  f"{2000 / ours['cpu_ms_per_page']:.0f} pages/s")  # type: ignore[operator]
            results["nlpkit_runs"] = runs
            results["nlpkit"] = ours
            if not args.skip_naive:
                naive = run_naive(urls, Path(tmp))
                print(f"  naive sequential requests + newspaper4k loop: {naive['pages']} pages in {naive['seconds']}s "
                      f"= {naive['pages_per_s']} pages/s, {naive['cpu_ms_per_page']} CPU ms/page")
                results["naive"] = naive
                speedup = ours["pages_per_s"] / naive["pages_per_s"]  # type: ignore[operator]
                results["speedup"] = round(speedup, 2)
                print(f"  speed-up (median nlpkit run / naive): {speedup:.1f}x; CPU per page: "
                      f"{naive['cpu_ms_per_page']} ms naive vs {ours['cpu_ms_per_page']} ms nlpkit")
    finally:
        server.terminate()
        server.join(5)
    results["load_average_at_end"] = os.getloadavg()
    print(f"load average (1, 5, 15 min) at start {results['load_average_at_start']}, at end {results['load_average_at_end']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
