"""Backends by name: ``get_tokenizer(name, *, user_dicts=(), **options)``.

Backends are imported lazily (importing nlpkit never loads kiwipiepy, mecab or the JVM).
Tokenizers are created once per ``(name, options, dictionaries)`` and reused in the process.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nlpkit.errors import TokenizerError
from nlpkit.tokenize.base import Tokenizer

__all__ = ["BACKENDS", "FAST_BACKENDS", "get_tokenizer", "available_backends"]

#: name -> "module:Class" (imported on first use).
BACKENDS: dict[str, str] = {
    "english": "nlpkit.tokenize.english:EnglishTokenizer",
    "kiwi": "nlpkit.tokenize.kiwi:KiwiTokenizer",
    "mecab": "nlpkit.tokenize.mecab:MecabTokenizer",
    "okt": "nlpkit.tokenize.konlpy_backends:OktTokenizer",
    "komoran": "nlpkit.tokenize.konlpy_backends:KomoranTokenizer",
    "hannanum": "nlpkit.tokenize.konlpy_backends:HannanumTokenizer",
    "kkma": "nlpkit.tokenize.konlpy_backends:KkmaTokenizer",
    # rule-based, no engine (see nlpkit.tokenize.simple)
    "words": "nlpkit.tokenize.simple:WordsTokenizer",
    "chars": "nlpkit.tokenize.simple:CharsTokenizer",
    "whitespace": "nlpkit.tokenize.simple:WhitespaceTokenizer",
    "regex": "nlpkit.tokenize.simple:RegexTokenizer",
}
#: Backends fast enough for whole corpora (Kkma is opt-in: ~110 sentences/s).
FAST_BACKENDS: tuple[str, ...] = ("kiwi", "mecab", "komoran", "okt", "hannanum", "english", "words", "chars",
                                  "whitespace", "regex")

_instances: dict[str, Tokenizer] = {}
_lock = threading.Lock()


def _backend_class(name: str) -> type:
    try:
        target = BACKENDS[name]
    except KeyError:
        raise TokenizerError(f"unknown tokenizer {name!r}; choose one of: {', '.join(sorted(BACKENDS))}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def get_tokenizer(name: str, *, user_dicts: Iterable[str | Path] = (), **options: Any) -> Tokenizer:
    """A ready tokenizer for backend ``name`` (shared per name, options and dictionaries).

    Parameters
    ----------
    name : str
        One of :data:`BACKENDS`: ``english``, ``kiwi``, ``mecab``, ``okt``, ``komoran``,
        ``hannanum``, ``kkma``.
    user_dicts : paths
        User dictionaries in the ``dictionaries/`` TSV format.
    **options
        Backend options, e.g. ``norm=True, stem=True`` for Okt; unknown options are errors.

    Examples
    --------
    >>> tok = get_tokenizer("komoran", user_dicts=["dictionaries/ko/news.tsv"])  # doctest: +SKIP
    >>> [t.form for t in tok.tokenize("오징어 게임이 흥행했다")][:2]               # doctest: +SKIP
    ['오징어 게임', '이']
    """
    cls = _backend_class(name)
    dicts = tuple(str(Path(p).resolve()) if isinstance(p, (str, Path)) else p for p in
                  ([user_dicts] if isinstance(user_dicts, (str, Path)) else user_dicts))
    # the files' contents are part of the key: an edited dictionary gives a new tokenizer
    shas = [hashlib.sha256(Path(d).read_bytes()).hexdigest() if isinstance(d, str) and Path(d).is_file() else str(d)
            for d in dicts]
    key = json.dumps([name, sorted(options.items()), [str(d) for d in dicts], shas], default=str)
    with _lock:
        tok = _instances.get(key)
        if tok is None:
            tok = cls(user_dicts=dicts, **options)
            _instances[key] = tok
    return tok


def available_backends() -> dict[str, str]:
    """Backend name -> '' when its dependency imports, else the reason it cannot be used."""
    out: dict[str, str] = {}
    for name in BACKENDS:
        try:
            cls = _backend_class(name)
            check = getattr(cls, "check_available", None)
            out[name] = check() if check else ""
        except ImportError as e:
            out[name] = str(e)
    return out
