"""Local servers (127.0.0.1 only, bounded) and fast fetch options for the news tests."""

from __future__ import annotations

import gzip
import json
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer



@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.no_handler_status_code = 404
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    server.no_handler_status_code = 404
    yield server
    server.clear()


@pytest.fixture(scope="session")
def naver_html(shared_data: Path) -> Path:
    return shared_data / "korean_news_html"


@pytest.fixture(scope="session")
def dev_pages(shared_data: Path) -> dict[str, tuple[str, str, str]]:
    """id -> (html, truth, url) of the 60 real English pages."""
    d = shared_data / "article_extraction_dev"
    truth = json.loads((d / "ground-truth.json").read_text("utf-8"))
    return {k: (gzip.decompress((d / "html" / f"{k}.html.gz").read_bytes()).decode("utf-8"), v["articleBody"], v["url"])
            for k, v in truth.items()}


class _RawHandler(socketserver.BaseRequestHandler):
    """Misbehaving HTTP: /reset answers with a TCP RST, /truncated sends less than its Content-Length."""

    def handle(self) -> None:
        self.request.settimeout(2)
        try:
            data = self.request.recv(4096)
        except OSError:
            return
        path = data.split(b" ", 2)[1] if data.count(b" ") >= 2 else b"/"
        if path == b"/robots.txt":
            self.request.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        elif path.startswith(b"/reset"):
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif path.startswith(b"/truncated"):
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
                                 b"<html><body><p>only the start of the page")
        self.request.close()


@pytest.fixture(scope="module")
def raw_server() -> Iterator[str]:
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _RawHandler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


class FaultServer:
    """A 127.0.0.1 server of hostile and real pages for the news tests (see :func:`fault_server`).

    Paths: ``/dev/<id>.html`` (the 60 real English pages, UTF-8), ``/ko/<file>`` (the real Korean
    pages, no charset in the header), ``/links/<n>`` (a list page with n links), ``/drip`` (one byte
    every 0.5 s, 60 s at most), ``/hang`` (nothing for 60 s), ``/sitemap_index.xml`` with four
    ``.xml.gz`` children served as application/x-gzip, application/xml, application/octet-stream
    and a gzip bomb; ``?utm_source=...`` variants of every page answer the same. ``requests``
    lists the paths asked for, in order.
    """

    def __init__(self, srv: HTTPServer, dev: dict[str, bytes], ko: dict[str, bytes]) -> None:
        self.srv = srv
        self.dev_ids = sorted(dev)
        self.ko_names = sorted(ko)
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self.bomb_bytes = 20 << 20

    def url(self, path: str) -> str:
        return self.srv.url_for(path)

    def count(self, path: str) -> int:
        with self._lock:
            return self.requests.count(path)

    def record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)


def _urlset(urls: list[str]) -> bytes:
    locs = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'.encode()


@pytest.fixture(scope="session")
def fault_server(shared_data: Path) -> Iterator[FaultServer]:
    from werkzeug import Request, Response

    from nlpkit.news.testing import load_korean_articles, many_links_page

    d = shared_data / "article_extraction_dev" / "html"
    dev = {p.name.removesuffix(".html.gz"): gzip.decompress(p.read_bytes()) for p in sorted(d.glob("*.html.gz"))}
    ko = {p.name: p.read_bytes() for p in sorted((shared_data / "korean_news_html").glob("*.html"))}
    heads = load_korean_articles(shared_data, 40)
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.no_handler_status_code = 404
    srv.start()  # before any URL is built: url_for needs the port
    fs = FaultServer(srv, dev, ko)

    def serve(body: bytes, ctype: str):  # type: ignore[no-untyped-def]
        def handler(request: Request) -> Response:
            fs.record(request.path)
            return Response(body, content_type=ctype)
        return handler

    for k, body in dev.items():
        srv.expect_request(f"/dev/{k}.html").respond_with_handler(serve(body, "text/html; charset=utf-8"))
    for name, body in ko.items():
        srv.expect_request(f"/ko/{name}").respond_with_handler(serve(body, "text/html"))
    for n in (2_000, 8_000, 16_000, 200_000):
        srv.expect_request(f"/links/{n}").respond_with_handler(serve(many_links_page(n, heads), "text/html; charset=utf-8"))

    def drip(request: Request) -> Response:
        fs.record(request.path)

        def gen():  # type: ignore[no-untyped-def]
            for _ in range(120):
                yield b"<"
                time.sleep(0.5)
        return Response(gen(), content_type="text/html")

    def hang(request: Request) -> Response:
        fs.record(request.path)
        time.sleep(60)
        return Response("late", content_type="text/html")

    srv.expect_request("/drip").respond_with_handler(drip)
    srv.expect_request("/hang").respond_with_handler(hang)
    ids = fs.dev_ids
    children = {
        "/sitemaps/a.xml.gz": (gzip.compress(_urlset([fs.url(f"/dev/{k}.html") for k in ids[:10]])), "application/x-gzip"),
        "/sitemaps/b.xml.gz": (gzip.compress(_urlset([fs.url(f"/dev/{k}.html") for k in ids[10:20]])), "application/xml"),
        "/sitemaps/c.xml.gz": (gzip.compress(_urlset([fs.url(f"/ko/{n}") for n in fs.ko_names])), "application/octet-stream"),
        "/sitemaps/bomb.xml.gz": (gzip.compress(_urlset([fs.url("/dev/bomb.html")]) + b" " * fs.bomb_bytes, compresslevel=9),
                                  "application/x-gzip"),
    }
    for path, (body, ctype) in children.items():
        srv.expect_request(path).respond_with_handler(serve(body, ctype))
    index = "".join(f"<sitemap><loc>{fs.url(p)}</loc></sitemap>" for p in children)
    srv.expect_request("/sitemap_index.xml").respond_with_handler(serve(
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{index}</sitemapindex>'.encode(),
        "application/xml"))
    yield fs
    srv.clear()
    srv.stop()
