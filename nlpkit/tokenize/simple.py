"""Rule-based backends with no engine behind them: ``words``, ``chars``, ``whitespace``, ``regex``.

They implement the same :class:`~nlpkit.tokenize.base.Tokenizer` protocol as the analysers
(tokens with offsets, ``config``, ``fingerprint``), so stored tokens, TF-IDF and the RNN
vocabularies treat them like any other backend:

- ``words``: lower-cased letter runs (with one inner apostrophe), digit runs and single
  punctuation marks, HTML tags dropped (what the RNN classifiers were trained on);
- ``chars``: every non-space character;
- ``whitespace``: ``str.split()``;
- ``regex``: scikit-learn's default token pattern ``(?u)\\b\\w\\w+\\b`` on lower-cased text
  (what ``TfidfVectorizer()`` sees).

>>> from nlpkit.tokenize import get_tokenizer
>>> [t.form for t in get_tokenizer("words").tokenize("It's <br />GREAT, 10/10")]
["it's", 'great', ',', '10', '/', '10']
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from nlpkit.errors import TokenizerError
from nlpkit.tokenize.base import Token

__all__ = ["SIMPLE_BACKENDS", "WordsTokenizer", "CharsTokenizer", "WhitespaceTokenizer", "RegexTokenizer"]

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+|[^\w\s]", re.UNICODE)
_TAG = re.compile(r"<[^>]{0,40}>")
_SKLEARN = re.compile(r"(?u)\b\w\w+\b")
_VERSION = 1


def _ptag(form: str) -> str:
    if form.isdigit():
        return "NUM"
    if any(ch.isalnum() for ch in form):
        return "WORD"
    return "PUNCT"


class _Simple:
    """Shared protocol plumbing; a subclass implements ``_spans(text) -> [(form, start, end)]``."""

    name: ClassVar[str] = ""

    def __init__(self, *, user_dicts: Iterable[Any] = (), **options: Any) -> None:
        if tuple(user_dicts):
            raise TokenizerError(f"tokenizer {self.name!r} takes no user dictionary (it has no lexicon); "
                                 "use kiwi, mecab or komoran for dictionary terms")
        if options:
            raise TokenizerError(f"tokenizer {self.name!r} takes no options; got {', '.join(sorted(options))}")

    @property
    def config(self) -> dict[str, object]:
        return {"name": self.name, "options": {}, "user_dicts": []}

    @property
    def dict_sha256(self) -> str:
        return ""

    @property
    def fingerprint(self) -> str:
        payload = json.dumps({"backend": self.name, "version": _VERSION}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()

    def _spans(self, text: str) -> Iterable[tuple[str, int, int]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def tokenize(self, text: str) -> list[Token]:
        if not isinstance(text, str):
            raise TokenizerError(f"tokenizer {self.name!r} expects str, got {type(text).__name__}")
        return [Token(form, p, p, None, s, e) for form, s, e, p in ((f, s, e, _ptag(f)) for f, s, e in self._spans(text))]

    def tokenize_batch(self, texts: Iterable[str]) -> Iterator[list[Token]]:
        for text in texts:
            yield self.tokenize(text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _lowered_matches(pattern: re.Pattern[str], text: str) -> Iterator[tuple[str, int, int]]:
    """Matches of ``pattern`` on ``text.lower()`` with offsets into ``text``."""
    low = text.lower()
    if len(low) == len(text):
        for m in pattern.finditer(low):
            yield m.group(), m.start(), m.end()
    else:  # a letter whose lower case is longer (e.g. 'İ' -> 'i̇'): same tokens, offsets mapped back
        at = [0]  # at[i]: where source character i starts in the lowered text
        for ch in text:
            at.append(at[-1] + len(ch.lower()))
        for m in pattern.finditer(low):
            start = bisect_right(at, m.start()) - 1
            yield m.group(), start, max(bisect_left(at, m.end()), start + 1)


class WordsTokenizer(_Simple):
    name = "words"

    def _spans(self, text: str) -> Iterable[tuple[str, int, int]]:
        masked = _TAG.sub(lambda m: " " * len(m.group()), text)
        return _lowered_matches(_WORD, masked)


class RegexTokenizer(_Simple):
    name = "regex"

    def _spans(self, text: str) -> Iterable[tuple[str, int, int]]:
        return _lowered_matches(_SKLEARN, text)


class CharsTokenizer(_Simple):
    name = "chars"

    def _spans(self, text: str) -> Iterable[tuple[str, int, int]]:
        return [(c, i, i + 1) for i, c in enumerate(text) if not c.isspace()]


class WhitespaceTokenizer(_Simple):
    name = "whitespace"

    def _spans(self, text: str) -> Iterable[tuple[str, int, int]]:
        out, start = [], None
        for i, c in enumerate(text):
            if c.isspace():
                if start is not None:
                    out.append((text[start:i], start, i))
                    start = None
            elif start is None:
                start = i
        if start is not None:
            out.append((text[start:], start, len(text)))
        return out


SIMPLE_BACKENDS: dict[str, str] = {cls.name: f"nlpkit.tokenize.simple:{cls.__name__}"
                                   for cls in (WordsTokenizer, CharsTokenizer, WhitespaceTokenizer, RegexTokenizer)}
