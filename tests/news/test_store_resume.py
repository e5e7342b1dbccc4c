"""Deduplication, the raw archive, reextract, and a kill -9 in the middle of a run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from werkzeug import Request, Response

from nlpkit.news.ingest import ingest
from nlpkit.news.newsstore import NewsStore
from nlpkit.news.reextract import reextract
from nlpkit.news.testing import load_korean_articles, synthetic_page
from nlpkit.store import Store
from nlpkit.store.tables import table_files
from tests.news.helpers import news_settings, url_source

ROOT = Path(__file__).resolve().parents[2]


def _group(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (from /proc; zombies do not count)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(stat.parent.name))
    return out


@pytest.fixture(scope="module")
def korean(shared_data: Path):  # type: ignore[no-untyped-def]
    return load_korean_articles(shared_data, 60)


def test_dedupe_by_canonical_url_and_flag_same_body(http, korean, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    canonical = http.url_for("/article/1")
    page = synthetic_page(korean[0], "generic", canonical)
    http.expect_request("/article/1").respond_with_data(page, content_type="text/html")
    http.expect_request("/amp/article/1").respond_with_data(page, content_type="text/html")  # same canonical URL
    copy = synthetic_page(korean[0], "etnews", http.url_for("/syndicated/1"))  # same text, another outlet URL
    http.expect_request("/syndicated/1").respond_with_data(copy, content_type="text/html")
    spec = url_source(tmp_path, [http.url_for(p) for p in ("/article/1", "/amp/article/1", "/syndicated/1")])
    spec = spec.model_copy(update={"max_articles": 10})
    news = news_settings([spec]).model_copy(update={"fetch": news_settings([spec]).fetch.model_copy(update={"total_concurrency": 1})})
    report = ingest(store, news, [spec])
    assert (report.stored, report.duplicates) == (2, 1)
    rows = {r["canonical_url"]: r for r in NewsStore(store).articles().to_pylist()}
    assert set(rows) == {canonical, http.url_for("/syndicated/1")}
    assert rows[canonical]["duplicate_of"] is None
    assert rows[http.url_for("/syndicated/1")]["duplicate_of"] == canonical
    assert rows[canonical]["content_hash"] == rows[http.url_for("/syndicated/1")]["content_hash"]
    # raw pages are archived by content hash and reextract rebuilds the same articles without fetching
    assert NewsStore(store).read_raw(rows[canonical]["raw_sha256"]) == page
    http.clear()
    result = reextract(store, news)
    assert result.articles == 2 and result.kept_old == 0
    after = {r["canonical_url"]: r for r in NewsStore(store).articles().to_pylist()}
    assert {k: (v["body"], v["duplicate_of"]) for k, v in after.items()} == {k: (v["body"], v["duplicate_of"]) for k, v in rows.items()}
    assert table_files(store.table_dir("articles")) == 1  # one overwrite commit, one file


_REPLACER = """
import sys, pyarrow as pa
from nlpkit.news.newsstore import NewsStore
from nlpkit.store import Store
ns = NewsStore(Store(sys.argv[1]))
base = ns.articles()
for i in range(10_000):
    body = pa.array([f"rewrite {i}"] * base.num_rows)
    ns.replace_articles(base.set_column(base.schema.get_field_index("body"), "body", body))
    print(i, flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.3, 0.9])
