"""English review cleaning: HTML out, whitespace normalised, lower-cased, letters only, stopwords out.

The steps follow the classic bag-of-words recipe for IMDB (BeautifulSoup -> regex -> lower ->
stopwords), with the two bugs of the class notes fixed: the regex is ``[^a-z]`` applied *after*
lower-casing (the notes had ``[^a-zA~Z]``, a range from ``A`` to ``~`` that keeps punctuation
and digits), and the stopwords are really removed (the notes filtered a misspelled variable).

>>> cleaner = TextCleaner(stopwords=frozenset({"the", "was"}))
>>> cleaner("The movie<br /><br />was GREAT!!! 10/10")
'movie great'
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CleanOptions", "TextCleaner", "letters_only", "normalize_whitespace", "remove_stopwords", "strip_html"]

_NON_LETTERS = re.compile(r"[^a-z]+")
_SPACES = re.compile(r"\s+")


def strip_html(text: str) -> str:
    """Text content of ``text`` parsed as HTML with BeautifulSoup + lxml (tags become spaces).

    Text without ``<`` or ``&`` has no markup or entities and is returned unchanged (fast path).

    >>> strip_html("Great.<br /><br />Really &amp; truly")
    'Great. Really & truly'
    """
    if "<" not in text and "&" not in text:
        return text
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(text, "lxml").get_text(" ")


def normalize_whitespace(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return _SPACES.sub(" ", text).strip()


def letters_only(text: str) -> str:
    """Lower-case, then replace every run of characters outside ``a-z`` with one space.

    >>> letters_only("It's 10/10, A+!")
    'it s a '
    """
    return _NON_LETTERS.sub(" ", text.lower())


def remove_stopwords(words: Iterable[str], stopwords: frozenset[str]) -> list[str]:
    """The words that are not in ``stopwords``, in order."""
    return [w for w in words if w not in stopwords]


@dataclass(frozen=True, slots=True)
class CleanOptions:
    """Which cleaning steps run (all by default, in this order)."""

    html: bool = True
    lowercase: bool = True
    letters_only: bool = True  # implies lower-casing
    stopwords: bool = True


class TextCleaner:
    """Callable that cleans one English text; ``clean_batch`` is the lazy, order-keeping batch form.

    Parameters
    ----------
    stopwords : frozenset of str or None
        The stopword list; None takes the project's one English list,
        ``dictionaries/en/stopwords.txt`` (NLTK's English list, shipped, so no NLTK data is needed).
    nltk_data, download : ignored
        Accepted for callers written when the list was read from NLTK's data; the shipped list
        is the same 179 words (a test compares them).
    options : CleanOptions
        Which steps to run.
    """

    def __init__(
        self,
        *,
        stopwords: frozenset[str] | None = None,
        nltk_data: Path | None = None,
        download: bool = False,
        options: CleanOptions = CleanOptions(),
    ) -> None:
        self.options = options
        if options.stopwords and stopwords is None:
            from nlpkit.tokenize.userdict import load_stopwords

            stopwords = load_stopwords("en")
        self.stopwords: frozenset[str] = stopwords or frozenset()

    def __call__(self, text: str) -> str:
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        opts = self.options
        if opts.html:
            text = strip_html(text)
        if opts.letters_only:
            text = letters_only(text)
        elif opts.lowercase:
            text = text.lower()
        words = text.split()
        if opts.stopwords:
            words = remove_stopwords(words, self.stopwords)
        return " ".join(words)

    def clean_batch(self, texts: Iterable[str]) -> Iterator[str]:
        """Clean ``texts`` lazily, keeping their order."""
        for text in texts:
            yield self(text)
