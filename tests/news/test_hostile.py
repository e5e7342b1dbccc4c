"""Hostile input from the fault server (issue #12): every page bounded in time and memory, nothing lost.

Each test would fail on the code before the fix: the 200k-link page stalled a worker for 11+
minutes, SIGTERM stored nothing, a full archive marked pages final, ``.xml.gz`` sitemaps were
refused, a slow drip held a host slot for every retry, and ``?utm_`` duplicates had no log row.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st
from lxml import html as lxml_html

from nlpkit.errors import DatasetError, DatasetNotFoundError
from nlpkit.news import extract
from nlpkit.news.fetch import Fetcher, gunzip_bounded
from nlpkit.news.ingest import ingest
from nlpkit.news.newsstore import NewsStore
from nlpkit.news.sources import SourceSpec
from nlpkit.news.testing import many_links_page
from nlpkit.store import Store
from tests.news.conftest import FaultServer
from tests.news.helpers import fast_fetch, news_settings, url_source

ROOT = Path(__file__).resolve().parents[2]


def _article_rows(store: Store) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    try:
        log = store.read_appended("fetch_log").to_pylist()
    except DatasetNotFoundError:  # nothing written yet
        return rows
    for r in log:
        if r["stage"] == "article":
            rows.setdefault(r["url"], []).append(r)
    return rows


# -- the link-share check: linear, capped, and the same decisions --------------------------------------
def _share_bruteforce(tree: lxml_html.HtmlElement, body: str) -> float | None:
    """The check as it was (paragraphs x link texts), kept as the reference for the decisions."""
    if extract._says_article(tree):
        return None
    og_type = tree.xpath("//meta[@property='og:type']/@content")
    threshold = 0.2 if og_type else 0.5
    anchors = {a for a in (" ".join(x.text_content().split()) for x in tree.xpath("//body//a")) if len(a) >= 8}
    paragraphs = body.split("\n\n")
    hits = sum(1 for p in paragraphs if sum(len(a) for a in anchors if a in p) >= 0.25 * len(p))
    share = hits / len(paragraphs)
    return share if share >= threshold else None


def test_link_share_decides_as_before_on_every_real_page(fault_server: FaultServer, shared_data: Path) -> None:
    pages = [gzip.decompress(p.read_bytes()) for p in sorted((shared_data / "article_extraction_dev" / "html").glob("*.gz"))]
    pages += [p.read_bytes() for p in sorted((shared_data / "korean_news_html").glob("*.html"))]
    compared = 0
    for raw in pages:
        html = raw.decode("utf-8", "replace")
        tree = lxml_html.document_fromstring(html)
        link_heavy = "\n\n".join(x.text_content() for x in tree.xpath("//p|//li|//a"))
        generic = extract.clean_paragraphs(extract._trafilatura().extract(html) or "")
        for body in (link_heavy, generic):
            if body:
                assert extract._list_page_share(tree, body) == _share_bruteforce(tree, body)
                compared += 1
    assert compared >= 120


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab 가", min_size=0, max_size=14), max_size=12),
       st.lists(st.text(alphabet="ab 가\n", max_size=60), min_size=1, max_size=5))
def test_linked_chars_equals_the_substring_sum(anchor_texts: list[str], paragraphs: list[str]) -> None:
    links = "".join(f"<a href='#'>{a}</a>" for a in anchor_texts)
    tree = lxml_html.document_fromstring(f"<html><body><div>{links}</div><p>x</p></body></html>")
    body = "\n\n".join(" ".join(p.split()) for p in paragraphs)
    assert extract._list_page_share(tree, body) == _share_bruteforce(tree, body)


def test_200k_link_share_is_linear() -> None:
    page = many_links_page(200_000).decode()
    tree = lxml_html.document_fromstring(page)
    body = "\n\n".join(x.text_content() for x in tree.xpath("//li"))
    started = time.monotonic()
    share = extract._list_page_share(tree, body)
    assert time.monotonic() - started < 20  # the quadratic check: 11+ minutes
    assert share is not None and share > 0.9


def test_200k_link_page_gets_a_logged_outcome_in_bounded_time(fault_server: FaultServer, store: Store,
                                                               tmp_path: Path) -> None:
    urls = [fault_server.url("/links/200000"), fault_server.url(f"/dev/{fault_server.dev_ids[0]}.html")]
    spec = url_source(tmp_path, urls)
    news = news_settings([spec], respect_robots=False, max_bytes=50_000_000).model_copy(update={"extract_workers": 1})
    started = time.monotonic()
    report = ingest(store, news, [spec])
    assert time.monotonic() - started < 30  # 11+ minutes and 1 GB before
    rows = _article_rows(store)
    big = rows[urls[0]]
    assert len(big) == 1 and big[0]["error_kind"] == "no_article" and "more than 30,000 HTML elements" in big[0]["message"]
    assert rows[urls[1]][0]["error_kind"] == "stored" and report.stored == 1  # the run went on


def test_a_page_over_its_time_budget_is_stopped_logged_and_the_run_goes_on(fault_server: FaultServer, store: Store,
                                                                          tmp_path: Path) -> None:
    # under extract.MAX_NODES, but about 0.85 CPU s of extraction on a quiet machine (the paragraph vote refuses it
    # as a list page sooner than trafilatura alone did), against 0.04 s for a real article page: the budget sits
    # between the two
    slow = fault_server.url("/links/8000")
    urls = [slow, *(fault_server.url(f"/dev/{k}.html") for k in fault_server.dev_ids[1:4])]
    spec = url_source(tmp_path, urls)
    news = news_settings([spec], respect_robots=False).model_copy(update={"extract_workers": 1, "page_timeout": 0.4})
    started = time.monotonic()
    report = ingest(store, news, [spec])
    assert time.monotonic() - started < 30
    rows = _article_rows(store)
    assert rows[slow][0]["error_kind"] == "extract_timeout" and not rows[slow][0]["final"]  # tried again next run
    assert "(news.page_timeout)" in rows[slow][0]["message"]
    assert report.stored == 3 and all(rows[u][0]["error_kind"] == "stored" for u in urls[1:])


# -- SIGTERM keeps everything fetched so far ---------------------------------------------------------------
@pytest.mark.parametrize(("signum", "first"), [(signal.SIGTERM, 20), (signal.SIGINT, 50)])
def test_a_signal_mid_run_keeps_everything_fetched(fault_server: FaultServer, tmp_path: Path, signum: int,
                                                    first: int) -> None:
    done = [fault_server.url(f"/dev/{k}.html") for k in fault_server.dev_ids[first:first + 8]]
    urls = [*done, fault_server.url("/hang")]  # one page at a time: /hang is asked for once the others are extracted
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (tmp_path / "flows.yaml").write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "news": {
        "extract_workers": 1, "flush_every": 1000, "flush_seconds": 600,
        "fetch": {"per_host_delay": 0.0, "total_concurrency": 1, "retries": 0, "respect_robots": False,
                  "total_timeout": 120, "deadline": 120}}}))
    env = {**os.environ, "NLPKIT_FLOWS": str(tmp_path / "flows.yaml"), "NLPKIT_NO_PROGRESS": "1"}
    env.pop("NLPKIT_DATA_DIR", None)
    hangs_before = fault_server.count("/hang")
    proc = subprocess.Popen([sys.executable, "-m", "nlpkit.cli", "scrape", "--url-file", str(tmp_path / "urls.txt")],
                            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 90
        while fault_server.count("/hang") == hangs_before:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run did not reach /hang in 90 s"
            time.sleep(0.05)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + signum, err
    assert f"error: stopped by {signal.Signals(signum).name}" in err and "Traceback" not in err
    store = Store(tmp_path / "data")
    rows = _article_rows(store)
    assert set(rows) == set(done)  # every page fetched before the signal has its row; /hang stays unfinished
    assert all(len(r) == 1 for r in rows.values())
    stored = {r["url"] for r in NewsStore(store).articles(["url"]).to_pylist()}
    assert stored == {u for u, r in rows.items() if r[0]["error_kind"] == "stored"} and len(stored) >= 6


def test_results_are_written_every_flush_seconds_while_a_page_is_slow(fault_server: FaultServer, store: Store,
                                                                       tmp_path: Path) -> None:
    import threading

    urls = [fault_server.url(f"/dev/{k}.html") for k in fault_server.dev_ids[28:30]] + [fault_server.url("/hang?t=flush")]
    spec = url_source(tmp_path, urls)
    news = news_settings([spec], respect_robots=False, total_concurrency=1, total_timeout=8.0, retries=0).model_copy(
        update={"flush_every": 1000, "flush_seconds": 0.5})
    run = threading.Thread(target=ingest, args=(store, news, [spec]), daemon=True)
    run.start()
    deadline = time.monotonic() + 60
    while not (set(urls[:2]) <= set(_article_rows(store))):
        assert run.is_alive(), "the run ended before its rows were written"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert run.is_alive()  # written while /hang still holds the run, with 1000 articles to go before a count flush
    run.join(60)
    assert _article_rows(store)[urls[2]][0]["error_kind"] == "timeout"


# -- a full disk leaves pages retryable -------------------------------------------------------------------
def _enospc(*args: object, **kw: object) -> str:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_raw_archive_stops_the_run_and_leaves_pages_retryable(fault_server: FaultServer, store: Store,
                                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nlpkit.news.archive as archive

    urls = [fault_server.url(f"/dev/{k}.html") for k in fault_server.dev_ids[30:36]]
    spec = url_source(tmp_path, urls)
    news = news_settings([spec], respect_robots=False, total_concurrency=1)
    real, calls = archive.archive_raw, []

    def fills_up(raw_dir: Path, body: bytes) -> str:
        calls.append(1)
        return real(raw_dir, body) if len(calls) <= 2 else _enospc()

    monkeypatch.setattr(archive, "archive_raw", fills_up)
    with pytest.raises(DatasetError, match=r"cannot write the raw page .*No space left on device; free space"):
        ingest(store, news, [spec])
    rows = _article_rows(store)
    assert [rows[u][0]["error_kind"] for u in urls[:3]] == ["stored", "stored", "archive_error"]
    assert not rows[urls[2]][0]["final"] and not set(urls[3:]) & set(rows)  # the run stopped at the full disk
    assert NewsStore(store).articles().num_rows == 2

    monkeypatch.setattr(archive, "archive_raw", real)  # space freed
    report = ingest(store, news, [spec])
    assert report.queued == 4 and report.stored == 4  # the failed page and the ones never reached
    assert sorted(r["url"] for r in NewsStore(store).articles(["url"]).to_pylist()) == sorted(urls)


def test_unwritable_tables_exit_non_zero_with_one_line_and_keep_what_was_committed(
        fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from nlpkit.cli import _common, app

    urls = [fault_server.url(f"/dev/{k}.html") for k in fault_server.dev_ids[36:42]]
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (tmp_path / "flows.yaml").write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "news": {
        "extract_workers": 0, "flush_every": 2,
        "fetch": {"per_host_delay": 0.0, "total_concurrency": 1, "retries": 0, "respect_robots": False}}}))
    monkeypatch.setenv("NLPKIT_FLOWS", str(tmp_path / "flows.yaml"))
    monkeypatch.setenv("NLPKIT_NO_PROGRESS", "1")
    monkeypatch.delenv("NLPKIT_DATA_DIR", raising=False)
    _common._state.clear()
    real, appends = Store.append, []

    def fills_up(self: Store, name: str, table):  # type: ignore[no-untyped-def]
        if name in ("articles", "fetch_log"):
            appends.append(name)
            if len(appends) > 2:  # the first flush (2 articles + their rows) fits, then the disk is full
                _enospc()
        return real(self, name, table)

    monkeypatch.setattr(Store, "append", fills_up)
    res = CliRunner().invoke(app, ["news", "scrape", "--url-file", str(tmp_path / "urls.txt")])
    assert res.exit_code == 2, res.output
    assert "error: cannot write the news tables" in res.output and "No space left on device" in res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    store = Store(tmp_path / "data")
    assert NewsStore(store).articles().num_rows == 2
    monkeypatch.setattr(Store, "append", real)
    _common._state.clear()
    res = CliRunner().invoke(app, ["news", "scrape", "--url-file", str(tmp_path / "urls.txt")])
    assert res.exit_code == 0, res.output
    assert sorted(r["url"] for r in NewsStore(store).articles(["url"]).to_pylist()) == sorted(urls)


# -- gzip sitemaps ----------------------------------------------------------------------------------------
def test_gzip_sitemap_index_children_are_read_and_a_gzip_bomb_refused(fault_server: FaultServer, store: Store) -> None:
    spec = SourceSpec(name="gz", kind="sitemap", url=fault_server.url("/sitemap_index.xml"), outlet="t")
    news = news_settings([spec], respect_robots=False, max_bytes=1_000_000)
    report = ingest(store, news, [spec], limit=2)
    discover = {r["url"]: r for r in store.read_appended("fetch_log").to_pylist() if r["stage"] == "discover"}
    for child in ("a", "b", "c"):
        assert discover[fault_server.url(f"/sitemaps/{child}.xml.gz")]["error_kind"] == "ok"
    bomb = discover[fault_server.url("/sitemaps/bomb.xml.gz")]
    assert bomb["error_kind"] == "too_large" and "decompresses past fetch.max_bytes" in bomb["message"]
    queued = set(store.read_appended("news_frontier").column("url").to_pylist())
    expected = {fault_server.url(f"/dev/{k}.html") for k in fault_server.dev_ids[:20]}
    expected |= {fault_server.url(f"/ko/{n}") for n in fault_server.ko_names}
    assert queued == expected  # 20 + 5 URLs from the three .xml.gz children; none from the bomb
    assert report.queued == 2 and report.stored >= 1


@pytest.mark.parametrize(("size", "limit", "ok"), [(100, 100, True), (101, 100, False), (10 << 20, 1 << 20, False)])
def test_gunzip_bounded(size: int, limit: int, ok: bool) -> None:
    data = gzip.compress(b"a" * size)
    assert (gunzip_bounded(data, limit) == b"a" * size) if ok else gunzip_bounded(data, limit) is None
    with pytest.raises(EOFError):
        gunzip_bounded(data[:-12], 1 << 30)


# -- slow drip, duplicates ----------------------------------------------------------------------------------
def test_slow_drip_holds_a_slot_no_longer_than_the_deadline(fault_server: FaultServer) -> None:
    import asyncio

    opts = fast_fetch(respect_robots=False, total_timeout=2.0, deadline=3.0, retries=2, backoff=0.05)

    async def go():  # type: ignore[no-untyped-def]
        async with Fetcher(opts) as f:
            return await f.fetch(fault_server.url("/drip"))

    started = time.monotonic()
    res = asyncio.run(go())
    took = time.monotonic() - started
    # the mechanism: the deadline (not the third 2 s attempt) ended it; the time bound is only a coarse
    # guard below the 6 s that 3 attempts x 2 s take without the deadline (loose: CI may be loaded)
    assert res.error_kind == "timeout" and "fetch.deadline" in res.message
    assert took < 6.0


def test_every_input_url_has_exactly_one_logged_outcome(fault_server: FaultServer, store: Store, tmp_path: Path) -> None:
    fs = fault_server
    urls = [fs.url(f"/dev/{k}.html") for k in fs.dev_ids[42:60]] + [fs.url(f"/ko/{n}") for n in fs.ko_names]
    urls += [fs.url(f"/dev/{k}.html") + f"?utm_source=feed{i}&utm_medium=rss" for i, k in enumerate(fs.dev_ids[42:45])]
    urls += [fs.url(f"/dev/{fs.dev_ids[46]}.html?fbclid=abc"), fs.url("/drip"), fs.url("/nothing-here")]
    spec = url_source(tmp_path, urls)
    news = news_settings([spec], respect_robots=False, total_timeout=1.0, deadline=1.5)
    report = ingest(store, news, [spec])
    rows = _article_rows(store)
    assert sorted(rows) == sorted(urls) and all(len(r) == 1 for r in rows.values()), f"{len(rows)} of {len(urls)} logged"
    dups = [u for u, r in rows.items() if r[0]["error_kind"] == "duplicate_url"]
    assert len(dups) == 4 and all("same page as" in rows[u][0]["message"] for u in dups)
    assert report.duplicates >= 4
