"""``TermSpec``: how a corpus becomes terms -- the one object features, the baseline and KorSTS pass around.

A spec is frozen and JSON round-trips; it is stored with every artifact built from it (feature
indexes, baseline models, KorSTS results) so a query or a new text is turned into terms
exactly like the corpus was. Its :attr:`~TermSpec.fingerprint` covers every field and the
contents of the user dictionaries and the stopword list; :meth:`~TermSpec.stale_dicts` says
which dictionaries changed since the spec was made.

>>> spec = TermSpec(backend="regex", stopwords="en")
>>> spec.analyze("The movie was GREAT")
['movie', 'great']
>>> TermSpec.from_json(spec.to_json()) == spec
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from nlpkit.errors import TokenizerError
from nlpkit.tokenize.base import VIEWS, Token, view_terms
from nlpkit.tokenize.userdict import DEFAULT_KO_DICT, DICTIONARIES_DIR, load_stopwords

__all__ = ["DROP_PTAGS", "TermSpec", "default_spec", "char_ngrams", "word_ngrams", "file_sha256"]

_FORMAT = 1
DROP_PTAGS = ("PUNCT", "SYM")  # project tags drop_punct removes


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes ('' when it cannot be read: a missing dictionary is reported on use)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def char_ngrams(words: Iterable[str], ngram_range: Sequence[int]) -> list[str]:
    """Character n-grams inside each word, padded with spaces like scikit-learn's ``char_wb``."""
    lo, hi = int(ngram_range[0]), int(ngram_range[1])
    out: list[str] = []
    for w in words:
        padded = f" {w} "
        for n in range(lo, hi + 1):
            out.extend(padded[i: i + n] for i in range(len(padded) - n + 1))
    return out


def word_ngrams(terms: Sequence[str], ngram_max: int) -> list[str]:
    """``terms`` then their 2..``ngram_max``-grams joined by a space (scikit-learn's ``_word_ngrams`` order)."""
    out = list(terms)
    for size in range(2, ngram_max + 1):
        out.extend(" ".join(terms[i: i + size]) for i in range(len(terms) - size + 1))
    return out


def _stopword_path(stopwords: str | None) -> Path | None:
    if not stopwords:
        return None
    return DICTIONARIES_DIR / stopwords / "stopwords.txt" if stopwords in ("ko", "en") else Path(stopwords)


