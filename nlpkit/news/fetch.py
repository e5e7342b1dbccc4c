"""Polite asynchronous HTTP fetching (httpx): robots.txt, per-host limits, retries, safety caps.

Every outcome is a :class:`FetchResult` with an ``error_kind`` from :data:`ERROR_KINDS`;
nothing raises for a bad page, so a run records the failure and goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from nlpkit.errors import MissingDependencyError
from nlpkit.news.fetch_result import (
    ERROR_KINDS,
    GZIP_MAGIC,
    GZIP_TYPES,
    RETRYABLE,
    ROBOTS_MAX_BYTES,
    ErrorKind,
    FetchResult,
    gunzip_bounded,
    is_binary,
    retry_after_seconds,
)
from nlpkit.news.metadata import url_problem
from nlpkit.news.sources import FetchOptions

try:
    import httpx
except ImportError:  # pragma: no cover - depends on the installed extras
    raise MissingDependencyError("news fetching requires httpx: pip install 'nlpkit[news]'") from None

__all__ = ["ERROR_KINDS", "FetchResult", "Fetcher", "ErrorKind", "gunzip_bounded"]

log = logging.getLogger(__name__)


class _Host:
    """Per-host gate: at most N requests in flight and a minimum gap between their starts."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self.sem = asyncio.Semaphore(concurrency)
        self.delay = delay
        self.lock = asyncio.Lock()
        self.next_start = 0.0
        self.robots: RobotFileParser | FetchResult | str | None = None  # None = not read yet; "allow"; failure
        self.robots_lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        if self.delay <= 0:
            return
        async with self.lock:
            now = time.monotonic()
            if self.next_start > now:
                await asyncio.sleep(self.next_start - now)
            self.next_start = max(now, self.next_start) + self.delay



def _join(base: str, location: str) -> str:
    """``location`` resolved against ``base``; as written when it does not parse (then logged as bad_url)."""
    try:
        return urljoin(base, location)
    except ValueError:
        return location


