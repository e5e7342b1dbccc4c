"""How documents become the terms TF-IDF counts: a tokenizer backend plus a view over its tokens.

A *terms config* is a small JSON-able dict stored with every index, so a query is turned into
terms exactly like the corpus was::

    {"tokenizer": "kiwi", "options": {}, "user_dicts": [], "view": "morphs",
     "stopwords": "ko", "lowercase": False, "char_ngrams": None}

``tokenizer="regex"`` is a fast built-in for English: lower-cased words of 2+ letters/digits
(scikit-learn's default token pattern), with no tagger behind it. ``char_ngrams=(2, 3)``
adds character n-grams taken inside each token (Korean: they match across inflected forms).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from nlpkit.errors import FeatureError
from nlpkit.tokenize.userdict import DEFAULT_KO_DICT

__all__ = ["DEFAULT_TERMS", "terms_config", "make_analyzer", "terms_from_tokens", "analyze_batch", "char_ngrams",
           "detect_language"]

_WORD = re.compile(r"(?u)\b\w\w+\b")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")

DEFAULT_TERMS: dict[str, dict[str, Any]] = {
    # the project's Korean user dictionary keeps terms like 두산에너빌리티 whole, as in the tokenize flow
    "ko": {"tokenizer": "kiwi", "options": {}, "user_dicts": [str(DEFAULT_KO_DICT)], "view": "content", "stopwords": None,
           "lowercase": True, "char_ngrams": None},
    "en": {"tokenizer": "english", "options": {"lemmatize": False}, "user_dicts": [], "view": "morphs",
           "stopwords": "en", "lowercase": True, "char_ngrams": None},
}
_KEYS = {"tokenizer", "options", "user_dicts", "view", "stopwords", "lowercase", "char_ngrams", "drop_punct"}


def detect_language(texts: Sequence[str]) -> str:
    """``"ko"`` when Hangul makes up more than 10% of the letters of a sample, else ``"en"``."""
    sample = "".join(texts[:200])
    letters = sum(ch.isalpha() for ch in sample)
    return "ko" if letters and len(_HANGUL.findall(sample)) / letters > 0.1 else "en"


def terms_config(tokenizer: str | None = None, language: str = "en", **overrides: Any) -> dict[str, Any]:
    """A complete terms config: the language's default, with ``tokenizer`` and ``overrides`` applied."""
    unknown = sorted(set(overrides) - _KEYS)
    if unknown:
        raise FeatureError(f"unknown terms option(s) {unknown}; allowed: {', '.join(sorted(_KEYS))}")
    cfg = dict(DEFAULT_TERMS["ko" if language == "ko" else "en"])
    if tokenizer is not None and tokenizer != cfg["tokenizer"]:
        cfg.update(tokenizer=tokenizer, options={})
    cfg.update(overrides)
    cfg.setdefault("drop_punct", True)
    if cfg["char_ngrams"] is not None:
        cfg["char_ngrams"] = list(cfg["char_ngrams"])
    return cfg


def char_ngrams(words: Iterable[str], ngram_range: Sequence[int]) -> list[str]:
    """Character n-grams inside each word, padded with spaces like scikit-learn's ``char_wb``."""
    lo, hi = int(ngram_range[0]), int(ngram_range[1])
    out: list[str] = []
    for w in words:
        padded = f" {w} "
        for n in range(lo, hi + 1):
            out.extend(padded[i: i + n] for i in range(len(padded) - n + 1))
    return out


def _analyzer(cfg: dict[str, Any]) -> Any:
    from nlpkit.tokenize import TokenAnalyzer

    return TokenAnalyzer(tokenizer=cfg["tokenizer"], options=cfg.get("options") or {},
                         user_dicts=tuple(cfg.get("user_dicts") or ()), view=cfg.get("view", "morphs"),
                         stopwords=cfg.get("stopwords"), lowercase=bool(cfg.get("lowercase")))


def terms_from_tokens(tokens: Sequence[Any], cfg: dict[str, Any], analyzer: Any | None = None) -> list[str]:
    """Terms of one analysed document (``Token`` list) under ``cfg`` (no re-analysis)."""
    if cfg.get("drop_punct", True):
        tokens = [t for t in tokens if t.ptag not in ("PUNCT", "SYM")]
    analyzer = analyzer or _analyzer(cfg)
    terms = analyzer.terms(list(tokens))
    if cfg.get("char_ngrams"):
        terms = terms + char_ngrams([t.form.lower() for t in tokens], cfg["char_ngrams"])
    return terms


def _regex_terms(text: str, cfg: dict[str, Any], stop: frozenset[str]) -> list[str]:
    words = _WORD.findall(text.lower())
    if stop:
        words = [w for w in words if w not in stop]
    if cfg.get("char_ngrams"):
        words = words + char_ngrams(words, cfg["char_ngrams"])
    return words


def _stop(cfg: dict[str, Any]) -> frozenset[str]:
    if not cfg.get("stopwords"):
        return frozenset()
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def make_analyzer(cfg: dict[str, Any]) -> Callable[[str], list[str]]:
    """``text -> terms`` for one query, consistent with :func:`analyze_batch` on the corpus."""
    if cfg["tokenizer"] == "regex":
        stop = _stop(cfg)
        return lambda text: _regex_terms(text, cfg, stop)
    analyzer = _analyzer(cfg)
    engine = analyzer._engine()

    def analyze(text: str) -> list[str]:
        return terms_from_tokens(engine.tokenize(text), cfg, analyzer)

    analyze.engine = engine  # type: ignore[attr-defined]
    return analyze


def analyze_batch(texts: Iterable[str], cfg: dict[str, Any]) -> Iterator[list[str]]:
    """Terms of many texts through the backend's batch path (input order kept)."""
    if cfg["tokenizer"] == "regex":
        stop = _stop(cfg)
        for text in texts:
            yield _regex_terms(text, cfg, stop)
        return
    analyzer = _analyzer(cfg)
    for toks in analyzer._engine().tokenize_batch(texts):
        yield terms_from_tokens(toks, cfg, analyzer)
