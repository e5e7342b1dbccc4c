"""User dictionaries and stopword lists: one backend-neutral TSV format, parsed with file:line errors.

Format (``dictionaries/README.md``): UTF-8, one entry per line ``form<TAB>tag[<TAB>score]``;
``#`` starts a comment line, blank lines are ignored; ``tag`` is a Sejong tag (``NNP``,
``NNG``, ...); ``form`` may contain single spaces (``오징어 게임``); ``score`` is a float
(default 0) used by Kiwi.

Every entry is checked before any engine sees it (:func:`check_form`): at most
:data:`MAX_FORM_CHARS` characters, no control, surrogate, unassigned or line-separator
characters (mecab-ko's compiler exits the process on a NUL and crashes on a 100,000-character
form), a finite score within :data:`MAX_ABS_SCORE`. Lines end at ``\n`` only, so a
form holding U+2028 or a form feed is reported on its own line instead of splitting it.

Backends add entries natively where they can; the rest are merged after tagging by
:func:`merge_entries`, which keeps an entry whole with the span of its occurrence.
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlpkit.errors import DictionaryError
from nlpkit.tokenize.base import Token
from nlpkit.tokenize.tagset import SEJONG_TAGS, map_tag

__all__ = ["DictEntry", "UserDictionary", "load_user_dict", "load_user_dicts", "merge_entries",
           "entry_probe", "load_stopwords", "check_form", "DICTIONARIES_DIR", "DEFAULT_KO_DICT", "MAX_FORM_CHARS",
           "MAX_ABS_SCORE"]


def _dictionaries_dir() -> Path:
    """``dictionaries/`` of a source checkout, else the copy a wheel installs under
    ``<prefix>/share/nlpkit/dictionaries`` (no environment read: other dictionaries are passed as paths)."""
    checkout = Path(__file__).resolve().parents[2] / "dictionaries"
    installed = Path(sys.prefix) / "share" / "nlpkit" / "dictionaries"
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


#: The project's ``dictionaries/`` folder (see :func:`_dictionaries_dir` for where it is looked up).
DICTIONARIES_DIR = _dictionaries_dir()
DEFAULT_KO_DICT = DICTIONARIES_DIR / "ko" / "news.tsv"
_WS = re.compile(r"\s+")
#: Longest form an entry may have: a word or a name (the longest in dictionaries/ko/news.tsv has 10).
MAX_FORM_CHARS = 100
#: Largest score magnitude (Kiwi's scores are log-probabilities around -20..20; mecab clamps the cost).
MAX_ABS_SCORE = 100.0
#: Unicode categories no backend takes inside a word: controls (NUL...), surrogates, unassigned
#: code points and noncharacters, line/paragraph separators.
_BAD_CATEGORIES = frozenset({"Cc", "Cs", "Cn", "Zl", "Zp"})


def check_form(form: str) -> str | None:
    """Why ``form`` cannot be a dictionary entry on every backend, or None when it can.

    >>> check_form("두산에너빌리티") is None
    True
    >>> check_form("a" + chr(0) + "b")
    'character U+0000 (Cc) at position 2 is not allowed in a form (controls, surrogates, unassigned)'
    """
    if len(form) > MAX_FORM_CHARS:
        return f"form of {len(form):,} characters is over the limit of {MAX_FORM_CHARS} (an entry is one word or name)"
    for i, ch in enumerate(form):
        cat = unicodedata.category(ch)
        if cat in _BAD_CATEGORIES:
            return (f"character U+{ord(ch):04X} ({cat}) at position {i + 1} is not allowed in a form "
                    "(controls, surrogates, unassigned)")
    return None


@dataclass(frozen=True, slots=True)
class DictEntry:
    """One user-dictionary entry."""

    form: str
    tag: str
    score: float = 0.0


@dataclass(frozen=True)
class UserDictionary:
    """Parsed dictionary file: its entries and the sha256 of its bytes."""

    path: Path
    entries: tuple[DictEntry, ...]
    sha256: str

    def __len__(self) -> int:
        return len(self.entries)


def load_user_dict(path: str | Path) -> UserDictionary:
    """Parse one dictionary file; a bad line raises :class:`DictionaryError` naming ``file:line``.

    >>> d = load_user_dict(DEFAULT_KO_DICT)   # doctest: +SKIP
    >>> len(d), d.entries[0]                  # doctest: +SKIP
    (57, DictEntry(form='코로나바이러스감염증', tag='NNP', score=0.0))
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DictionaryError(f"cannot read user dictionary {str(p)!r}: {e.strerror}; "
                              f"expected a TSV file like {DEFAULT_KO_DICT}") from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DictionaryError(f"{p}: not UTF-8 (byte {e.start}); save the dictionary as UTF-8") from e
    entries: list[DictEntry] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{p}:{lineno}"
        cols = line.split("\t")
        if len(cols) not in (2, 3):
            raise DictionaryError(f"{where}: expected 'form<TAB>tag[<TAB>score]', got {len(cols)} "
                                  f"tab-separated field(s) in {line[:80]!r}")
        form = _WS.sub(" ", cols[0].strip())
        tag = cols[1].strip()
        if not form:
            raise DictionaryError(f"{where}: empty form in {line[:80]!r}")
        problem = check_form(form)
        if problem is not None:
            raise DictionaryError(f"{where}: {problem}; fix or remove the line")
        if tag not in SEJONG_TAGS:
            raise DictionaryError(f"{where}: unknown tag {tag[:40]!r} for {form!r}; expected a Sejong tag such as "
                                  "NNP, NNG, VV, VA, MAG (see dictionaries/README.md)")
        score = 0.0
        if len(cols) == 3:
            try:
                score = float(cols[2])
            except ValueError:
                raise DictionaryError(f"{where}: score {cols[2][:40]!r} is not a number") from None
            if not math.isfinite(score) or abs(score) > MAX_ABS_SCORE:
                raise DictionaryError(f"{where}: score {cols[2][:40]!r} is out of range; expected a number "
                                      f"from {-MAX_ABS_SCORE:g} to {MAX_ABS_SCORE:g}")
        if form in seen:
            continue
        seen.add(form)
        entries.append(DictEntry(form, tag, score))
    return UserDictionary(p, tuple(entries), hashlib.sha256(raw).hexdigest())


