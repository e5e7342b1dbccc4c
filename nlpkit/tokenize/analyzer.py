"""A scikit-learn analyzer over any backend: ``TfidfVectorizer(analyzer=TokenAnalyzer(tokenizer="okt"))``.

The analyzer is configured by name and options only; the engine is looked up lazily in
the process (``get_tokenizer``) and never pickled, so the vectorizer survives ``clone``,
``pickle`` and joblib workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from sklearn.base import BaseEstimator

from nlpkit.tokenize.base import VIEWS, Token, view_terms
from nlpkit.tokenize.registry import get_tokenizer
from nlpkit.tokenize.userdict import load_stopwords

__all__ = ["TokenAnalyzer", "VIEWS"]

View = Literal["morphs", "nouns", "content", "lemmas", "pos", "analyst"]


class TokenAnalyzer(BaseEstimator):
    """Callable ``doc -> list[str]`` for scikit-learn's ``analyzer=`` parameter.

    Parameters
    ----------
    tokenizer : str
        Backend name (see ``nlpkit.tokenize.BACKENDS``).
    options : mapping or None
        Backend options, e.g. ``{"norm": True, "stem": True}`` for Okt.
    user_dicts : tuple of str
        User dictionary paths.
    view : {"morphs", "nouns", "content", "lemmas", "pos", "analyst"}
        Which strings to emit: all forms, nouns, content words, lemmas, or ``form/PTAG``.
    stopwords : None, "ko", "en" or path
        Words dropped from the output (``dictionaries/<lang>/stopwords.txt`` for a language code).
    lowercase : bool
        Lower-case the emitted strings (useful for English and Latin letters in Korean text).

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> vec = TfidfVectorizer(analyzer=TokenAnalyzer(tokenizer="kiwi", view="nouns"))  # doctest: +SKIP
    """

    def __init__(self, *, tokenizer: str = "kiwi", options: Mapping[str, Any] | None = None,
                 user_dicts: tuple[str, ...] = (), view: View = "morphs", stopwords: str | None = None,
                 lowercase: bool = False) -> None:
        self.tokenizer = tokenizer
        self.options = options
        self.user_dicts = user_dicts
        self.view = view
        self.stopwords = stopwords
        self.lowercase = lowercase

    # -- engine, re-created lazily and never pickled ----------------------------------------
    def _engine(self) -> Any:
        tok = self.__dict__.get("_tok")
        if tok is None:
            if self.view not in VIEWS:
                raise ValueError(f"view must be one of {', '.join(VIEWS)}; got {self.view!r}")
            tok = get_tokenizer(self.tokenizer, user_dicts=tuple(self.user_dicts), **dict(self.options or {}))
            self.__dict__["_tok"] = tok
            self.__dict__["_stop"] = self._load_stopwords()
        return tok

    def _load_stopwords(self) -> frozenset[str]:
        if self.stopwords is None:
            return frozenset()
        if self.stopwords in ("ko", "en"):
            return load_stopwords(self.stopwords)
        return load_stopwords(path=Path(self.stopwords))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_tok", None)
        state.pop("_stop", None)
        return state

    # -- analysis -------------------------------------------------------------------------------
    def terms(self, tokens: list[Token]) -> list[str]:
        """The strings this analyzer emits for already analysed ``tokens`` (no re-analysis)."""
        self._engine()
        stop: frozenset[str] = self.__dict__["_stop"]
        out = view_terms(tokens, self.view)
        if self.lowercase:
            out = [w.lower() for w in out]
        if stop:
            out = [w for w in out if w.split("/", 1)[0] not in stop]
        return out

    def __call__(self, doc: str) -> list[str]:
        if not isinstance(doc, str):
            raise TypeError(f"TokenAnalyzer expects one str document, got {type(doc).__name__}")
        return self.terms(self._engine().tokenize(doc))

    def analyze_batch(self, docs: Iterable[str]) -> Iterator[list[str]]:
        """Like calling the analyzer on each doc, but through the backend's batch path."""
        for toks in self._engine().tokenize_batch(docs):
            yield self.terms(toks)
