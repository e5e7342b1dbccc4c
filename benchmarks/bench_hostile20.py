"""Hostile-input benchmark for news and imports (issue #20): wall, CPU and peak RSS per case, before and after.

Run: ``.venv/bin/python benchmarks/bench_hostile20.py --before /path/to/main/checkout [--out FILE.md]``

Every case is one ``nlpkit`` command in a fresh process (``PYTHONPATH`` = the checkout measured), its CPU
seconds and peak RSS taken from ``wait4`` (the process and the workers it waited for), cut off at
``--timeout`` seconds. The news cases talk to a local 127.0.0.1 server started here; nothing else is
contacted. The outcome column is what the command said (rows kept, articles stored) and, for imports,
whether the dataset can be queried afterwards.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NLPKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
MB = 1 << 20


def run(tree: Path, args: list[str], env: dict[str, str], cwd: Path, timeout: float,
        stdin: int | None = subprocess.DEVNULL) -> dict[str, object]:
    """wall s, CPU s, peak RSS MiB, exit code and the last output line of ``nlpkit *args`` run from ``tree``."""
    env = {**os.environ, **env, "PYTHONPATH": str(tree), "NLPKIT_NO_PROGRESS": "1"}
    out = cwd / "out.txt"
    with out.open("w") as f:
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "nlpkit.cli", *args], cwd=cwd, env=env, stdout=f, stderr=f,
                             stdin=stdin, start_new_session=True)
        killed = False
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                os.killpg(p.pid, signal.SIGKILL)
                killed = True
                pid, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t0
    text = out.read_text(errors="replace").strip().splitlines()
    said = [line for line in text if line.startswith("error:")] or text[-1:] or [""]
    return {"wall": f"> {timeout:.0f}" if killed else f"{wall:.1f}", "cpu": f"{usage.ru_utime + usage.ru_stime:.1f}",
            "rss": usage.ru_maxrss // 1024, "code": "killed" if killed else os.waitstatus_to_exitcode(status),
            "said": said[0][:110]}


# -- inputs ---------------------------------------------------------------------------------------------
def _real_page() -> bytes:
    p = sorted((SHARED / "article_extraction_dev" / "html").glob("*.html.gz"))[3]
    return gzip.decompress(p.read_bytes())


def _server(tmp: Path):  # type: ignore[no-untyped-def]
    from pytest_httpserver import HTTPServer

    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.no_handler_status_code = 404
    srv.start()
    page = _real_page()
    for i in range(4):
        srv.expect_request(f"/ok/{i}").respond_with_data(page.replace(b"<head>", f"<head><!-- {i} -->".encode(), 1),
                                                         content_type="text/html; charset=utf-8")
    import re

    plain = re.sub(rb"<link[^>]*canonical[^>]*>|<meta[^>]*og:url[^>]*>", b"", page)
    srv.expect_request("/badcanon").respond_with_data(
        plain.replace(b"<head>", b'<head><link rel="canonical" href="http://127.0.0.1:99999/a">', 1),
        content_type="text/html; charset=utf-8")
    locs = "".join(f"<url><loc>{u}</loc></url>" for u in
                   ["http://127.0.0.1:99999/x", srv.url_for("/ok/0"), "http://[::1", srv.url_for("/ok/1")])
    srv.expect_request("/sitemap.xml").respond_with_data(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>',
        content_type="application/xml")
    srv.expect_request("/section").respond_with_data("<a " * 40_000, content_type="text/html")
    return srv


def _robots_server() -> object:
    from pytest_httpserver import HTTPServer

    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.no_handler_status_code = 404
    srv.start()
    srv.expect_request("/robots.txt").respond_with_data(b"User-agent: *\nDisallow: /private\n" + b"# pad\n" * (30 * MB // 6),
                                                        content_type="text/plain")
    page = _real_page()
    for i in range(3):
        srv.expect_request(f"/ok/{i}").respond_with_data(page.replace(b"<head>", f"<head><!-- {i} -->".encode(), 1),
                                                         content_type="text/html; charset=utf-8")
    return srv


def _flows(tmp: Path, sources: list[dict], robots: bool = False) -> dict[str, str]:
    import yaml

    f = tmp / "flows.yaml"
    f.write_text(yaml.safe_dump({"data_dir": str(tmp / "data"), "news": {
        "extract_workers": 1, "sources": sources,
        "fetch": {"per_host_delay": 0.0, "retries": 0, "respect_robots": robots}}}))
    return {"NLPKIT_FLOWS": str(f), "NLPKIT_DATA_DIR": str(tmp / "data")}


def _gzip_spaces(path: Path, mib: int) -> None:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as f:
        f.write(c.compress(b"<html><body><p>"))
        for _ in range(mib):
            f.write(c.compress(b" " * MB))
        f.write(c.flush())


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def build_imports(d: Path) -> dict[str, Path]:
    files = {}
    f = d / "csv_quoted_40mb.csv"
    with f.open("w") as out:
        out.write('id,text\n1,first real row\n2,"')
        for i in range(40):
            out.write("".join(f"{j},made-up row {i}.{j}\n" for j in range(60_000)))
        out.write('"\n3,last real row\n')
    files["csv_quoted"] = f
    f = d / "csv_field_512mb.csv"
    with f.open("w") as out:
        out.write('id,text\n1,real\n2,"')
        for _ in range(512):
            out.write("x" * MB)
        out.write('"\n3,real too\n')
    files["csv_huge"] = f
    for depth in (100, 500, 10_000):
        f = d / f"deep_{depth}.jsonl"
        f.write_text('{"text": "a"}\n' + f'{{"text": "b", "meta": {_nested(depth)}}}\n{{"text": "c"}}\n')
        files[f"deep_{depth}"] = f
    f = d / "surrogate.jsonl"
    f.write_text('{"text": "a"}\n{"text": "bad \\ud800"}\n{"text": "c \\ud83d\\ude00"}\n')
    files["surrogate"] = f
    f = d / "keys_400x400.jsonl"
    with f.open("w") as out:
        for i in range(400):
            out.write(json.dumps({"text": f"row {i}", **{f"k{i}_{j}": j for j in range(400)}}) + "\n")
    files["keys"] = f
    for name, target in (("zero", "/dev/zero"), ("stdin", "/proc/self/fd/0")):
        f = d / f"{name}.jsonl"
        os.symlink(target, f)
        files[name] = f
    return files


# -- cases ------------------------------------------------------------------------------------------------
def cases(work: Path, srv, robots_srv, files: dict[str, Path]) -> list[tuple[str, Callable[[Path, float], dict]]]:  # type: ignore[no-untyped-def]
    def url_file(tmp: Path, urls: list[str]) -> Path:
        f = tmp / "urls.txt"
        f.write_text("\n".join(urls) + "\n")
        return f

    def news(name: str, sources: list[dict], extra: Callable[[Path], list[str]], robots: bool = False):  # type: ignore[no-untyped-def]
        def go(tree: Path, timeout: float) -> dict:
            tmp = Path(tempfile.mkdtemp(dir=work))
            env = _flows(tmp, sources, robots)
            res = run(tree, ["news", "scrape", *extra(tmp)], env, tmp, timeout)
            again = run(tree, ["news", "scrape", *extra(tmp)], env, tmp, timeout)  # the next run
            res["said"] = f"{res['said']} / next run: exit {again['code']}, {again['said'][:60]}"
            return res
        return name, go

    def imp(name: str, file: Path, query: bool = True, stdin: int | None = subprocess.DEVNULL):  # type: ignore[no-untyped-def]
        def go(tree: Path, timeout: float) -> dict:
            tmp = Path(tempfile.mkdtemp(dir=work))
            env = {"NLPKIT_DATA_DIR": str(tmp / "data")}
            res = run(tree, ["data", "import", "x", str(file)], env, tmp, timeout, stdin=stdin)
            if query and res["code"] != "killed":
                q = run(tree, ["query", "SELECT count(*) AS n FROM x"], env, tmp, 120)
                res["said"] = f"{res['said']} / query: exit {q['code']}"
            return res
        return name, go

    sitemap = [{"name": "sm", "kind": "sitemap", "url": srv.url_for("/sitemap.xml"), "outlet": "t"}]
    section = [{"name": "sec", "kind": "section", "url": srv.url_for("/section"), "link_pattern": "/article/",
                "outlet": "t"}]
    bomb_dir = work / "gz_dir"
    bomb_dir.mkdir()
    (bomb_dir / "a_real.html").write_bytes(_real_page())
    _gzip_spaces(bomb_dir / "b_bomb.html.gz", 512)
    return [
        news("news: URL file with port 99999", [], lambda t: ["--url-file", str(url_file(t, [
            srv.url_for("/ok/0"), "http://127.0.0.1:99999/x", srv.url_for("/ok/1")]))]),
        news("news: URL file with http://[::1", [], lambda t: ["--url-file", str(url_file(t, [
            srv.url_for("/ok/0"), "http://[::1", srv.url_for("/ok/1")]))]),
        news("news: sitemap with both bad <loc>s", sitemap, lambda t: []),
        news("news: page with a bad canonical", [], lambda t: ["--url-file", str(url_file(t, [srv.url_for("/badcanon")]))]),
        news("news: 30 MB robots.txt", [], lambda t: ["--url-file", str(url_file(t, [
            robots_srv.url_for(f"/ok/{i}") for i in range(3)]))], robots=True),
        news("news: section page of 40,000 '<a '", section, lambda t: []),
        news("news: --dir with 0.5 MB .gz -> 512 MiB", [], lambda t: ["--dir", str(bomb_dir)]),
        imp("import: CSV 40 MB quoted field of rows", files["csv_quoted"]),
        imp("import: CSV with a 512 MiB field", files["csv_huge"]),
        imp("import: JSONL 100 deep", files["deep_100"]),
        imp("import: JSONL 500 deep", files["deep_500"]),
        imp("import: JSONL 10,000 deep", files["deep_10000"]),
        imp("import: JSONL lone surrogate", files["surrogate"]),
        imp("import: JSONL 400 rows x 400 keys", files["keys"]),
        imp("import: link to /dev/zero", files["zero"], query=False),
        imp("import: link to /proc/self/fd/0 (a pipe)", files["stdin"], query=False, stdin=subprocess.PIPE),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="checkout measured as 'before' (main)")
    ap.add_argument("--after", type=Path, default=ROOT, help="checkout measured as 'after' (default: this one)")
    ap.add_argument("--timeout", type=float, default=150.0, help="seconds before a case is killed")
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hostile20_news_imports.md")
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    work = Path(tempfile.mkdtemp(prefix="nlpkit-hostile20-"))
    files = build_imports(work)
    srv, robots_srv = _server(work), _robots_server()
    rows = []
    try:
        for name, go in cases(work, srv, robots_srv, files):
            if args.only not in name:
                continue
            for label, tree in (("before", args.before), ("after", args.after)):
                r = go(tree, args.timeout)
                rows.append((name, label, r))
                print(f"{name:45} {label:6} wall {r['wall']:>7} s  cpu {r['cpu']:>6} s  rss {r['rss']:>5} MiB  "
                      f"exit {r['code']}  {r['said']}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # 1.2 GB of inputs
    lines = ["| case | run | wall s | CPU s | peak RSS MiB | exit | what it said |", "|---|---|---:|---:|---:|---|---|"]
    lines += [f"| {n} | {label} | {r['wall']} | {r['cpu']} | {r['rss']} | {r['code']} | {str(r['said']).replace('|', '/')} |"
              for n, label, r in rows]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
