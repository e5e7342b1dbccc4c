"""Fetcher politeness and robots.txt handling, with an in-process httpx transport."""

from __future__ import annotations

import asyncio
import time

import httpx

from nlpkit.news.fetch import ERROR_KINDS, Fetcher
from tests.news.helpers import fast_fetch

PAGE = b"<html><body><p>" + "뉴스 본문 ".encode() * 50 + b"</p></body></html>"


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_per_host_delay_and_concurrency_are_honoured() -> None:
    inflight, peak, starts = 0, 0, []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal inflight, peak
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        inflight += 1
        peak = max(peak, inflight)
        starts.append(time.monotonic())
        await asyncio.sleep(0.02)
        inflight -= 1
        return httpx.Response(200, content=PAGE, headers={"Content-Type": "text/html"})

    async def main() -> list[str]:
        opts = fast_fetch(per_host_delay=0.15, per_host_concurrency=1)
        async with Fetcher(opts, transport=httpx.MockTransport(handler)) as f:
            results = await asyncio.gather(*(f.fetch(f"http://a.test/{i}") for i in range(4)))
        return [r.error_kind for r in results]

    assert _run(main()) == ["ok"] * 4
    assert peak == 1
    assert starts[-1] - starts[0] >= 3 * 0.15 - 0.1, starts  # 4 starts, 0.15 s apart (some scheduling jitter allowed)


def test_robots_is_read_once_follows_a_redirect_and_sets_crawl_delay() -> None:
    hits: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        hits[request.url.path] = hits.get(request.url.path, 0) + 1
        if request.url.path == "/robots.txt":
            return httpx.Response(301, headers={"Location": "/meta/robots.txt"})
        if request.url.path == "/meta/robots.txt":
            return httpx.Response(200, text="User-agent: *\nDisallow: /private/\nCrawl-delay: 0.1\n")
        return httpx.Response(200, content=PAGE, headers={"Content-Type": "text/html; charset=utf-8"})

    async def main() -> list[tuple[str, str]]:
        async with Fetcher(fast_fetch(), transport=httpx.MockTransport(handler)) as f:
            urls = ["http://b.test/a", "http://b.test/private/x", "http://b.test/b"]
            return [(r.error_kind, r.message) for r in await asyncio.gather(*(f.fetch(u) for u in urls))]

    out = _run(main())
    assert [k for k, _ in out] == ["ok", "robots_disallowed", "ok"]
    assert hits["/robots.txt"] == 1 and hits["/meta/robots.txt"] == 1
    assert "/private/" not in str(hits)


def test_robots_5xx_blocks_the_host_for_the_run_with_a_clear_message() -> None:
    hits: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        hits[request.url.path] = hits.get(request.url.path, 0) + 1
        if request.url.path == "/robots.txt":
            return httpx.Response(503)
        return httpx.Response(200, content=PAGE, headers={"Content-Type": "text/html"})

    async def main() -> list:  # type: ignore[type-arg]
        async with Fetcher(fast_fetch(retries=0), transport=httpx.MockTransport(handler)) as f:
            return [await f.fetch(f"http://c.test/{i}") for i in range(3)]

    results = _run(main())
    assert {r.error_kind for r in results} == {"robots_unavailable"}  # not final: retried next run
    assert all("http://c.test/robots.txt unreachable (http_error): HTTP 503" in r.message for r in results)
    assert hits == {"/robots.txt": 1}


def test_conditional_request_headers_and_304() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        if request.headers.get("If-None-Match") == '"abc"' and request.headers.get("If-Modified-Since"):
            return httpx.Response(304)
        return httpx.Response(200, content=PAGE, headers={"Content-Type": "text/html", "ETag": '"abc"',
                                                            "Last-Modified": "Wed, 01 May 2024 00:00:00 GMT"})

    async def main():  # type: ignore[no-untyped-def]
        async with Fetcher(fast_fetch(), transport=httpx.MockTransport(handler)) as f:
            first = await f.fetch("http://d.test/feed")
            second = await f.fetch("http://d.test/feed", etag=first.etag, last_modified=first.last_modified)
        return first, second

    first, second = _run(main())
    assert (first.error_kind, first.etag) == ("ok", '"abc"')
    assert (second.error_kind, second.status, second.body) == ("not_modified", 304, b"")


def test_user_agent_is_sent_and_every_kind_is_documented() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["User-Agent"])
        return httpx.Response(404) if request.url.path == "/robots.txt" else httpx.Response(200, content=PAGE)

    async def main() -> str:
        async with Fetcher(fast_fetch(user_agent="my-bot/2.0", respect_robots=False),
                           transport=httpx.MockTransport(handler)) as f:
            return (await f.fetch("http://e.test/")).error_kind

    assert _run(main()) == "ok" and seen == ["my-bot/2.0"]
    assert {"timeout", "robots_disallowed", "too_large", "redirect_loop", "binary_content"} <= set(ERROR_KINDS)
