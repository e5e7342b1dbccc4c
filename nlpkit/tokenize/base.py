"""The tokenization contract every backend implements: ``Token``, ``Tokenizer`` and derived views.

A backend analyses text once into a list of :class:`Token`; everything else (``morphs``,
``nouns``, ``pos``, content-word filters) is a view over those tokens and never re-analyses.

Example
-------
>>> from nlpkit.tokenize import get_tokenizer, nouns
>>> tok = get_tokenizer("kiwi")                        # doctest: +SKIP
>>> toks = tok.tokenize("두산에너빌리티가 원전을 수주했다")  # doctest: +SKIP
>>> nouns(toks)                                        # doctest: +SKIP
['두산에너빌리티', '원전', '수주']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, NamedTuple, Protocol, runtime_checkable

__all__ = [
    "PTAGS",
    "CONTENT_PTAGS",
    "NOUN_PTAGS",
    "PTag",
    "Token",
    "Tokenizer",
    "morphs",
    "nouns",
    "pos",
    "content_words",
    "filter_ptags",
    "lemmas",
    "ANALYST_PTAGS",
    "CLITICS",
    "analyst_terms",
    "VIEWS",
    "view_terms",
]

#: The project tag set every backend's tags are mapped to (see ``nlpkit.tokenize.tagset``).
PTag = Literal[
    "NOUN",     # common noun, dependent noun (NNG, NNB, Noun)
    "PROPN",    # proper noun (NNP, ProperNoun)
    "PRON",     # pronoun (NP)
    "NUM",      # numeral, number (NR, SN, Number)
    "VERB",     # verb stem (VV, Verb)
    "ADJ",      # adjective stem (VA, Adjective)
    "AUX",      # auxiliary predicate, copula (VX, VCP, VCN)
    "ADV",      # adverb (MAG, Adverb)
    "CONJ",     # conjunctive adverb / conjunction (MAJ, Conjunction)
    "DET",      # determiner (MM, Determiner)
    "INTJ",     # interjection (IC, Exclamation)
    "PART",     # particle / josa (JKS, JX, ..., Josa)
    "ENDING",   # verbal ending (EP, EF, EC, ETN, ETM, Eomi, PreEomi)
    "AFFIX",    # prefix / suffix / root (XPN, XSN, XSV, XR, Suffix)
    "FOREIGN",  # foreign-script word (SL, Alpha, Foreign)
    "HANJA",    # Chinese characters (SH)
    "PUNCT",    # punctuation (SF, SP, SS, SE, Punctuation)
    "SYM",      # other symbols, emoji (SO, SW)
    "WORD",     # word without a POS model (English when NLTK's tagger data is missing)
    "X",        # unknown / unanalysable (NA, UN, Unknown)
]
PTAGS: tuple[str, ...] = PTag.__args__  # type: ignore[attr-defined]
NOUN_PTAGS: frozenset[str] = frozenset({"NOUN", "PROPN"})
#: Content words: what TF-IDF and similarity usually keep.
CONTENT_PTAGS: frozenset[str] = frozenset(
    {"NOUN", "PROPN", "VERB", "ADJ", "ADV", "FOREIGN", "HANJA", "NUM", "WORD"}
)


class Token(NamedTuple):
    """One analysed unit with offsets into the source text (immutable; a NamedTuple because
    tokens are built by the million: 4x cheaper to create than a frozen dataclass).

    Attributes
    ----------
    form : str
        Surface form as the backend returns it (normalized by Okt ``norm=True``; restored
        morphemes such as ``하``/``았`` for ``했`` carry the span of the source characters).
    tag : str
        The backend's own tag (``NNP``, ``Noun``, ...).
    ptag : str
        ``tag`` mapped to the project tag set :data:`PTAGS`.
    lemma : str or None
        Dictionary form where the backend gives one (Okt ``stem=True``, English lemmatizer).
    start, end : int
        ``text[start:end]`` is the source span of the token.
    """

    form: str
    tag: str
    ptag: str
    lemma: str | None
    start: int
    end: int

    def to_dict(self) -> dict[str, object]:
        """Plain dict (for JSON output)."""
        return {"form": self.form, "tag": self.tag, "ptag": self.ptag, "lemma": self.lemma,
                "start": self.start, "end": self.end}


@runtime_checkable
class Tokenizer(Protocol):
    """What every backend offers, with the same signatures everywhere.

    Backend options (``norm``, ``stem``, user dictionaries, ...) go to the constructor;
    ``get_tokenizer(name, **options)`` builds one.
    """

    #: Registered backend name, e.g. ``"okt"``.
    name: str

    @property
    def config(self) -> dict[str, object]:
        """JSON-able configuration that re-creates this tokenizer (name, options, dictionaries)."""
        ...

    @property
    def fingerprint(self) -> str:
        """sha256 over backend, options and dictionary contents: what cached tokens depend on."""
        ...

    def tokenize(self, text: str) -> list[Token]:
        """Analyse one text; an empty or blank text gives ``[]``."""
        ...

    def tokenize_batch(self, texts: Iterable[str]) -> Iterator[list[Token]]:
        """Analyse many texts lazily; one result per input, in input order (``[]`` for empty input)."""
        ...


# -- views (never re-analyse) ------------------------------------------------------------
def morphs(tokens: Sequence[Token]) -> list[str]:
    """Forms of all tokens, KoNLPy's ``morphs``."""
    return [t.form for t in tokens]


