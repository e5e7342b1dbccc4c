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
    never sees stale tokens. One cache per process, shared by all tokenizers.
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
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
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


#: The process-wide result cache (``RESULT_CACHE.clear()`` to measure without it).
RESULT_CACHE = ResultCache()