@dataclass(frozen=True)
class TermSpec:
    """Backend + options + user dictionaries + view + stopwords + case + n-grams.

    Attributes
    ----------
    backend : str
        A registered tokenizer (``kiwi``, ``mecab``, ``english``, ``regex``, ``words``, ...).
    options : tuple of (name, value)
        Backend options, sorted (``dict(spec.options)`` gives them back).
    user_dicts : tuple of str
        User dictionary paths; ``dict_sha256`` holds the sha256 of each when the spec was made.
    view : str
        One of :data:`nlpkit.tokenize.base.VIEWS` (``morphs``, ``nouns``, ``content``, ``lemmas``, ``pos``).
    stopwords : None, "ko", "en" or a path
        ``dictionaries/<lang>/stopwords.txt`` for a language code.
    lowercase, drop_punct : bool
    ngram_max : int
        Word n-grams 1..ngram_max over the terms.
    char_ngrams : (int, int) or None
        Character n-grams inside each token, added to the terms.
    """

    backend: str
    options: tuple[tuple[str, Any], ...] = ()
    user_dicts: tuple[str, ...] = ()
    view: str = "morphs"
    stopwords: str | None = None
    lowercase: bool = True
    drop_punct: bool = True
    ngram_max: int = 1
    char_ngrams: tuple[int, int] | None = None
    dict_sha256: tuple[str, ...] = field(default=(), compare=True)

    def __post_init__(self) -> None:
        if isinstance(self.options, Mapping):
            object.__setattr__(self, "options", tuple(sorted(dict(self.options).items())))
        object.__setattr__(self, "user_dicts", tuple(str(p) for p in self.user_dicts))
        if self.char_ngrams is not None:
            lo, hi = (int(v) for v in self.char_ngrams)
            if not 1 <= lo <= hi:
                raise TokenizerError(f"char_ngrams must be (lo, hi) with 1 <= lo <= hi; got {self.char_ngrams!r}")
            object.__setattr__(self, "char_ngrams", (lo, hi))
        if self.view not in VIEWS:
            raise TokenizerError(f"view must be one of {', '.join(VIEWS)}; got {self.view!r}")
        if not isinstance(self.ngram_max, int) or self.ngram_max < 1:
            raise TokenizerError(f"ngram_max must be an integer >= 1; got {self.ngram_max!r}")
        if not self.dict_sha256 or len(self.dict_sha256) != len(self.user_dicts):
            object.__setattr__(self, "dict_sha256", tuple(file_sha256(p) for p in self.user_dicts))

    # -- identity --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["options"] = dict(self.options)
        d["user_dicts"], d["dict_sha256"] = list(self.user_dicts), list(self.dict_sha256)
        d["char_ngrams"] = list(self.char_ngrams) if self.char_ngrams else None
        d["format"] = _FORMAT
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TermSpec:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known - {"format"})
        if unknown or "backend" not in d:
            raise TokenizerError(f"not a term spec: unknown key(s) {unknown} or no 'backend'; "
                                 f"allowed: {', '.join(sorted(known))}")
        kw = {k: v for k, v in d.items() if k in known}
        kw["user_dicts"] = tuple(kw.get("user_dicts") or ())
        kw["dict_sha256"] = tuple(kw.get("dict_sha256") or ())
        if kw.get("char_ngrams") is not None:
            kw["char_ngrams"] = tuple(kw["char_ngrams"])
        return cls(**kw)

    @classmethod
    def from_json(cls, text: str) -> TermSpec:
        try:
            return cls.from_dict(json.loads(text))
        except (json.JSONDecodeError, TypeError) as e:
            raise TokenizerError(f"term spec is not valid JSON ({e}); rebuild the artifact") from e

    @cached_property
    def fingerprint(self) -> str:
        """sha256 over every field, the dictionaries' contents and the stopword list's contents."""
        stop = _stopword_path(self.stopwords)
        payload = {**self.to_dict(), "stopwords_sha256": file_sha256(stop) if stop else ""}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def stale_dicts(self) -> list[str]:
        """User dictionaries whose contents changed since this spec recorded their sha256."""
        return [p for p, sha in zip(self.user_dicts, self.dict_sha256) if file_sha256(p) != sha]

    def refreshed(self) -> TermSpec:
        """The same spec with the dictionaries' current sha256."""
        return replace(self, dict_sha256=())

    def with_options(self, **changes: Any) -> TermSpec:
        return replace(self, **changes, dict_sha256=() if "user_dicts" in changes else self.dict_sha256)

    # -- use -----------------------------------------------------------------------------------------
    def tokenizer(self) -> Any:
        from nlpkit.tokenize.registry import get_tokenizer

        return get_tokenizer(self.backend, user_dicts=self.user_dicts, **dict(self.options))

    @cached_property
    def stopword_set(self) -> frozenset[str]:
        path = _stopword_path(self.stopwords)
        return load_stopwords(path=path) if path else frozenset()

    def terms(self, tokens: Sequence[Token]) -> list[str]:
        """Terms of one analysed document (no re-analysis)."""
        if self.drop_punct and self.view != "analyst":  # the analyst view keeps "%" etc. as a number's unit
            tokens = [t for t in tokens if t.ptag not in DROP_PTAGS]
        out = self._finish(view_terms(tokens, self.view))
        if self.char_ngrams:
            out = out + char_ngrams([t.form.lower() for t in tokens], self.char_ngrams)
        return out

    @property
    def forms_only(self) -> bool:
        """True when the terms depend on the tokens' forms alone (after punctuation is dropped):
        view ``morphs`` and no character n-grams. Then :meth:`terms_of_forms` needs no ``Token``."""
        return self.view == "morphs" and not self.char_ngrams

    def terms_of_forms(self, forms: Sequence[str]) -> list[str]:
        """:meth:`terms` of a document given the forms of its tokens that punctuation dropping kept
        (read column-wise from stored tokens); only for a :attr:`forms_only` spec."""
        if not self.forms_only:
            raise TokenizerError(f"terms_of_forms needs view 'morphs' and no char_ngrams; this spec has view "
                                 f"{self.view!r}, char_ngrams {self.char_ngrams!r}: use terms(tokens)")
        return self._finish(list(forms))

    def _finish(self, out: list[str]) -> list[str]:
        """Case, stopwords and word n-grams over a view's strings."""
        if self.lowercase:
            out = [w.lower() for w in out]
        stop = self.stopword_set
        if stop:
            out = [w for w in out if w.split("/", 1)[0] not in stop]
        if self.ngram_max > 1:
            out = word_ngrams(out, self.ngram_max)
        return out

    def analyze(self, text: str) -> list[str]:
        """Terms of one new text, tokenized with exactly this spec."""
        return self.terms(self.tokenizer().tokenize(text))

    def analyze_batch(self, texts: Iterable[str]) -> Iterator[list[str]]:
        for toks in self.tokenizer().tokenize_batch(texts):
            yield self.terms(toks)


def default_spec(language: str, backend: str | None = None, *, user_dicts: Sequence[str | Path] | None = None,
                 stopwords: str | None = "", **changes: Any) -> TermSpec:
    """The project default for ``language`` ("ko": kiwi, the news dictionary and the Korean stopwords; else:
    english words and the English stopwords; both in the ``analyst`` view, the one term view of keywords,
    cluster terms, trends and related words: nouns, proper nouns, foreign words and numbers with their
    unit, see :func:`nlpkit.tokenize.base.analyst_terms`), with ``backend``/``changes`` applied.

    ``user_dicts=None`` keeps the default dictionary; ``stopwords=""`` keeps the default list.
    """
    if language == "ko":
        base = TermSpec(backend="kiwi", view="analyst", stopwords="ko", lowercase=True,
                        user_dicts=(str(DEFAULT_KO_DICT),))
    else:
        base = TermSpec(backend="english", options=(("lemmatize", False),), view="analyst", stopwords="en")
    kw: dict[str, Any] = dict(changes)
    if backend is not None and backend != base.backend:
        kw["backend"], kw["options"] = backend, ()
        if backend in ("regex", "words", "chars", "whitespace", "english"):
            kw.setdefault("user_dicts", ())
            if base.view == "content" and backend != "english":
                kw.setdefault("view", "morphs")
    if user_dicts is not None:
        kw["user_dicts"] = tuple(str(p) for p in user_dicts)
    if stopwords != "":
        kw["stopwords"] = stopwords
    return replace(base, **kw, dict_sha256=())
