"""What a fetch produces: the outcome vocabulary (:data:`ERROR_KINDS`), :class:`FetchResult`,
and the pure checks a response body goes through (gzip-bomb bound, binary sniffing, Retry-After).

Kept apart from :mod:`nlpkit.news.fetch` (the HTTP client: robots, per-host gates, retries)
because none of this needs a network library; ``nlpkit.news.fetch`` re-exports the public names.
"""

from __future__ import annotations

import email.utils
import gzip
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["ERROR_KINDS", "ErrorKind", "FetchResult", "GZIP_MAGIC", "GZIP_TYPES", "RETRYABLE", "ROBOTS_MAX_BYTES",
           "gunzip_bounded", "is_binary", "read_local_page", "retry_after_seconds"]

ErrorKind = Literal[
    "ok", "not_modified", "http_error", "rate_limited", "timeout", "connect_error", "connection_reset",
    "truncated", "too_large", "bad_content_type", "binary_content", "empty_page", "redirect_loop",
    "too_many_redirects", "robots_disallowed", "robots_unavailable", "bad_url", "network_error",
]
#: Every fetch outcome, with what it means (also the values of ``fetch_log.error_kind`` for fetches).
ERROR_KINDS: dict[str, str] = {
    "ok": "fetched",
    "not_modified": "304: unchanged since the ETag/Last-Modified sent",
    "http_error": "4xx/5xx status (5xx after retries)",
    "rate_limited": "429 after retries, or a Retry-After longer than fetch.max_retry_after",
    "timeout": "connect/read timeout, or no complete response within fetch.total_timeout / fetch.deadline (slow drip)",
    "connect_error": "connection refused, DNS failure or host unreachable",
    "connection_reset": "the server reset or closed the connection",
    "truncated": "the body ended before its Content-Length",
    "too_large": "body (or a gzip sitemap once decompressed) larger than fetch.max_bytes",
    "bad_content_type": "Content-Type not in fetch.content_types",
    "binary_content": "body is binary (NUL bytes or an image/PDF/archive signature), or a broken gzip sitemap",
    "empty_page": "200 with an empty body",
    "redirect_loop": "a redirect came back to a URL already visited",
    "too_many_redirects": "more than fetch.max_redirects redirects",
    "robots_disallowed": "robots.txt disallows this URL for our User-Agent",
    "robots_unavailable": "the host's robots.txt could not be read (5xx, network failure, redirect loop): "
                          "its pages are not fetched this run and are retried in later runs",
    "bad_url": "not a fetchable http(s) URL (another scheme, no host, a port past 65535, a broken IPv6 address)",
    "network_error": "other transport error",
}
#: Outcomes worth another attempt.
RETRYABLE = {"timeout", "connect_error", "connection_reset", "truncated"}
#: Content types a gzipped sitemap (``sitemap.xml.gz``) is served with; accepted only where gzip is asked for.
GZIP_TYPES = frozenset({"application/x-gzip", "application/gzip", "application/octet-stream"})
GZIP_MAGIC = b"\x1f\x8b"
#: How much of a robots.txt is read and parsed; the rest is ignored (RFC 9309 section 2.5: at least 500 KiB).
ROBOTS_MAX_BYTES = 500 * 1024
_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF", b"BZh", b"RIFF")


@dataclass(slots=True)
class FetchResult:
    """What one URL fetch produced (body is empty unless ``error_kind == 'ok'``)."""

    url: str
    final_url: str
    error_kind: str
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    message: str = ""
    elapsed: float = 0.0
    attempts: int = 0
    retry_after: float | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.error_kind == "ok"


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def gunzip_bounded(data: bytes, max_bytes: int) -> bytes | None:
    """The decompressed bytes of gzip ``data``, or None when they would exceed ``max_bytes`` (a gzip bomb).

    Decompresses at most ``max_bytes + 1`` bytes, so memory stays bounded whatever the ratio.
    Raises ``zlib.error`` or ``EOFError`` for a broken or truncated file.

    >>> import gzip
    >>> gunzip_bounded(gzip.compress(b"<urlset/>"), 100)
    b'<urlset/>'
    >>> gunzip_bounded(gzip.compress(b"0" * 1000), 100) is None
    True
    """
    out = bytearray()
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # one gzip member; concatenated members loop
        out += d.decompress(data, max_bytes + 1 - len(out))
        if len(out) > max_bytes or d.unconsumed_tail:
            return None
        if not d.eof:
            raise EOFError("gzip data ends before its end-of-stream marker (truncated)")
        data = d.unused_data
    return bytes(out)


def is_binary(body: bytes) -> bool:
    """Whether ``body`` starts like an image/PDF/archive/executable or holds a NUL byte in its first 2 KiB."""
    head = body[:2048]
    return head.startswith(_BINARY_MAGIC) or b"\x00" in head


def read_local_page(path: Path, url: str, max_bytes: int) -> FetchResult:
    """A saved page (``news scrape --dir``) read like a fetched one: at most ``max_bytes`` (``fetch.max_bytes``).

    A ``.gz`` file is decompressed as a stream and refused as ``too_large`` once it passes the cap,
    so a 0.5 MB file that expands to 512 MiB costs ``max_bytes`` of memory, not 512 MiB.
    """
    started = time.monotonic()
    try:
        with (gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")) as f:
            body = f.read(max_bytes + 1)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        return FetchResult(url, url, "binary_content", elapsed=time.monotonic() - started,
                           message=f"{path}: broken gzip file ({e or type(e).__name__})")
    except OSError as e:
        return FetchResult(url, url, "bad_url", elapsed=time.monotonic() - started,
                           message=f"cannot read {path}: {e.strerror or e}")
    if len(body) > max_bytes:
        what = "decompresses past" if path.name.lower().endswith(".gz") else "is larger than"
        return FetchResult(url, url, "too_large", elapsed=time.monotonic() - started,
                           message=f"{path} {what} fetch.max_bytes {max_bytes:,}")
    return FetchResult(url, url, "ok", body=body, elapsed=time.monotonic() - started)
