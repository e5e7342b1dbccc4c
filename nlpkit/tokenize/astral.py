"""Astral characters (emoji, CJK Extension B: two UTF-16 units) across engines that cut them in halves.

Komoran and Kkma split a surrogate pair into two tokens (two U+FFFD after the JVM boundary). Each
astral character of a chunk is sent as a private-use BMP character absent from the chunk (one
code point either way, so offsets hold) and the engine's forms are mapped back.

>>> to_bmp("a😀b")
'a\ue000b'
>>> from_bmp("a😀b")("\ue000")
'😀'
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["ASTRAL", "from_bmp", "to_bmp"]

ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
_PUA = 0xE000


def to_bmp(chunk: str) -> str:
    """``chunk`` with each astral character replaced by a private-use BMP character absent from it
    (same length in code points, so offsets hold); :func:`from_bmp` maps forms back."""
    if not ASTRAL.search(chunk):
        return chunk
    table = _bmp_table(chunk)
    return ASTRAL.sub(lambda m: table[m.group()], chunk)


def from_bmp(chunk: str) -> Callable[[str], str]:
    """A function mapping an engine form of ``to_bmp(chunk)`` back to the characters of ``chunk``."""
    back = str.maketrans({v: k for k, v in _bmp_table(chunk).items()})
    return lambda s: s.translate(back) if s else s


def _bmp_table(chunk: str) -> dict[str, str]:
    used = set(chunk)
    table: dict[str, str] = {}
    code = _PUA
    for ch in dict.fromkeys(ASTRAL.findall(chunk)):
        while chr(code) in used:
            code += 1
        table[ch] = chr(code)
        code += 1
    return table