def pos(tokens: Sequence[Token], *, project_tags: bool = False) -> list[tuple[str, str]]:
    """``(form, tag)`` pairs, KoNLPy's ``pos``; ``project_tags=True`` gives the mapped tag."""
    if project_tags:
        return [(t.form, t.ptag) for t in tokens]
    return [(t.form, t.tag) for t in tokens]


def nouns(tokens: Sequence[Token]) -> list[str]:
    """Forms of common and proper nouns."""
    return [t.form for t in tokens if t.ptag in NOUN_PTAGS]


def filter_ptags(tokens: Sequence[Token], ptags: Iterable[str]) -> list[Token]:
    """Tokens whose project tag is in ``ptags`` (validated against :data:`PTAGS`)."""
    wanted = frozenset(ptags)
    unknown = sorted(wanted.difference(PTAGS))
    if unknown:
        raise ValueError(f"unknown project tag(s) {unknown}; allowed: {', '.join(PTAGS)}")
    return [t for t in tokens if t.ptag in wanted]


def content_words(tokens: Sequence[Token], *, stopwords: frozenset[str] | set[str] = frozenset(),
                  use_lemma: bool = False) -> list[str]:
    """Forms (or lemmas) of content words (:data:`CONTENT_PTAGS`) not in ``stopwords``."""
    out = []
    for t in tokens:
        if t.ptag not in CONTENT_PTAGS:
            continue
        word = (t.lemma or t.form) if use_lemma else t.form
        if word not in stopwords:
            out.append(word)
    return out


def lemmas(tokens: Sequence[Token]) -> list[str]:
    """Lemma where the backend gave one, else the form."""
    return [t.lemma or t.form for t in tokens]


#: What an analyst reads as a term (keywords, cluster terms, trends, related words): nouns, proper nouns,
#: foreign words, hanja and numbers, plus untagged words (English without NLTK's tagger data).
ANALYST_PTAGS: frozenset[str] = frozenset({"NOUN", "PROPN", "FOREIGN", "HANJA", "NUM", "WORD"})
#: Dependent nouns (Sejong NNB/NNBC, Kkma NNM, Hannanum NB: 것, 수, 등, 때문, 명, 년): a term only as the
#: unit of a number right before them ("16만 명" -> "16만명", "2017년").
_DEPENDENT_NOUN_TAGS = frozenset({"NNB", "NNBC", "NNM", "NB"})
#: English clitics the word tokenizer splits off ("Trump's" -> "trump", "'s"); never a term.
CLITICS: frozenset[str] = frozenset({"'s", "'re", "'ve", "'ll", "'d", "'m", "n't", "’s", "’re", "’ve", "’ll", "’d",
                                     "’m", "n’t", "s", "t"})


def _is_unit(t: Token) -> bool:
    return (t.ptag == "NOUN" and t.tag in _DEPENDENT_NOUN_TAGS) or (t.ptag == "SYM" and len(t.form) == 1)


def analyst_terms(tokens: Sequence[Token]) -> list[str]:
    """Content words an analyst reads: nouns, proper nouns, foreign words, hanja and numbers with their
    unit; never verb/adjective stems, adverbs, particles, endings, affixes, dependent nouns on their own
    or English clitics.

    >>> [(t.form, t.tag) for t in toks]           # doctest: +SKIP
    [('공공', 'NNG'), ('16', 'SN'), ('만', 'NR'), ('명', 'NNB'), ('전환', 'NNG'), ('때문', 'NNB'), ('에', 'JKB')]
    >>> analyst_terms(toks)                       # doctest: +SKIP
    ['공공', '16만명', '전환']
    """
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        t = tokens[i]
        if t.ptag == "NUM":  # a number: adjacent numeric pieces, then a unit within one space
            form, j = t.form, i
            while j + 1 < n and tokens[j + 1].ptag == "NUM" and tokens[j + 1].start == tokens[j].end:
                j += 1
                form += tokens[j].form
            if j + 1 < n and _is_unit(tokens[j + 1]) and 0 <= tokens[j + 1].start - tokens[j].end <= 1:
                j += 1
                form += tokens[j].form
            out.append(form)
            i = j + 1
            continue
        if t.ptag in ANALYST_PTAGS and t.tag not in _DEPENDENT_NOUN_TAGS and t.form.lower() not in CLITICS \
                and any(c.isalnum() for c in t.form):
            out.append(t.form)
        i += 1
    return out


#: Named views over tokens (the strings a term spec or an analyzer emits); defined here only.
VIEWS: tuple[str, ...] = ("morphs", "nouns", "content", "lemmas", "pos", "analyst")


def view_terms(tokens: Sequence[Token], view: str) -> list[str]:
    """Strings of ``view`` over ``tokens``: all forms, nouns, content words, lemmas, ``form/PTAG``, or the
    analyst's terms (:func:`analyst_terms`)."""
    if view == "morphs":
        return morphs(tokens)
    if view == "nouns":
        return nouns(tokens)
    if view == "content":
        return content_words(tokens)
    if view == "lemmas":
        return lemmas(tokens)
    if view == "pos":
        return [f"{t.form}/{t.ptag}" for t in tokens]
    if view == "analyst":
        return analyst_terms(tokens)
    raise ValueError(f"view must be one of {', '.join(VIEWS)}; got {view!r}")
