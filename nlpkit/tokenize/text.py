"""Text hygiene before tagging: safe characters, sentence/chunk splitting, offset alignment.

Every function here keeps offsets: cleaning replaces a bad character by one space (same
length), splitting returns ``(start, chunk)`` pairs into the original text, and
:func:`align` finds where each analysed form sits in its chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

__all__ = ["clean", "split_chunks", "align"]

# C0/C1 controls except tab/newline/CR, DEL, lone surrogates, noncharacters, BOM/zero-width joiners are
# harmless but the JVM taggers choke on unpaired surrogates and NUL: replace them by one space each.
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
# A sentence ends after . ? ! … 。 (optionally closing quotes/brackets) followed by whitespace, or at a newline.
_SENT_END = re.compile(r"(?<=[.?!…。？！])[\"'”’)\]]*\s+|\s*\n\s*")
_SPACE = re.compile(r"\s")


def clean(text: str) -> str:
    """``text`` with control characters, NUL and lone surrogates replaced by spaces (same length)."""
    return _BAD.sub(" ", text)


def split_chunks(text: str, max_chars: int = 400) -> list[tuple[int, str]]:
    """Split into sentences, and sentences longer than ``max_chars`` at whitespace (or hard).

    Returns ``(offset, chunk)`` pairs with ``text[offset:offset + len(chunk)] == chunk``;
    chunks are stripped and never empty.

    >>> split_chunks("첫 문장이다. 둘째 문장!\\n셋째")
    [(0, '첫 문장이다.'), (8, '둘째 문장!'), (15, '셋째')]
    """
    out: list[tuple[int, str]] = []
    pos = 0
    for m in _SENT_END.finditer(text):
        _emit(text, pos, m.start(), max_chars, out)
        pos = m.end()
    _emit(text, pos, len(text), max_chars, out)
    return out


def _emit(text: str, start: int, end: int, max_chars: int, out: list[tuple[int, str]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        if cut <= start:
            cut = start + max_chars
            if "\ud800" <= text[cut - 1] <= "\udbff":  # never split a surrogate pair (cleaned text has none)
                cut -= 1
        _emit(text, start, cut, max_chars, out)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append((start, text[start:end]))


def align(text: str, forms: Sequence[str], *, lower: bool = False) -> list[tuple[int, int]]:
    """Character spans of ``forms`` (analysed in order) inside ``text``.

    A form found at the cursor (after whitespace, or after at most 3 non-space characters
    of the same word) gets its exact span. Forms that do not occur in the text (restored
    morphemes like ``하``+``았`` for ``했``, normalized spellings) share the span of the
    unmatched characters between their matched neighbours.
    """
    hay = text.lower() if lower else text
    n = len(forms)
    spans: list[tuple[int, int] | None] = [None] * n
    cursor = 0
    for i, form in enumerate(forms):
        if not form:
            continue
        f = form.lower() if lower else form
        idx = hay.find(f, cursor)
        if idx < 0:
            continue
        gap = hay[cursor:idx]
        if gap and not gap.isspace() and (len(gap) > 3 or _SPACE.search(gap)):
            continue
        spans[i] = (idx, idx + len(f))
        cursor = idx + len(f)
    # fill unmatched runs with the unmatched characters between neighbours
    i = 0
    out: list[tuple[int, int]] = []
    prev_end = 0
    while i < n:
        if spans[i] is not None:
            out.append(spans[i])  # type: ignore[arg-type]
            prev_end = spans[i][1]  # type: ignore[index]
            i += 1
            continue
        j = i
        while j < n and spans[j] is None:
            j += 1
        next_start = spans[j][0] if j < n else len(text)  # type: ignore[index]
        s, e = prev_end, next_start
        while s < e and text[s].isspace():
            s += 1
        # a restored run belongs to one word: stop at the first space after its start
        sp = _SPACE.search(text, s, e)
        if sp is not None and j < n:
            e = sp.start()
        if j == n:
            sp2 = _SPACE.search(text, s, e)
            e = sp2.start() if sp2 is not None else e
        while e > s and text[e - 1].isspace():
            e -= 1
        out.extend([(s, e)] * (j - i))
        i = j
    return out


def iter_batches(items: Iterator[str], size: int) -> Iterator[list[str]]:
    """Lists of up to ``size`` items from ``items`` (lazy)."""
    batch: list[str] = []
    for it in items:
        batch.append(it)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
