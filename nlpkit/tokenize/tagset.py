"""Tables mapping each backend's tags to the project tag set (:data:`nlpkit.tokenize.base.PTAGS`).

Families:

- ``sejong``: Komoran, Kiwi, mecab-ko and user dictionaries (``NNG``, ``NNP``, ``VV``, ...);
  Kiwi's irregular-conjugation suffixes (``VV-I``) and mecab-ko's compound tags (``VV+EP``)
  are mapped by their first part.
- ``kkma``: Kkma's 56 tags (``NNM``, ``VXV``, ``EFN``, ``OL`` ...).
- ``hannanum``: Hannanum's 22-tag set (``NC``, ``NQ``, ``PV``, ``JX``, ...).
- ``okt``: Open Korean Text (``Noun``, ``Josa``, ``Eomi``, ...).
- ``english``: Penn Treebank tags, plus ``WORD``/``NUM``/``PUNCT``/``SYM`` without a tagger.

Unknown tags map to ``X``; a test checks every tag a backend emits on real text is listed.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["TAGSETS", "BACKEND_FAMILY", "map_tag", "ptag_table", "SEJONG_TAGS"]

_SEJONG = {
    "NNG": "NOUN", "NNB": "NOUN", "NNBC": "NOUN", "NNP": "PROPN", "NP": "PRON", "NR": "NUM",
    "VV": "VERB", "VA": "ADJ", "VX": "AUX", "VCP": "AUX", "VCN": "AUX",
    "MM": "DET", "MAG": "ADV", "MAJ": "CONJ", "IC": "INTJ",
    "JKS": "PART", "JKC": "PART", "JKG": "PART", "JKO": "PART", "JKB": "PART", "JKV": "PART",
    "JKQ": "PART", "JX": "PART", "JC": "PART",
    "EP": "ENDING", "EF": "ENDING", "EC": "ENDING", "ETN": "ENDING", "ETM": "ENDING",
    "XPN": "AFFIX", "XSN": "AFFIX", "XSV": "AFFIX", "XSA": "AFFIX", "XSM": "AFFIX", "XR": "AFFIX",
    "SF": "PUNCT", "SE": "PUNCT", "SS": "PUNCT", "SSO": "PUNCT", "SSC": "PUNCT", "SP": "PUNCT",
    "SC": "PUNCT", "SO": "SYM", "SW": "SYM", "SY": "SYM", "SB": "SYM",
    "SH": "HANJA", "SL": "FOREIGN", "SN": "NUM",
    "NA": "X", "NF": "NOUN", "NV": "VERB", "UN": "X",
    # Kiwi extras
    "W_URL": "SYM", "W_EMAIL": "SYM", "W_HASHTAG": "SYM", "W_MENTION": "SYM", "W_SERIAL": "NUM",
    "W_EMOJI": "SYM", "Z_CODA": "ENDING", "Z_SIOT": "PART", "USER0": "X", "USER1": "X", "USER2": "X",
    "USER3": "X", "USER4": "X",
}
#: Tags allowed in user dictionaries (Sejong, as Komoran/Kiwi/mecab-ko use them).
SEJONG_TAGS: frozenset[str] = frozenset(k for k in _SEJONG if not k.startswith(("W_", "Z_", "USER")))

_KKMA = {
    "NNG": "NOUN", "NNB": "NOUN", "NNM": "NOUN", "NNP": "PROPN", "NP": "PRON", "NR": "NUM",
    "VV": "VERB", "VA": "ADJ", "VXV": "AUX", "VXA": "AUX", "VCP": "AUX", "VCN": "AUX",
    "MDT": "DET", "MDN": "DET", "MAG": "ADV", "MAC": "CONJ", "IC": "INTJ",
    "JKS": "PART", "JKC": "PART", "JKG": "PART", "JKO": "PART", "JKM": "PART", "JKI": "PART",
    "JKQ": "PART", "JX": "PART", "JC": "PART",
    "EPH": "ENDING", "EPT": "ENDING", "EPP": "ENDING", "EFN": "ENDING", "EFQ": "ENDING", "EFO": "ENDING",
    "EFA": "ENDING", "EFI": "ENDING", "EFR": "ENDING", "ECE": "ENDING", "ECD": "ENDING", "ECS": "ENDING",
    "ETN": "ENDING", "ETD": "ENDING",
    "XPN": "AFFIX", "XPV": "AFFIX", "XSN": "AFFIX", "XSV": "AFFIX", "XSA": "AFFIX", "XR": "AFFIX",
    "SF": "PUNCT", "SP": "PUNCT", "SS": "PUNCT", "SE": "PUNCT", "SO": "SYM", "SW": "SYM",
    "OL": "FOREIGN", "OH": "HANJA", "ON": "NUM", "UN": "X", "UV": "VERB", "UE": "X", "UA": "X",
}
_HANNANUM = {
    "NC": "NOUN", "NB": "NOUN", "NQ": "PROPN", "NP": "PRON", "NN": "NUM",
    "PV": "VERB", "PA": "ADJ", "PX": "AUX", "MM": "DET", "MA": "ADV", "II": "INTJ",
    "JC": "PART", "JX": "PART", "JP": "AUX",
    "EP": "ENDING", "EF": "ENDING", "EC": "ENDING", "ET": "ENDING",
    "XP": "AFFIX", "XS": "AFFIX", "S": "PUNCT", "SF": "PUNCT", "SP": "PUNCT", "SL": "PUNCT", "SR": "PUNCT",
    "SD": "PUNCT", "SE": "PUNCT", "SU": "SYM", "SY": "SYM", "F": "FOREIGN",
    # the 9-tag set
    "N": "NOUN", "P": "VERB", "M": "ADV", "I": "INTJ", "J": "PART", "E": "ENDING", "X": "AFFIX",
}
_OKT = {
    "Noun": "NOUN", "ProperNoun": "PROPN", "Verb": "VERB", "Adjective": "ADJ", "Adverb": "ADV",
    "Determiner": "DET", "Modifier": "DET", "Conjunction": "CONJ", "Exclamation": "INTJ",
    "Josa": "PART", "PreEomi": "ENDING", "Eomi": "ENDING", "Suffix": "AFFIX", "VerbPrefix": "AFFIX",
    "Punctuation": "PUNCT", "Foreign": "FOREIGN", "Alpha": "FOREIGN", "Number": "NUM",
    "KoreanParticle": "SYM", "Hashtag": "SYM", "ScreenName": "SYM", "Email": "SYM", "URL": "SYM",
    "CashTag": "SYM", "Unknown": "X", "Space": "X", "Others": "X",
}
_PENN = {
    "NN": "NOUN", "NNS": "NOUN", "NNP": "PROPN", "NNPS": "PROPN", "PRP": "PRON", "PRP$": "PRON",
    "WP": "PRON", "WP$": "PRON", "CD": "NUM", "VB": "VERB", "VBD": "VERB", "VBG": "VERB", "VBN": "VERB",
    "VBP": "VERB", "VBZ": "VERB", "MD": "AUX", "JJ": "ADJ", "JJR": "ADJ", "JJS": "ADJ", "RB": "ADV",
    "RBR": "ADV", "RBS": "ADV", "WRB": "ADV", "DT": "DET", "PDT": "DET", "WDT": "DET", "CC": "CONJ",
    "IN": "PART", "TO": "PART", "RP": "PART", "POS": "PART", "UH": "INTJ", "EX": "PRON", "FW": "FOREIGN",
    "SYM": "SYM", "LS": "SYM", ".": "PUNCT", ",": "PUNCT", ":": "PUNCT", "``": "PUNCT", "''": "PUNCT",
    "(": "PUNCT", ")": "PUNCT", "#": "SYM", "$": "SYM", "-LRB-": "PUNCT", "-RRB-": "PUNCT",
    # without a tagger
    "WORD": "WORD", "NUM": "NUM", "PUNCT": "PUNCT",
}

TAGSETS: dict[str, dict[str, str]] = {
    "sejong": _SEJONG, "kkma": _KKMA, "hannanum": _HANNANUM, "okt": _OKT, "english": _PENN,
}
BACKEND_FAMILY: dict[str, str] = {
    "komoran": "sejong", "kiwi": "sejong", "mecab": "sejong", "kkma": "kkma", "hannanum": "hannanum",
    "okt": "okt", "english": "english", "user": "sejong",
}


@lru_cache(maxsize=4096)
def map_tag(backend: str, tag: str) -> str:
    """Project tag of ``tag`` as emitted by ``backend`` (``X`` when unknown).

    >>> map_tag("komoran", "NNP"), map_tag("okt", "Josa"), map_tag("kiwi", "VV-I")
    ('PROPN', 'PART', 'VERB')
    """
    table = TAGSETS[BACKEND_FAMILY.get(backend, backend)]
    hit = table.get(tag)
    if hit is not None:
        return hit
    head = tag.split("+", 1)[0].split("-", 1)[0] if tag not in ("-LRB-", "-RRB-") else tag
    return table.get(head, "X")


class _PtagTable(dict):  # type: ignore[type-arg]
    """Backend tag -> project tag, filled on first sight of each tag (a plain dict lookup afterwards)."""

    def __init__(self, backend: str) -> None:
        super().__init__()
        self.backend = backend

    def __missing__(self, tag: str) -> str:
        self[tag] = value = map_tag(self.backend, tag)
        return value


@lru_cache(maxsize=None)
def ptag_table(backend: str) -> dict[str, str]:
    """``ptag_table(backend)[tag]`` equals ``map_tag(backend, tag)``: for loops over every token."""
    return _PtagTable(backend)
