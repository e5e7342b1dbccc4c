"""What the web app accepts: a Host allow-list, a request-body cap, same-origin POSTs, and bounded parameters.

The app reads the whole store for whoever can send it a request, so it answers only requests
that come from the analyst's own browser tab:

- **Host allow-list** (DNS rebinding): a page on ``attacker.example`` whose name is made to
  resolve to 127.0.0.1 sends ``Host: attacker.example``; only ``127.0.0.1``, ``localhost``,
  ``::1`` and the names the operator adds (``nlpkit ui --allow-host NAME``) are answered.
- **Body cap**: a request body over ``max_body`` bytes is refused with 413 as soon as it passes
  the cap (``Content-Length`` or the bytes received), before the app buffers it.
- **Same origin for every POST**: a POST whose ``Origin`` (or, without one, ``Referer``) is not
  the app's own ``scheme://host:port``, or whose ``Sec-Fetch-Site`` says ``cross-site``, is
  refused with 403, so no other site (another port of 127.0.0.1 included) can make the browser
  run a query, even one that changes no state.

Every refusal is one plain-text line, ``error: ...`` saying what was refused and what to do.
Handlers read numbers through :func:`int_param`, whose bad values are a :class:`ParamError`
(shown as 400 with one line by the app's error wrapper), never an exception deep in a library.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nlpkit.ui.corpus import UiError

__all__ = ["DEFAULT_MAX_BODY", "LOOPBACK_HOSTS", "ParamError", "RequestGuard", "int_param", "choice_param"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_MAX_BODY = 1 << 20  # a query box and a few fields: 1 MiB is plenty
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ParamError(UiError):
    """A query parameter out of its range or of the wrong kind (shown as 400 with one line)."""


def int_param(params: QueryParams, name: str, default: int, *, lo: int, hi: int) -> int:
    """``params[name]`` as an int in ``[lo, hi]`` (``default`` when absent or empty), else :class:`ParamError`.

    >>> int_param(QueryParams("days=30"), "days", 7, lo=1, hi=3650)
    30
    """
    raw = params.get(name, "")
    if raw.strip() == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 12):
        raise ParamError(f"{name}={raw[:40]!r}: expected a whole number from {lo} to {hi}")
    value = int(text)
    if not lo <= value <= hi:
        raise ParamError(f"{name}={value}: use a whole number from {lo} to {hi}")
    return value


def choice_param(params: QueryParams, name: str, default: str, allowed: Iterable[str]) -> str:
    """``params[name]`` if it is one of ``allowed`` (``default`` when absent), else :class:`ParamError`."""
    options = list(allowed)
    value = params.get(name, "") or default
    if value not in options:
        raise ParamError(f"{name}={value[:40]!r}: use one of {', '.join(options)}")
    return value


def host_name(value: str) -> str:
    """The host part of a ``Host`` header or URL netloc, lower-case, without port or IPv6 brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class RequestGuard:
    """ASGI middleware: the Host allow-list, the body cap and the same-origin rule for POSTs (module docstring)."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] = (), max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.allowed = LOOPBACK_HOSTS | {host_name(h) for h in allowed_hosts if h.strip()}
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            await _answer(send, 413, self._too_large())
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._capped(receive), tracked)
        except _BodyTooLarge as e:
            if started:
                raise
            await _answer(send, 413, str(e))

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        host = host_name(headers.get("host", ""))
        if host not in self.allowed:
            return 400, (f"Host {host or '(none)'!r} is not served here: open the app as http://127.0.0.1:PORT/ or "
                         "start it with `nlpkit ui --allow-host NAME` for another name")
        if scope["method"] not in _UNSAFE:
            return None
        if headers.get("sec-fetch-site", "") == "cross-site":
            return 403, "cross-site POST refused: send the form from the app's own pages"
        origin = headers.get("origin") or headers.get("referer")
        if origin is None:
            return None  # not a browser (curl, scripts): the Host check already passed
        if origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
            return 403, f"POST from origin {origin[:80]!r} refused: send the form from the app's own pages"
        return None

    def _too_large(self) -> str:
        return f"request body over {self.max_body:,} bytes refused: send a shorter query"

    def _capped(self, receive: Receive) -> Receive:
        """``receive`` that stops a body passing the cap (a body sent without a ``Content-Length``)."""
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _BodyTooLarge(self._too_large())
            return message

        return wrapped


class _BodyTooLarge(ParamError):
    pass


async def _answer(send: Send, status: int, line: str) -> None:
    body = f"error: {line}\n".encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
