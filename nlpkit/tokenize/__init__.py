"""Korean and English tokenization behind one protocol.

>>> from nlpkit.tokenize import get_tokenizer, nouns
>>> tok = get_tokenizer("kiwi", user_dicts=["dictionaries/ko/news.tsv"])   # doctest: +SKIP
>>> nouns(tok.tokenize("에코프로비엠 주가가 올랐다"))                         # doctest: +SKIP
['에코프로비엠', '주가']

Backends: ``words``, ``chars``, ``whitespace``, ``regex`` (rule-based), ``english`` (NLTK), ``kiwi``, ``mecab`` (mecab-ko), ``okt``, ``komoran``,
``hannanum``, ``kkma`` (KoNLPy, one JVM per process started by :mod:`nlpkit.tokenize.jvm`).

Stored tokens: :func:`tokenize_dataset` turns a text dataset of the store into the versioned
``tokens_<dataset>_<backend>`` dataset, incrementally (see :mod:`nlpkit.tokenize.dataset`).
"""

from typing import Any

from nlpkit.tokenize.base import (
    CONTENT_PTAGS,
    NOUN_PTAGS,
    PTAGS,
    Token,
    Tokenizer,
    content_words,
    filter_ptags,
    lemmas,
    morphs,
    nouns,
    pos,
)
from nlpkit.tokenize.core import RESULT_CACHE
from nlpkit.tokenize.dataset import TokenizeResult, tokenize_dataset, tokens_dataset_name
from nlpkit.tokenize.spec import TermSpec, default_spec
from nlpkit.tokenize.registry import BACKENDS, FAST_BACKENDS, available_backends, get_tokenizer
from nlpkit.tokenize.userdict import DEFAULT_KO_DICT, load_stopwords, load_user_dict



def __getattr__(name: str) -> Any:
    """``TokenAnalyzer`` (a scikit-learn transformer) loads scikit-learn on first access only (PEP 562)."""
    if name == "TokenAnalyzer":
        from nlpkit.tokenize.analyzer import TokenAnalyzer

        return TokenAnalyzer
    raise AttributeError(f"module 'nlpkit.tokenize' has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "CONTENT_PTAGS",
    "DEFAULT_KO_DICT",
    "FAST_BACKENDS",
    "NOUN_PTAGS",
    "PTAGS",
    "RESULT_CACHE",
    "TermSpec",
    "Token",
    "TokenAnalyzer",
    "TokenizeResult",
    "Tokenizer",
    "available_backends",
    "content_words",
    "default_spec",
    "filter_ptags",
    "get_tokenizer",
    "lemmas",
    "load_stopwords",
    "load_user_dict",
    "morphs",
    "nouns",
    "pos",
    "tokenize_dataset",
    "tokens_dataset_name",
]
