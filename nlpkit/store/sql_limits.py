"""The SQL sandbox's limits, checked once where they come in: time, memory, spill, result size, ``--as-of``.

Every value an analyst types (``--timeout``, ``--memory-limit``, ``--spill-limit``, ``--max-bytes``,
``--as-of``; the web app's own settings) goes through one parser here, so that ``inf``, ``nan``,
``1e300``, ``0MB``, ``³`` or a version past any real one is one error line naming the value and the
fix, never a traceback or a silently disabled limit. :class:`Deadline` is the time limit of one
in-process query, running from the call (before any snapshot opens).

>>> parse_size("512MB", "--memory-limit")
536870912
>>> parse_as_of(["imdb=3", "runs=v2"])
{'imdb': 3, 'runs': 2}
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Iterable
from typing import Any

from nlpkit.errors import QueryError

__all__ = ["DEFAULT_TIMEOUT", "Deadline", "MAX_TIMEOUT", "MIN_MEMORY", "MAX_VERSION", "default_memory_bytes", "format_size",
           "parse_as_of", "parse_size", "parse_timeout"]

DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 24 * 3600.0  # a day: beyond that a "limit" is no limit
MIN_MEMORY = 16 << 20  # DuckDB cannot run a scan below this
MAX_SIZE = 1 << 50  # 1 PiB: larger numbers are typos, and DuckDB's setting overflows past 2**63
MAX_VERSION = (1 << 53) - 1  # Delta versions are int64; anything near that is not a real version
_SIZE = re.compile(r"([0-9]{1,15}(?:\.[0-9]{1,6})?)\s*([KMGT]i?B|B)?", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}
_AS_OF = re.compile(r"([a-z][a-z0-9_]{0,62})=v?([0-9]{1,16})", re.ASCII)


def default_memory_bytes() -> int:
    """A quarter of this machine's RAM (at least 64 MiB)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(total // 4, 64 << 20)


def format_size(n: int) -> str:
    """``n`` bytes for people: ``100MB``, ``1.5GB`` (binary units, as the options read them)."""
    for unit, size in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.4g}{unit}"
    return f"{n}B"


def parse_timeout(value: float | str, option: str = "--timeout") -> float:
    """Seconds in (0, one day], else one error naming the value; ``inf``/``nan`` never turn the limit off."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT):
        raise QueryError(f"{option} {value}: use a number of seconds above 0 and at most {MAX_TIMEOUT:g} "
                         f"(a day), e.g. {option} 60")
    return seconds


def parse_size(text: str, option: str, *, minimum: int = 1, allow_zero: bool = False) -> int:
    """``512MB``, ``4GB``, ``2GiB``, ``100KB``, ``1000`` (bytes) -> bytes (KB/MB/GB/TB are binary, like
    DuckDB's KiB...).

    ``0`` (any unit) is allowed only where ``allow_zero`` says it means "off".
    """
    m = _SIZE.fullmatch(str(text).strip())
    if m is None:
        raise QueryError(f"{option} {text!r}: expected a size like 512MB, 4GB or 2GiB")
    n = int(float(m.group(1)) * _UNITS[(m.group(2) or "B").lower().replace("i", "")])
    if n == 0 and allow_zero:
        return 0
    if not minimum <= n <= MAX_SIZE:
        low = "0 (off) or " if allow_zero else ""
        raise QueryError(f"{option} {text}: use {low}a size from {format_size(minimum)} to {format_size(MAX_SIZE)}, "
                         f"e.g. {option} 1GB")
    return n


def parse_as_of(items: Iterable[str]) -> dict[str, int]:
    """``NAME=VERSION`` items (``imdb=3``, ``imdb=v3``) -> ``{name: version}``; ASCII digits only."""
    out: dict[str, int] = {}
    for item in items:
        m = _AS_OF.fullmatch(str(item).strip())
        if m is None or int(m.group(2)) > MAX_VERSION:
            raise QueryError(f"--as-of {item!r}: expected NAME=VERSION with VERSION a whole number of an existing "
                             "version, e.g. --as-of imdb=3 (`nlpkit data list --all` lists them)")
        out[m.group(1)] = int(m.group(2))
    return out


class Deadline:
    """A query's time limit, running from the moment the query is asked for (before any snapshot opens).

    When it runs out, a timer thread interrupts the connection (if one is open yet); snapshot
    opening calls :meth:`check` between tables, so a slow open stops there.
    """

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._con: Any = None  # a DuckDB connection
        self.expired = threading.Event()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            self.expired.set()
            if self._con is not None:
                self._con.interrupt()

    def attach(self, con: Any) -> None:
        with self._lock:
            self._con = con
            if self.expired.is_set():
                con.interrupt()

    def check(self) -> None:
        if self.expired.is_set():
            import duckdb

            raise duckdb.InterruptException("INTERRUPT Error: the time limit ran out while opening the snapshots")

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._con = None
