"""Every fault the issue lists becomes a fetch_log row with a clear error kind, and the run goes on."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from werkzeug import Request, Response

from nlpkit.news.ingest import ingest
from nlpkit.news.newsstore import NewsStore
from nlpkit.news.testing import load_korean_articles, synthetic_page
from nlpkit.store import Catalog, Store
from tests.news.helpers import news_settings, url_source

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def korean(shared_data: Path):  # type: ignore[no-untyped-def]
    return load_korean_articles(shared_data, 8)


def test_every_fault_is_logged_and_the_run_goes_on(http, raw_server, store: Store, tmp_path: Path, korean, dev_pages) -> None:  # type: ignore[no-untyped-def]
    page = lambda i, layout="generic": synthetic_page(korean[i], layout, http.url_for(f"/p{i}"))  # noqa: E731
    http.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private\n", content_type="text/plain")
    http.expect_request("/ok").respond_with_data(page(0), content_type="text/html; charset=utf-8")
    http.expect_request("/404").respond_with_data("gone", status=404)
    http.expect_request("/500").respond_with_data("boom", status=500)
    http.expect_request("/429").respond_with_data("slow down", status=429, headers={"Retry-After": "1"})
    http.expect_request("/429-long").respond_with_data("later", status=429, headers={"Retry-After": "3600"})
    calls: dict[str, int] = {}

    def once_then_ok(status: int, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
        def handler(request: Request) -> Response:
            calls[request.path] = calls.get(request.path, 0) + 1
            if calls[request.path] == 1:
                return Response("try again", status=status, headers=headers)
            return Response(body, content_type="text/html; charset=utf-8")
        return handler

    http.expect_request("/flaky").respond_with_handler(once_then_ok(503, page(1), {}))
    http.expect_request("/429-once").respond_with_handler(once_then_ok(429, page(2), {"Retry-After": "1"}))

    def stall(request: Request) -> Response:
        time.sleep(2.5)  # longer than read_timeout=1.5
        return Response("late", content_type="text/html")

    def drip(request: Request) -> Response:
        def gen():  # type: ignore[no-untyped-def]
            for _ in range(24):  # 6 s in all, one small chunk every 0.25 s: never silent for a read timeout
                yield b"<p>drip</p>"
                time.sleep(0.25)
        return Response(gen(), content_type="text/html")

    def stream50(request: Request) -> Response:
        def gen():  # type: ignore[no-untyped-def]
            chunk = b"<p>" + b"x" * (1 << 20) + b"</p>"
            for _ in range(50):
                yield chunk
        return Response(gen(), content_type="text/html")

    http.expect_request("/timeout").respond_with_handler(stall)
    http.expect_request("/drip").respond_with_handler(drip)
    http.expect_request("/huge").respond_with_data(b"<html>" + b"a" * (50 << 20), content_type="text/html")
    http.expect_request("/huge-stream").respond_with_handler(stream50)
    http.expect_request("/binary").respond_with_data(PNG, content_type="text/html")
    http.expect_request("/pdf").respond_with_data(b"%PDF-1.4 ...", content_type="application/pdf")
    http.expect_request("/loop1").respond_with_data("", status=302, headers={"Location": "/loop2"})
    http.expect_request("/loop2").respond_with_data("", status=302, headers={"Location": "/loop1"})
    for i in range(8):
        http.expect_request(f"/chain{i}").respond_with_data("", status=302, headers={"Location": f"/chain{i + 1}"})
    http.expect_request("/moved").respond_with_data("", status=301, headers={"Location": "/p3"})
    http.expect_request("/p3").respond_with_data(page(3), content_type="text/html; charset=utf-8")
    http.expect_request("/to-ftp").respond_with_data("", status=302, headers={"Location": "ftp://127.0.0.1/x"})
    http.expect_request("/private/secret").respond_with_data(page(4), content_type="text/html")
    real, truth, _ = max(dev_pages.values(), key=lambda v: len(v[1]))  # longest article: cut mid-way, text remains
    probe = next(p[:40] for p in truth.split("\n") if len(p) > 200 and p[:40] in real)
    cut = real.index(probe) + 3000  # ends inside the article body, mid-markup
    http.expect_request("/malformed").respond_with_data(real[:cut] + "<div class=", content_type="text/html")
    http.expect_request("/empty").respond_with_data(b"", content_type="text/html")
    http.expect_request("/noarticle").respond_with_data(
        "<html><body><ul>" + "".join(f"<li><a href='/x{i}'>{a.title}</a> {a.paragraphs[-1][:60]}</li>" for i, a in enumerate(korean)) + "</ul></body></html>",
        content_type="text/html")
    http.expect_request("/wrong-charset").respond_with_data(page(5), content_type="text/html; charset=euc-kr")
    euckr = synthetic_page(korean[6], "generic_euckr", http.url_for("/p6")).replace(b"; charset=euc-kr", b"")
    http.expect_request("/no-charset").respond_with_data(euckr, content_type="text/html")

    expected = {
        "/ok": "stored", "/404": "http_error", "/500": "http_error", "/429": "rate_limited", "/429-long": "rate_limited",
        "/flaky": "stored", "/429-once": "stored", "/timeout": "timeout", "/drip": "timeout", "/huge": "too_large",
        "/huge-stream": "too_large", "/binary": "binary_content", "/pdf": "bad_content_type", "/loop1": "redirect_loop",
        "/chain0": "too_many_redirects", "/moved": "stored", "/to-ftp": "bad_url", "/private/secret": "robots_disallowed",
        "/malformed": "stored", "/empty": "empty_page", "/noarticle": "no_article", "/wrong-charset": "stored",
        "/no-charset": "stored",
    }
    urls = {http.url_for(p): kind for p, kind in expected.items()}
    urls[f"{raw_server}/reset"] = "connection_reset"
    urls[f"{raw_server}/truncated"] = "truncated"
    # its robots.txt cannot be read either: not final, the page is tried again next run
    urls[f"http://127.0.0.1:{_closed_port()}/refused"] = "robots_unavailable"
    urls["ftp://127.0.0.1/file.html"] = "bad_url"
    urls["file:///etc/hostname"] = "bad_url"  # a URL file never reads local files
    spec = url_source(tmp_path, list(urls))
    started = time.monotonic()
    report = ingest(store, news_settings([spec], max_redirects=5), [spec])
    assert time.monotonic() - started < 30

    log = {r["url"]: r for r in NewsStore(store).store.read_appended("fetch_log").to_pylist() if r["stage"] == "article"}
    got = {u: log[u]["error_kind"] for u in urls}
    assert got == urls
    for u, row in log.items():
        assert row["message"], f"{u} has no message"
        assert row["time"] is not None and row["elapsed"] is not None
    assert log[http.url_for("/429-long")]["message"].endswith("Retry-After 3600s exceeds fetch.max_retry_after (5s)")
    assert "fetch.total_timeout" in log[http.url_for("/drip")]["message"]
    assert log[http.url_for("/404")]["status"] == 404 and log[http.url_for("/404")]["final"]
    assert not log[http.url_for("/500")]["final"]  # a 5xx is tried again next run
    assert calls == {"/flaky": 2, "/429-once": 2}
    assert report.stored == sum(k == "stored" for k in urls.values())

    arts = {r["url"]: r for r in NewsStore(store).articles().to_pylist()}
    assert korean[5].title == arts[http.url_for("/wrong-charset")]["title"]
    assert korean[6].paragraphs[-1][:40] in arts[http.url_for("/no-charset")]["body"]
    assert arts[http.url_for("/no-charset")]["encoding"] == "cp949"
    assert arts[http.url_for("/moved")]["canonical_url"] == http.url_for("/p3")
    # the run's tables are visible to analysts' SQL
    _, rows = Catalog(store).query("SELECT error_kind, count(*) FROM fetch_log GROUP BY 1")
    assert dict(rows)["stored"] == report.stored
