"""Text hygiene before tagging: safe characters, sentence/chunk splitting, offset alignment.

Every function here keeps offsets: cleaning replaces a bad character by one space (same
length), splitting returns ``(start, chunk)`` pairs into the original text, and
:func:`align` finds where each analysed form sits in its chunk.

Bounded work: taggers build a lattice over each run of characters without whitespace, and
some (Kkma, Okt, Hannanum) get superlinear or fail on long runs. :func:`split_chunks` cuts
runs longer than ``max_run`` into pieces tagged as separate chunks, preferably after
sentence punctuation, else at other punctuation, else where the script changes (Hangul,
Latin, digits, Hanja), else hard. A hard cut can split a word in two (``...가나|다라...``);
only text that has no whitespace for ``max_run`` characters is affected.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from collections.abc import Iterator, Sequence

__all__ = ["clean", "split_chunks", "align"]

# C0/C1 controls except newline, DEL, lone surrogates, noncharacters, BOM/zero-width joiners are
# harmless but the JVM taggers choke on unpaired surrogates and NUL: replace them by one space each.
# ... and every whitespace but " " and "\n" (tab, CR, NBSP, U+3000, ...): engines tag some of them as tokens
# (Okt: a tab is "Foreign"; mecab: U+3000 is a symbol), and whitespace is never a token
_BAD = re.compile("[\x00-\x09\x0b-\x1f\x7f-\xa0\ud800-\udfff\ufeff\ufffe\uffff"
                  "\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
# A sentence ends after . ? ! … 。 (optionally closing quotes/brackets) followed by whitespace, or at a newline.
_SENT_END = re.compile(r"(?<=[.?!…。？！])[\"'”’)\]]*\s+|\s*\n\s*")
_SPACE = re.compile(r"\s")


def clean(text: str) -> str:
    """``text`` with control characters, NUL, lone surrogates and whitespace other than a space or a newline
    replaced by spaces (same length, so offsets still point into the original)."""
    return _BAD.sub(" ", text)


def split_chunks(text: str, max_chars: int = 400, max_run: int | None = None) -> list[tuple[int, str]]:
    """Split into sentences, sentences longer than ``max_chars`` at whitespace (or hard), and
    runs without whitespace longer than ``max_run`` into separate chunks (see the module docstring).

    Returns ``(offset, chunk)`` pairs with ``text[offset:offset + len(chunk)] == chunk``;
    chunks are stripped and never empty.

    >>> split_chunks("첫 문장이다. 둘째 문장!\\n셋째")
    [(0, '첫 문장이다.'), (8, '둘째 문장!'), (15, '셋째')]
    """
    n = len(text)
    if (0 < n <= max_chars and (max_run is None or n <= max_run) and not text[0].isspace()
            and not text[-1].isspace() and _SENT_END.search(text) is None):
        return [(0, text)]  # one short sentence (most reviews and titles): what the general path gives
    out: list[tuple[int, str]] = []
    pos = 0
    for m in _SENT_END.finditer(text):
        _emit(text, pos, m.start(), max_chars, out)
        pos = m.end()
    _emit(text, pos, len(text), max_chars, out)
    if max_run is None or max_run >= max_chars:
        return out
    bounded: list[tuple[int, str]] = []
    for offset, chunk in out:
        _bound_runs(chunk, offset, max_run, bounded)
    return bounded


@lru_cache(maxsize=16)
def _long_run(max_run: int) -> re.Pattern[str]:
    """Runs without whitespace longer than ``max_run`` (found in C, no Python step per word)."""
    return re.compile(r"\S{%d,}" % (max_run + 1))


_SENT_PUNCT = frozenset(".?!…。？！")


def _script(ch: str) -> int:
    """Coarse script class of one character (0 Hangul, 1 digit, 2 Latin, 3 Han, 4 punctuation, 5 other)."""
    if "가" <= ch <= "힣" or "ㄱ" <= ch <= "ㆎ":
        return 0
    if ch.isdigit():
        return 1
    if ch.isascii():
        return 2 if ch.isalpha() else 4
    if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff":
        return 3
    return 4 if unicodedata.category(ch)[0] == "P" else 5


def _cut_score(a: str, b: str) -> int:
    if a in _SENT_PUNCT and b not in _SENT_PUNCT:
        return 3
    sa, sb = _script(a), _script(b)
    if (sa == 4) != (sb == 4):
        return 2
    return 1 if sa != sb else 0


def _bound_runs(chunk: str, offset: int, max_run: int, out: list[tuple[int, str]]) -> None:
    """Append ``chunk`` to ``out``, cut so that no piece holds a whitespace-free run over ``max_run``."""
    long_runs = [m.span() for m in _long_run(max_run).finditer(chunk)] if len(chunk) > max_run else []
    if not long_runs:
        out.append((offset, chunk))
        return
    cur = 0
    for rs, re_ in long_runs:
        before = chunk[cur:rs].rstrip()
        if before.strip():
            lead = len(before) - len(before.lstrip())
            out.append((offset + cur + lead, before.lstrip()))
        start = rs
        while re_ - start > max_run:
            best, cut = -1, start + max_run
            for c in range(start + max_run, start + max_run // 2, -1):
                score = _cut_score(chunk[c - 1], chunk[c])
                if score > best:
                    best, cut = score, c
                    if score == 3:
                        break
            if "\ud800" <= chunk[cut - 1] <= "\udbff":  # never split a surrogate pair
                cut -= 1
            out.append((offset + start, chunk[start:cut]))
            start = cut
        out.append((offset + start, chunk[start:re_]))
        cur = re_
    rest = chunk[cur:]
    if rest.strip():
        lead = len(rest) - len(rest.lstrip())
        out.append((offset + cur + lead, rest.strip()))


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

    A form found after the cursor gets its exact span when the characters it skips can
    belong to the unmatched forms before it (see ``_gap_ok``). Forms that do not occur in the
    text (restored morphemes like ``하``+``았`` for ``했``, normalized spellings) share the
    span of the unmatched characters between their matched neighbours.
    """
    hay = text.lower() if lower else text
    fs = [f.lower() for f in forms] if lower else list(forms)
    n = len(fs)
    spans: list[tuple[int, int] | None] = [None] * n
    cursor = 0
    pending = 0  # unmatched forms since the last match (restored morphemes waiting for characters)
    for i, f in enumerate(fs):
        idx = hay.find(f, cursor) if f else -1
        if idx < 0:
            pending += 1
            continue
        gap = hay[cursor:idx]
        if gap and not gap.isspace() and not _gap_ok(hay, fs, i, idx, gap, pending):
            pending += 1
            continue
        spans[i] = (idx, idx + len(f))
        cursor = idx + len(f)
        pending = 0
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
        if j == n:  # a trailing run ends with the word it starts in
            sp2 = _SPACE.search(text, s, e)
            e = sp2.start() if sp2 is not None else e
        while e > s and text[e - 1].isspace():
            e -= 1
        out.extend([(s, e)] * (j - i))
        i = j
    return out


def _gap_ok(hay: str, fs: Sequence[str], i: int, idx: int, gap: str, pending: int) -> bool:
    """Whether form ``i`` may match at ``idx`` although characters ``gap`` before it are unmatched."""
    ahead = [a for a in fs[i + 1:i + 3] if a]
    if ahead and hay.startswith(ahead[0], idx) and len(ahead[0]) > len(fs[i]):
        return False  # the next form starts here too: this one is a restored morpheme (아 before 아세안)
    if pending == 0 and any(a in gap for a in ahead):
        return False  # nothing waits for the gap and a following form sits in it: this form is restored
    core = gap.strip()
    nonspace = len(core) - len(_SPACE.findall(core))
    if pending == 0:
        ok = nonspace <= 2 and not _SPACE.search(core)
    else:
        ok = nonspace <= 3 * pending + 2 and (pending >= 2 or not _SPACE.search(core))
    if ok:
        return True
    # resynchronise after a long unmatched stretch: this form and the next two follow each other
    end = idx + len(fs[i])
    for a in ahead:
        j = hay.find(a, end)
        if j < 0 or hay[end:j].strip():
            return False
        end = j + len(a)
    return len(ahead) == 2 and len(fs[i]) >= 2


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
