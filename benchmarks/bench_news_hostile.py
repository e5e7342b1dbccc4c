"""Hostile-input benchmark for news ingestion (issue #12): time, memory and what is stored.

Run: ``.venv/bin/python benchmarks/bench_news_hostile.py [--links 2000 8000 16000 200000] [--out FILE]``

1. A list page with N links (``nlpkit.news.testing.many_links_page``, real Korean headlines):
   wall time and peak RSS of ``extract_page`` on it, each size in a fresh process.
2. SIGTERM mid-run: ``nlpkit scrape`` of 8 real pages then one that hangs, one page at a time,
   SIGTERM once the hanging page is asked for: exit code and rows stored.
3. A raw archive that fills up after 2 pages (a patched writer raising ENOSPC), then a rerun.
4. A sitemap index whose child is ``.xml.gz`` served as ``application/x-gzip``: URLs queued.
5. A slow drip (one byte a second) with total_timeout 10 s and 2 retries: seconds the URL holds
   a host slot (``deadline`` 20 s where the code has that setting).

For before/after, run it once with ``PYTHONPATH`` pointing at an older checkout (``--tree`` is
where ``nlpkit.cli`` runs from). Timings are wall-clock on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NLPKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))

_ONE_PAGE = """
import resource, sys, time
from pathlib import Path
from nlpkit.news.testing import load_korean_articles, many_links_page
from nlpkit.news.worker import extract_page
page = many_links_page(int(sys.argv[1]), load_korean_articles(Path(sys.argv[2]), 50))
t = time.perf_counter()
out = extract_page(page, "text/html; charset=utf-8", "http://127.0.0.1/list", {})
print(round(time.perf_counter() - t, 2), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, out["kind"] if not out["ok"] else "stored")
"""


def link_pages(sizes: list[int], limit: float) -> list[dict[str, object]]:
    rows = []
    for n in sizes:
        try:
            p = subprocess.run([sys.executable, "-c", _ONE_PAGE, str(n), str(SHARED)], capture_output=True, text=True,
                               timeout=limit)
            secs, mb, kind = p.stdout.split()
            rows.append({"links": n, "seconds": float(secs), "peak_mb": int(mb), "outcome": kind})
        except subprocess.TimeoutExpired:
            rows.append({"links": n, "seconds": f"> {limit:g}", "peak_mb": None, "outcome": "did not finish"})
        print(f"  {rows[-1]}", flush=True)
    return rows


def scenarios(tree: Path) -> dict[str, object]:
    import yaml
    from pytest_httpserver import HTTPServer
    from werkzeug import Response

    import nlpkit.news.archive as archive
    from nlpkit.news.fetch import Fetcher
    from nlpkit.news.ingest import ingest
    from nlpkit.news.newsstore import NewsStore
    from nlpkit.news.sources import FetchOptions, NewsSettings, SourceSpec
    from nlpkit.store import Store

    dev = {p.name[:12]: gzip.decompress(p.read_bytes())
           for p in sorted((SHARED / "article_extraction_dev" / "html").glob("*.gz"))[:12]}
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    seen: list[str] = []

    def page(body: bytes):  # type: ignore[no-untyped-def]
        return lambda r: (seen.append(r.path), Response(body, content_type="text/html; charset=utf-8"))[1]

    def drip(r):  # type: ignore[no-untyped-def]
        def gen():  # type: ignore[no-untyped-def]
            for _ in range(100):
                yield b"<"
                time.sleep(1)
        return Response(gen(), content_type="text/html")

    for k, body in dev.items():
        srv.expect_request(f"/d/{k}").respond_with_handler(page(body))
    srv.expect_request("/hang").respond_with_handler(lambda r: (seen.append("/hang"), time.sleep(40), Response("x"))[1])
    srv.expect_request("/drip").respond_with_handler(drip)
    locs = "".join(f"<url><loc>{srv.url_for('/d/' + k)}</loc></url>" for k in dev)
    srv.expect_request("/sm.xml.gz").respond_with_data(
        gzip.compress(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'.encode()),
        content_type="application/x-gzip")
    srv.expect_request("/idx.xml").respond_with_data(
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{srv.url_for("/sm.xml.gz")}'
        "</loc></sitemap></sitemapindex>", content_type="application/xml")
    urls = [srv.url_for(f"/d/{k}") for k in dev]
    tmp = Path(tempfile.mkdtemp())
    out: dict[str, object] = {}

    # 2. SIGTERM mid-run, default flush settings
    (tmp / "u.txt").write_text("\n".join([*urls[:8], srv.url_for("/hang")]) + "\n")
    (tmp / "f.yaml").write_text(yaml.safe_dump({"data_dir": str(tmp / "d1"), "news": {"extract_workers": 1, "fetch": {
        "per_host_delay": 0.0, "total_concurrency": 1, "retries": 0, "respect_robots": False, "total_timeout": 60}}}))
    env = {**os.environ, "NLPKIT_FLOWS": str(tmp / "f.yaml"), "NLPKIT_NO_PROGRESS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "nlpkit.cli", "scrape", "--url-file", str(tmp / "u.txt")], cwd=tree,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    while "/hang" not in seen:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    try:
        err = proc.communicate(timeout=20)[1]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        err = "(did not exit within 20 s of SIGTERM; killed)"
    store = Store(tmp / "d1")
    logged = store.read_appended("fetch_log").num_rows if (tmp / "d1" / "tables" / "fetch_log").is_dir() else 0
    out["sigterm"] = {"pages_fetched_before_signal": 8, "exit_code": proc.returncode, "fetch_log_rows": logged,
                      "articles": NewsStore(store).articles().num_rows, "stderr": (err.strip().splitlines() or [""])[-1]}
    print(f"  {out['sigterm']}", flush=True)

    # 3. full raw archive after 2 pages, then a rerun with space
    def fast() -> FetchOptions:
        return FetchOptions(per_host_delay=0.0, retries=0, respect_robots=False, total_concurrency=1)

    (tmp / "u2.txt").write_text("\n".join(urls[:6]) + "\n")
    spec = SourceSpec(name="t", kind="urls", path=tmp / "u2.txt", outlet="t")
    news = NewsSettings(sources=[spec], fetch=fast(), extract_workers=0, flush_every=10)
    real, calls = archive.archive_raw, []

    def full(raw_dir: Path, body: bytes) -> str:
        calls.append(1)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(raw_dir, body)

    archive.archive_raw = full
    store2 = Store(tmp / "d2")
    try:
        r = ingest(store2, news, [spec])
        first = f"returned normally: {dict(r.kinds)}"
    except Exception as e:  # noqa: BLE001 - reporting what happened is the point
        first = f"{type(e).__name__}: {e}"[:140]
    archive.archive_raw = real
    again = ingest(store2, news, [spec])
    out["full_disk"] = {"pages": 6, "first_run": first, "rerun_queued": again.queued, "rerun_stored": again.stored,
                        "articles_after_rerun": NewsStore(store2).articles().num_rows}
    print(f"  {out['full_disk']}", flush=True)

    # 4. .xml.gz child of a sitemap index
    spec3 = SourceSpec(name="g", kind="sitemap", url=srv.url_for("/idx.xml"), outlet="g")
    store3 = Store(tmp / "d3")
    ingest(store3, NewsSettings(sources=[spec3], fetch=fast(), extract_workers=0), [spec3], limit=1)
    frontier = tmp / "d3" / "tables" / "news_frontier"
    out["gz_sitemap"] = {"urls_in_child": len(dev), "queued": store3.read_appended("news_frontier").num_rows
                         if frontier.is_dir() else 0,
                         "discover": [x["error_kind"] for x in store3.read_appended("fetch_log").to_pylist()
                                      if x["stage"] == "discover"]}
    print(f"  {out['gz_sitemap']}", flush=True)

    # 5. slow drip
    extra = {"deadline": 20.0} if "deadline" in FetchOptions.model_fields else {}
    opts = FetchOptions(per_host_delay=0.0, respect_robots=False, read_timeout=20, total_timeout=10, backoff=1.0,
                        retries=2, **extra)

    async def fetch_drip():  # type: ignore[no-untyped-def]
        async with Fetcher(opts) as f:
            t = time.monotonic()
            res = await f.fetch(srv.url_for("/drip"))
            return time.monotonic() - t, res

    secs, res = asyncio.run(fetch_drip())
    out["slow_drip"] = {"slot_seconds": round(secs, 1), "attempts": res.attempts, "error_kind": res.error_kind}
    print(f"  {out['slow_drip']}", flush=True)
    srv.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--links", type=int, nargs="*", default=[2_000, 8_000, 16_000, 200_000])
    ap.add_argument("--limit", type=float, default=240.0, help="Seconds one link page may take before it is given up.")
    ap.add_argument("--tree", type=Path, default=ROOT, help="Checkout that `nlpkit.cli` runs from (PYTHONPATH too).")
    ap.add_argument("--out", type=Path, default=None, help="Write the results as JSON here.")
    args = ap.parse_args()
    print("1. list pages with many links: extract_page time and peak memory")
    results: dict[str, object] = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "load_average_at_start": os.getloadavg(),
                                  "link_pages": link_pages(args.links, args.limit)}
    print("2-5. SIGTERM, full disk, .xml.gz sitemap, slow drip")
    results.update(scenarios(args.tree))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
