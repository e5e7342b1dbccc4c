"""English backend through NLTK: word tokenization, lowercasing, stopwords, Porter stems, WordNet lemmas.

Uses NLTK's data when present (stopwords, perceptron tagger, WordNet) and falls back to
what needs no data otherwise (``NLTKWordTokenizer``, ``dictionaries/en/stopwords.txt``, untagged
``WORD`` tokens); a missing data package never crashes, it only logs once.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

from nlpkit.tokenize.base import Token
from nlpkit.tokenize.core import BaseTokenizer
from nlpkit.tokenize.tagset import map_tag

__all__ = ["EnglishTokenizer"]

log = logging.getLogger(__name__)
_NUM = re.compile(r"^[+-]?\d[\d,.:/-]*$")
_WORDISH = re.compile(r"\w", re.UNICODE)
_PUNCT = re.compile(r"^[^\w\s]+$")
_FALLBACK = re.compile(r"\w+(?:'\w+)?|[^\w\s]")
# Penn tag -> WordNet POS letter for the lemmatizer
_WN_POS = {"J": "a", "V": "v", "N": "n", "R": "r"}


def _has(resource: str) -> bool:
    import nltk

    for candidate in (resource, resource + ".zip"):
        try:
            nltk.data.find(candidate)
            return True
        except LookupError:
            continue
    return False


class EnglishTokenizer(BaseTokenizer):
    """NLTK word tokenizer with optional stopword removal, stemming and lemmatization.

    Options
    -------
    lowercase : bool, default True
        Lower-case forms (offsets still slice back: ``text[start:end].lower() == form``).
    remove_stopwords : bool, default False
        Drop the English stopwords of ``dictionaries/en/stopwords.txt`` (NLTK's list, shipped).
    stem : bool, default False
        Put the Porter stem in ``lemma`` (when WordNet lemmatization is off or unavailable).
    lemmatize : bool, default True
        WordNet lemma in ``lemma`` when NLTK's ``wordnet`` data is present.
    nltk_data : str or None
        Extra NLTK data directory (from ``Settings.nltk_data``).

    >>> [t.form for t in EnglishTokenizer().tokenize("The cats weren't here.")]  # doctest: +SKIP
    ['the', 'cats', 'were', "n't", 'here', '.']
    """

    name: ClassVar[str] = "english"
    default_options: ClassVar[dict[str, Any]] = {
        "lowercase": True, "remove_stopwords": False, "stem": False, "lemmatize": True, "nltk_data": None,
    }
    runtime_options: ClassVar[frozenset[str]] = frozenset({"nltk_data"})

    def _load(self) -> dict[str, Any]:
        import nltk
        from nltk.tokenize import NLTKWordTokenizer

        extra = self.options["nltk_data"]
        if extra and str(extra) not in nltk.data.path:
            nltk.data.path.insert(0, str(extra))
        eng: dict[str, Any] = {"words": NLTKWordTokenizer(), "stop": frozenset(), "tagger": None,
                               "wordnet": None, "stemmer": None}
        if self.options["remove_stopwords"]:  # the project's one English list (NLTK's words, shipped)
            from nlpkit.tokenize.userdict import load_stopwords

            eng["stop"] = load_stopwords("en")
        if _has("taggers/averaged_perceptron_tagger_eng"):
            from nltk.tag import PerceptronTagger

            eng["tagger"] = PerceptronTagger()
        if self.options["lemmatize"] and _has("corpora/wordnet"):
            from nltk.stem import WordNetLemmatizer

            eng["wordnet"] = WordNetLemmatizer()
        if self.options["stem"]:
            from nltk.stem import PorterStemmer

            eng["stemmer"] = PorterStemmer()
        return eng

    def _spans(self, chunk: str) -> list[tuple[int, int]]:
        try:
            return list(self._engine["words"].span_tokenize(chunk))
        except (ValueError, LookupError):  # NLTK's alignment fails on some quote patterns
            return [m.span() for m in _FALLBACK.finditer(chunk)]

    def _analyze(self, chunks: list[str]) -> list[list[Token]]:
        eng = self._engine
        lower = self.options["lowercase"]
        out = []
        for chunk in chunks:
            spans = self._spans(chunk)
            words = [chunk[s:e] for s, e in spans]
            if eng["tagger"] is not None and words:
                tags = [t for _, t in eng["tagger"].tag(words)]
            else:
                tags = ["NUM" if _NUM.match(w) else "PUNCT" if _PUNCT.match(w) else
                        "WORD" if _WORDISH.search(w) else "SYM" for w in words]
            toks = []
            for (s, e), w, tag in zip(spans, words, tags):
                form = w.lower() if lower else w
                if form.lower() in eng["stop"]:
                    continue
                lemma = None
                if eng["wordnet"] is not None and (tag[:1] in _WN_POS or tag == "WORD"):
                    lemma = eng["wordnet"].lemmatize(form.lower(), _WN_POS.get(tag[:1], "n"))
                elif eng["stemmer"] is not None and _WORDISH.search(w):
                    lemma = eng["stemmer"].stem(form)
                toks.append(Token(form, tag, map_tag("english", tag), lemma, s, e))
            out.append(toks)
        return out
