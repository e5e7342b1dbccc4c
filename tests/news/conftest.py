"""Local servers (127.0.0.1 only, bounded) and fast fetch options for the news tests."""

from __future__ import annotations

import gzip
import json
import socket
import socketserver
import struct
import threading
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