def load_user_dicts(items: Iterable[str | Path | UserDictionary]) -> tuple[UserDictionary, ...]:
    """Parse each path (already parsed dictionaries pass through)."""
    if isinstance(items, (str, Path)):
        items = [items]
    return tuple(d if isinstance(d, UserDictionary) else load_user_dict(d) for d in items)


def load_stopwords(lang: str = "ko", path: str | Path | None = None) -> frozenset[str]:
    """Stopwords, one per line (``#`` comments): ``dictionaries/<lang>/stopwords.txt`` by default."""
    p = Path(path) if path is not None else DICTIONARIES_DIR / lang / "stopwords.txt"
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise DictionaryError(f"cannot read stopword list {str(p)!r}: {e.strerror}") from e
    return frozenset(w.strip() for w in lines if w.strip() and not w.lstrip().startswith("#"))


def _occurrences(chunk: str, form: str) -> list[tuple[int, int]]:
    """Spans of ``form`` in ``chunk``; a space in ``form`` matches any run of whitespace."""
    if " " not in form:
        out, i = [], chunk.find(form)
        while i >= 0:
            out.append((i, i + len(form)))
            i = chunk.find(form, i + len(form))
        return out
    pattern = r"\s+".join(re.escape(p) for p in form.split(" "))
    return [m.span() for m in re.finditer(pattern, chunk)]


def entry_probe(entries: Sequence[DictEntry]) -> re.Pattern[str]:
    """One pattern that finds a chunk :func:`merge_entries` could change (any entry's first word in it).

    Checking a chunk with one ``search`` instead of a loop over the entries: a chunk it does
    not match gets its tokens unchanged from :func:`merge_entries`.

    >>> bool(entry_probe([DictEntry("오징어 게임", "NNP")]).search("오징어가 맛있다"))
    True
    """
    words = sorted({e.form.split(" ", 1)[0] for e in entries}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words)) if words else r"(?!)")


def merge_entries(backend: str, chunk: str, tokens: Sequence[Token], entries: Sequence[DictEntry]) -> list[Token]:
    """Replace the tokens covering each occurrence of an entry by one token with the entry's tag.

    Entries are tried longest first; a token that sticks out of the occurrence keeps its
    outside part as a token of its own (e.g. ``에코프로비엠이`` tagged as one noun becomes
    ``에코프로비엠`` + ``이``).
    """
    toks = list(tokens)
    merged: list[tuple[int, int]] = []
    for entry in entries:
        if entry.form.split(" ", 1)[0] not in chunk:
            continue
        for s, e in _occurrences(chunk, entry.form):
            if any(ms < e and me > s for ms, me in merged):
                continue  # already covered by a longer entry
            merged.append((s, e))
            inside = [i for i, t in enumerate(toks) if t.start < e and t.end > s]
            if not inside:
                continue
            if len(inside) == 1 and toks[inside[0]].start == s and toks[inside[0]].end == e:
                t = toks[inside[0]]
                if t.form != chunk[s:e]:  # e.g. Kiwi's own '코로나바이러스 감염증' for the unspaced text
                    toks[inside[0]] = Token(chunk[s:e], t.tag, t.ptag, t.lemma, s, e)
                continue
            first, last = toks[inside[0]], toks[inside[-1]]
            new: list[Token] = []
            if first.start < s:
                new.append(Token(chunk[first.start:s], first.tag, first.ptag, None, first.start, s))
            new.append(Token(chunk[s:e], entry.tag, map_tag("user", entry.tag), None, s, e))
            if last.end > e:
                new.append(Token(chunk[e:last.end], last.tag, last.ptag, None, e, last.end))
            toks[inside[0]:inside[-1] + 1] = new
    return toks