def test_kill_9_during_replace_leaves_one_whole_version(store: Store, naver_html: Path, delay: float) -> None:
    from nlpkit.news.sources import SourceSpec

    spec = SourceSpec(name="archive", kind="directory", path=naver_html, outlet="n")
    ingest(store, news_settings([spec]), [spec])
    before = NewsStore(store).articles()
    proc = subprocess.Popen([sys.executable, "-c", _REPLACER, str(store.root)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None and proc.stdout.readline()  # one replace committed
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    after = NewsStore(store).articles()
    assert after.num_rows == before.num_rows
    assert after.column("canonical_url").to_pylist() == before.column("canonical_url").to_pylist()
    assert len(set(after.column("body").to_pylist())) == 1  # every row from the same commit, none half-replaced
    assert after.column("body")[0].as_py().startswith("rewrite ")


def test_kill_9_mid_run_loses_nothing_duplicates_nothing_refetches_only_unfinished(
        http, korean, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    requested: list[str] = []
    lock = threading.Lock()
    pages = {f"/k/{i}": synthetic_page(a, "generic", http.url_for(f"/k/{i}")) for i, a in enumerate(korean)}

    def handler(request: Request) -> Response:
        with lock:
            requested.append(request.path)
        time.sleep(0.05)
        return Response(pages[request.path], content_type="text/html; charset=utf-8")

    for path in pages:
        http.expect_request(path).respond_with_handler(handler)
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(http.url_for(p) for p in pages) + "\n", encoding="utf-8")
    flows = tmp_path / "flows.yaml"
    flows.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "news": {
        "extract_workers": 1, "flush_every": 4,
        "fetch": {"per_host_delay": 0.0, "per_host_concurrency": 2, "retries": 0, "respect_robots": False}}}))
    env = {**os.environ, "NLPKIT_FLOWS": str(flows), "NLPKIT_NO_PROGRESS": "1"}
    env.pop("NLPKIT_DATA_DIR", None)
    cmd = [sys.executable, "-m", "nlpkit.cli", "scrape", "--url-file", str(urls)]
    parts = tmp_path / "data" / "tables" / "articles"
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(list((parts / "_delta_log").glob("*.json"))) < 2:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no articles stored within 60 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # the ingesting process only: its workers must notice and leave
        proc.wait(timeout=10)
        deadline = time.monotonic() + 8
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group(proc.pid), "extraction workers outlived the killed run"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    store = Store(tmp_path / "data")
    stored_before = {r["url"] for r in NewsStore(store).articles().to_pylist()}
    with lock:
        cut = len(requested)
    assert 0 < len(stored_before) < len(pages)

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = NewsStore(store).articles().to_pylist()
    canon = [r["canonical_url"] for r in rows]
    assert len(canon) == len(set(canon)) == len(pages)  # nothing lost, nothing twice
    second = requested[cut:]
    assert len(second) == len(set(second))
    assert not {http.url_for(p) for p in second} & stored_before  # finished pages were not fetched again
    assert {http.url_for(p) for p in second} | stored_before == {http.url_for(p) for p in pages}


def test_transient_failures_are_retried_next_run_then_given_up(http, korean, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from nlpkit.news.newsstore import GIVE_UP_AFTER

    hits = {"/down": 0, "/later": 0}

    def down(request: Request) -> Response:
        hits["/down"] += 1
        return Response("no", status=503)

    def later(request: Request) -> Response:
        hits["/later"] += 1
        if hits["/later"] == 1:
            return Response("not yet", status=500)
        return Response(synthetic_page(korean[1], "generic", http.url_for("/later")), content_type="text/html")

    http.expect_request("/down").respond_with_handler(down)
    http.expect_request("/later").respond_with_handler(later)
    http.expect_request("/gone").respond_with_data("gone", status=404)
    spec = url_source(tmp_path, [http.url_for(p) for p in ("/down", "/later", "/gone")])
    news = news_settings([spec], retries=0)
    stored = [ingest(store, news, [spec]).stored for _ in range(GIVE_UP_AFTER + 1)]
    assert stored == [0, 1, 0, 0]
    assert hits == {"/down": GIVE_UP_AFTER, "/later": 2}
    gone = [r for r in store.read_appended("fetch_log").to_pylist() if r["url"].endswith("/gone")]
    assert len(gone) == 1 and gone[0]["final"]  # a 404 is final: fetched once


def test_compaction_keeps_rows_and_order(naver_html: Path, store: Store) -> None:
    from nlpkit.news.newsstore import FETCH_LOG
    from nlpkit.news.sources import SourceSpec

    spec = SourceSpec(name="archive", kind="directory", path=naver_html, outlet="n")
    news = news_settings([spec]).model_copy(update={"flush_every": 1})
    ingest(store, news, [spec])
    ns = NewsStore(store)
    before = store.read_appended(FETCH_LOG).to_pylist()
    parts = lambda: table_files(store.table_dir(FETCH_LOG))  # noqa: E731
    assert parts() >= 3
    with ns.lock():
        assert not ns.compact(FETCH_LOG, max_parts=parts())
        assert ns.compact(FETCH_LOG, max_parts=1)
    assert parts() == 1
    assert store.read_appended(FETCH_LOG).to_pylist() == before
    assert ingest(store, news, [spec]).queued == 0  # the merged log still marks every page finished


def _log_row(url: str, kind: str) -> dict:
    from datetime import UTC, datetime

    return {"url": url, "source": "s", "stage": "article", "status": 200, "bytes": 10, "elapsed": 0.1,
            "error_kind": kind, "message": "", "final": False, "final_url": url, "etag": None,
            "last_modified": None, "time": datetime.now(UTC)}


def test_a_full_disk_in_many_runs_gives_up_no_page_but_transient_page_errors_do(store: Store) -> None:
    from nlpkit.news.newsstore import GIVE_UP_AFTER

    news = NewsStore(store)
    runs = GIVE_UP_AFTER + 2
    news.append_log([_log_row("https://example.com/full-disk", "archive_error") for _ in range(runs)])
    news.append_log([_log_row("https://example.com/flaky", "timeout") for _ in range(runs)])
    done = news.load_state().done
    assert "https://example.com/full-disk" not in done  # fetched again once space is free
    assert "https://example.com/flaky" in done