class Fetcher:
    """An async HTTP client that is polite by default; use as ``async with Fetcher(opts) as f``.

    >>> async def main():                                                  # doctest: +SKIP
    ...     async with Fetcher(FetchOptions()) as f:
    ...         return await f.fetch("https://www.yna.co.kr/rss/news.xml")
    """

    def __init__(self, options: FetchOptions, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.options = options
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._hosts: dict[str, _Host] = {}
        self._global: asyncio.Semaphore | None = None

    async def __aenter__(self) -> Fetcher:
        o = self.options
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(connect=o.connect_timeout, read=o.read_timeout, write=o.read_timeout, pool=None),
            limits=httpx.Limits(max_connections=o.total_concurrency, max_keepalive_connections=o.total_concurrency),
            headers={"User-Agent": o.user_agent, "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5"},
            transport=self._transport,
            trust_env=False,
        )
        self._global = asyncio.Semaphore(o.total_concurrency)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _host(self, url: str) -> _Host:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}".lower()
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(self.options.per_host_concurrency, self.options.per_host_delay)
        return host

    # -- robots.txt --------------------------------------------------------------------------
    async def _allowed(self, url: str) -> tuple[bool, FetchResult | None]:
        """(allowed, failure): failure is set when robots.txt itself could not be read.

        robots.txt is fetched once per host and run (redirects followed, up to 5); a 4xx means
        no restrictions (RFC 9309); only its first :data:`ROBOTS_MAX_BYTES` are read (a 30 MB file
        is cut there, as the RFC allows). A 5xx, a network failure or a redirect loop blocks the host
        for this run with ``robots_unavailable``, which is not final: the pages are tried again next run.
        """
        if not self.options.respect_robots:
            return True, None
        host = self._host(url)
        async with host.robots_lock:
            if host.robots is None:
                await self._load_robots(host, url)
        if isinstance(host.robots, FetchResult):
            failure = host.robots
            return False, FetchResult(url, url, "robots_unavailable", status=failure.status, message=failure.message)
        if host.robots == "allow":
            return True, None
        assert isinstance(host.robots, RobotFileParser)
        return host.robots.can_fetch(self.options.user_agent, url), None

    async def _load_robots(self, host: _Host, url: str) -> None:
        parts = urlsplit(url)
        robots_url = current = f"{parts.scheme}://{parts.netloc}/robots.txt"
        for _ in range(6):
            res = await self._get(current, {}, check_types=False, truncate_at=ROBOTS_MAX_BYTES)
            if res.error_kind != "redirect":
                break
            current = _join(current, res.message)
            if (why := url_problem(current)) is not None:
                res = FetchResult(robots_url, current, "bad_url", message=f"robots.txt redirects to {current!r}: {why}")
                break
        if res.ok or res.error_kind in ("empty_page", "bad_content_type", "binary_content"):
            rp = RobotFileParser()
            body = res.body if res.ok else b""
            if len(body) >= ROBOTS_MAX_BYTES:  # cut: drop the partial last line rather than misread it
                body = body[: body.rfind(b"\n") + 1]
            rp.parse(body.decode("utf-8", "replace").splitlines())
            host.robots = rp
            delay = rp.crawl_delay(self.options.user_agent)
            if delay:
                host.delay = max(host.delay, min(float(delay), 30.0))
        elif res.error_kind == "http_error" and res.status is not None and 400 <= res.status < 500:
            host.robots = "allow"
        else:
            res.message = f"{robots_url} unreachable ({res.error_kind}): {res.message}"
            host.robots = res

    # -- fetching ------------------------------------------------------------------------------
    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    gzip_ok: bool = False) -> FetchResult:
        """GET ``url`` following redirects by hand, honouring robots.txt, with retries, within ``fetch.deadline``.

        ``gzip_ok`` accepts a gzip file (a ``sitemap.xml.gz``) and returns it decompressed, refused
        as ``too_large`` when the decompressed size passes ``fetch.max_bytes``.
        """
        started = time.monotonic()
        until = started + self.options.deadline
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen = [url]
        current = url
        attempts = 0
        while True:
            if (why := url_problem(current)) is not None:
                return FetchResult(url, current, "bad_url", message=f"{current!r} is not a fetchable URL: {why}",
                                   elapsed=time.monotonic() - started)
            allowed, failure = await self._allowed(current)
            if failure is not None:
                failure.elapsed = time.monotonic() - started
                failure.url = url
                return failure
            if not allowed:
                return FetchResult(url, current, "robots_disallowed", message=f"robots.txt disallows {current}",
                                   elapsed=time.monotonic() - started)
            res = await self._get_with_retries(current, headers, until, gzip_ok)
            attempts += res.attempts
            location = res.message if res.error_kind == "redirect" else None
            if location is None:
                res.url, res.attempts, res.elapsed = url, attempts, time.monotonic() - started
                return res
            nxt = _join(current, location)
            if nxt in seen:
                return FetchResult(url, nxt, "redirect_loop", status=res.status, attempts=attempts,
                                   message=f"redirect loop: {' -> '.join([*seen, nxt])}", elapsed=time.monotonic() - started)
            if len(seen) > self.options.max_redirects:
                return FetchResult(url, nxt, "too_many_redirects", status=res.status, attempts=attempts,
                                   message=f"more than {self.options.max_redirects} redirects (fetch.max_redirects)",
                                   elapsed=time.monotonic() - started)
            seen.append(nxt)
            current = nxt

    async def _get_with_retries(self, url: str, headers: Mapping[str, str], until: float,
                                gzip_ok: bool = False) -> FetchResult:
        o = self.options
        res = FetchResult(url, url, "network_error")
        for attempt in range(o.retries + 1):
            if time.monotonic() >= until:
                if attempt == 0:  # the deadline went by on redirects before this URL was asked for
                    res = FetchResult(url, url, "timeout", message=f"no answer within {o.deadline:g}s (fetch.deadline)")
                break
            res = await self._get(url, headers, until=until, gzip_ok=gzip_ok)
            res.attempts = attempt + 1
            retryable = res.error_kind in RETRYABLE or res.error_kind == "rate_limited" or (
                res.error_kind == "http_error" and res.status is not None and res.status >= 500)
            if not retryable or attempt == o.retries:
                break
            wait = o.backoff * (2 ** attempt)
            if res.retry_after is not None:
                if res.retry_after > o.max_retry_after:
                    res.message += f"; Retry-After {res.retry_after:.0f}s exceeds fetch.max_retry_after ({o.max_retry_after:.0f}s)"
                    break
                wait = max(wait, res.retry_after)
            if time.monotonic() + wait >= until:  # a retry could not finish within the deadline
                res.message += f"; not retried: fetch.deadline ({o.deadline:g}s) reached"
                break
            log.debug("retrying %s in %.2fs after %s", url, wait, res.error_kind)
            await asyncio.sleep(wait)
        if res.attempts > 1 and res.error_kind not in ("ok", "redirect", "not_modified"):
            res.message = f"{res.message} (after {res.attempts} attempts)"
        return res

    async def _get(self, url: str, headers: Mapping[str, str], *, check_types: bool = True,
                   until: float | None = None, gzip_ok: bool = False, truncate_at: int | None = None) -> FetchResult:
        """One GET without redirects; redirects come back as error_kind 'redirect' with the Location.

        The response must be complete within ``fetch.total_timeout`` and before ``until`` (the URL's deadline).
        ``truncate_at`` keeps the first that many bytes of a longer body instead of refusing it (robots.txt).
        """
        assert self._client is not None and self._global is not None, "use `async with Fetcher(...)`"
        host = self._host(url)
        o = self.options
        t0 = time.monotonic()
        async with host.sem, self._global:  # host first: a busy host must not hold global slots
            await host.wait_turn()
            limit, which = o.total_timeout, "fetch.total_timeout"
            if until is not None and until - time.monotonic() < limit:
                limit, which = max(0.0, until - time.monotonic()), f"fetch.deadline, {o.deadline:g}s for the URL in all"
            try:
                async with asyncio.timeout(limit):
                    return await self._read(url, headers, check_types, t0, gzip_ok, truncate_at)
            except TimeoutError:
                return FetchResult(url, url, "timeout", elapsed=time.monotonic() - t0,
                                   message=f"no complete response within {limit:.3g}s ({which})")
            except httpx.TimeoutException as e:
                limits = f"fetch.connect_timeout={o.connect_timeout:g}s, fetch.read_timeout={o.read_timeout:g}s"
                return FetchResult(url, url, "timeout", elapsed=time.monotonic() - t0,
                                   message=f"{type(e).__name__}: {str(e) or 'no response in time'} ({limits})")
            except httpx.ConnectError as e:
                return FetchResult(url, url, "connect_error", elapsed=time.monotonic() - t0, message=f"{type(e).__name__}: {e}")
            except httpx.RemoteProtocolError as e:
                text = str(e).lower()
                kind = "truncated" if "complete message body" in text or "incomplete" in text else "connection_reset"
                return FetchResult(url, url, kind, elapsed=time.monotonic() - t0, message=f"{type(e).__name__}: {e}")
            except (httpx.ReadError, httpx.WriteError) as e:
                return FetchResult(url, url, "connection_reset", elapsed=time.monotonic() - t0,
                                   message=f"{type(e).__name__}: {str(e) or 'connection reset by peer'}")
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
                return FetchResult(url, url, "bad_url", elapsed=time.monotonic() - t0, message=str(e))
            except httpx.HTTPError as e:
                return FetchResult(url, url, "network_error", elapsed=time.monotonic() - t0, message=f"{type(e).__name__}: {e}")

    async def _read(self, url: str, headers: Mapping[str, str], check_types: bool, t0: float,
                    gzip_ok: bool = False, truncate_at: int | None = None) -> FetchResult:
        o = self.options
        assert self._client is not None
        async with self._client.stream("GET", url, headers=dict(headers)) as r:
            ctype = r.headers.get("content-type")
            res = FetchResult(url, str(r.url), "ok", status=r.status_code, content_type=ctype,
                              etag=r.headers.get("etag"), last_modified=r.headers.get("last-modified"))
            if r.is_redirect and r.headers.get("location"):
                res.error_kind, res.message = "redirect", r.headers["location"]
                return res
            if r.status_code == 304:
                res.error_kind, res.message = "not_modified", "unchanged (304)"
                return res
            if r.status_code >= 400 or r.status_code < 200:
                res.error_kind = "rate_limited" if r.status_code == 429 else "http_error"
                res.retry_after = retry_after_seconds(r.headers.get("retry-after"))
                res.message = f"HTTP {r.status_code} {r.reason_phrase}"
                return res
            mime = (ctype or "").split(";")[0].strip().lower()
            if check_types and mime and mime not in o.content_types and not (gzip_ok and mime in GZIP_TYPES):
                res.error_kind = "bad_content_type"
                res.message = f"Content-Type {mime!r} not accepted (fetch.content_types: {', '.join(o.content_types)})"
                return res
            declared = r.headers.get("content-length")
            if truncate_at is None and declared and declared.isdigit() and int(declared) > o.max_bytes:
                res.error_kind = "too_large"
                res.message = f"Content-Length {int(declared):,} > fetch.max_bytes {o.max_bytes:,}"
                return res
            chunks: list[bytes] = []
            size = 0
            async for chunk in r.aiter_bytes():
                size += len(chunk)
                if truncate_at is not None and size >= truncate_at:
                    chunks.append(chunk[: len(chunk) - (size - truncate_at)])
                    break
                if size > o.max_bytes:
                    res.error_kind = "too_large"
                    res.message = f"body exceeded fetch.max_bytes {o.max_bytes:,} while reading"
                    return res
                chunks.append(chunk)
            body = b"".join(chunks)
        res.elapsed = time.monotonic() - t0
        if gzip_ok and body.startswith(GZIP_MAGIC):
            try:
                plain = gunzip_bounded(body, o.max_bytes)
            except (zlib.error, EOFError) as e:
                res.error_kind, res.message = "binary_content", f"broken gzip file ({len(body):,} bytes): {e}"
                return res
            if plain is None:
                res.error_kind = "too_large"
                res.message = f"gzip body ({len(body):,} bytes) decompresses past fetch.max_bytes {o.max_bytes:,}"
                return res
            body = plain
        if not body.strip():
            res.error_kind, res.message = "empty_page", f"HTTP {res.status} with an empty body"
        elif check_types and is_binary(body):
            res.error_kind = "binary_content"
            res.message = f"binary body ({len(body):,} bytes) served as {mime or 'no Content-Type'}"
        else:
            res.body = body
        return res
