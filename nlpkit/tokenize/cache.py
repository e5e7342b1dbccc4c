"""The process-wide cache of analysed chunks, keyed on ``(tokenizer fingerprint, chunk)``.

News text repeats itself (bylines, boilerplate, quoted headlines); a chunk analysed once by a
tokenizer with the same fingerprint (backend, options, chunking, dictionary sha256) is not
analysed again. ``get_tokenizer(name, cache=False)`` bypasses it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from nlpkit.tokenize.base import Token

__all__ = ["ResultCache", "RESULT_CACHE"]


class ResultCache:
    """Thread-safe LRU of analysed chunks keyed on ``(tokenizer fingerprint, chunk)``.

    The fingerprint covers backend, options and dictionary sha256, so a changed dictionary
    never sees stale tokens. One cache per process, shared by all tokenizers. It holds at most
    ``max_entries`` chunks and ``max_tokens`` tokens (Token objects cost ~200 bytes each: a
    200k-review corpus tokenized in one process would otherwise stay in memory, ~1 GB, long
    after its rows were written).

    >>> c = ResultCache(max_tokens=3)
    >>> c.put(("fp", "a"), ("t1", "t2")); c.put(("fp", "b"), ("t3", "t4")); (len(c), c.get(("fp", "a")))
    (1, None)
    """

    def __init__(self, max_entries: int = 200_000, max_tokens: int = 1_000_000) -> None:
        self.max_entries = max_entries
        self.max_tokens = max_tokens
        self._tokens = 0
        self._data: OrderedDict[tuple[str, str], tuple[Token, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str]) -> tuple[Token, ...] | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple[str, str], value: tuple[Token, ...]) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            old = self._data.pop(key, None)
            self._tokens += len(value) - (len(old) if old is not None else 0)
            self._data[key] = value
            while self._data and (len(self._data) > self.max_entries or self._tokens > self.max_tokens):
                self._tokens -= len(self._data.popitem(last=False)[1])

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._tokens = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


#: The process-wide result cache (``RESULT_CACHE.clear()`` to measure without it).
RESULT_CACHE = ResultCache()
