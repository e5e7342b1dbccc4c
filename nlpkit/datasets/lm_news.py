"""``lm_korean_news``: a Korean language-model corpus built from the news already in the store.

Documents are the bodies of the ``korean_news`` dataset (its latest version) and the Korean
articles of the ``articles`` table (``language = 'ko'``). Each body is cut into sentences (at
line breaks and after ``. ? !`` followed by space) and normalised for a character-level model:

- no-break spaces and runs of spaces become one space, curly quotes straight ones;
- the wire-service dateline (``(서울=연합뉴스) 김진방 특파원 =``) and parenthesised or bracketed
  asides (hanja glosses, English acronyms, ``[사진]``) are removed;
- a sentence is kept only when every character is a Hangul syllable, a digit, a space or one of
  ``. , ? ! ' " % · - ~ …``; the others (Latin names, e-mail bylines, tables) are counted as
  rejects (``reason = 'charset'``). Measured on korean_news: 27,505 sentences, ~70% kept.

The split is by document and seeded: a document's split is fixed by ``sha256(seed:doc_id)``
(80/10/10), so every sentence of a document lands in one split, and a document keeps its split
when the corpus grows (new articles never move old ones between train and test).

Rows (a line table like ``lm_tinyshakespeare``): ``id``, ``doc``, ``split``, ``line``, ``text``;
joining a split's ``text`` with ``"\\n"`` in ``line`` order gives the split's text.
``nlpkit data rebuild lm_korean_news`` (source ``store``: the store itself) rebuilds it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nlpkit.datasets.download import ProgressFn
from nlpkit.datasets.korean import write_rows
from nlpkit.errors import ConfigError, DatasetNotFoundError
from nlpkit.store.versions import Store, VersionInfo

__all__ = ["LM_CHARSET", "build_lm_korean_news", "doc_split", "news_sentences"]

#: Characters a kept sentence may contain besides Hangul syllables and digits.
LM_CHARSET = " .,?!'\"%·-~…"
_KEEP = re.compile(r"^[가-힣0-9" + re.escape(LM_CHARSET) + r"]+$")
_DATELINE = re.compile(r"^\s*[(\[][^)\]]{0,30}=[^)\]]{0,30}[)\]]\s*(?:[가-힣 ]{0,20}(?:기자|특파원|통신원)\s*=\s*)?")
_ASIDE = re.compile(r"\([^()]{0,80}\)|\[[^\[\]]{0,80}\]|<[^<>]{0,80}>|【[^】]{0,80}】")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "\xa0": " ", "\u3000": " ", "ㆍ": "·"})


def news_sentences(body: str) -> Iterator[tuple[str, bool]]:
    """``(sentence, kept)`` for each sentence of a news ``body``, normalised as the module says.

    >>> [s for s, ok in news_sentences("(서울=연합뉴스) 김 기자 = 비가 온다. 내일(5일)은 맑다.") if ok]
    ['비가 온다.', '내일은 맑다.']
    """
    for raw_line in body.translate(_QUOTES).split("\n"):
        line = _DATELINE.sub("", raw_line.strip())
        line = _ASIDE.sub("", line)
        for sentence in _SENTENCE_END.split(line):
            s = " ".join(sentence.split())
            if s:
                yield s, len(s) >= 2 and bool(_KEEP.match(s))


def doc_split(doc_id: str, seed: int, fractions: tuple[float, float] = (0.8, 0.1)) -> str:
    """``train``/``valid``/``test`` for a document, fixed by ``sha256(seed:doc_id)``."""
    h = int.from_bytes(hashlib.sha256(f"{seed}:{doc_id}".encode()).digest()[:8], "big") / 2**64
    return "train" if h < fractions[0] else "valid" if h < fractions[0] + fractions[1] else "test"


def _documents(store: Store) -> Iterator[tuple[str, str]]:
    try:
        news = store.read("korean_news", columns=["id", "text"]).to_pydict()
    except DatasetNotFoundError as e:
        raise DatasetNotFoundError(f"lm_korean_news is built from the korean_news dataset, which is not in the store "
                                   f"({e}); run `nlpkit data rebuild korean_news` first") from e
    yield from ((f"korean_news:{i}", t or "") for i, t in zip(news["id"], news["text"], strict=True))
    if "articles" in store.tables():
        arts = store.read_appended("articles", ["canonical_url", "body", "language"]).to_pydict()
        seen: set[str] = set()
        for url, body, lang in zip(arts["canonical_url"], arts["body"], arts["language"], strict=True):
            if lang == "ko" and url not in seen:
                seen.add(url)
                yield f"article:{url}", body or ""


def _rows(docs: Iterable[tuple[str, str]], seed: int) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, str]] = []
    for doc, body in docs:
        split = doc_split(doc, seed)
        for n, (sentence, kept) in enumerate(news_sentences(body)):
            if kept:
                rows.append({"id": f"{doc}#{n}", "doc": doc, "split": split, "text": sentence})
            else:
                rejects.append({"item": f"{doc}#{n}", "reason": "charset", "detail": sentence[:120]})
    order = {"train": 0, "valid": 1, "test": 2}
    rows.sort(key=lambda r: order[r["split"]])  # stable: documents stay whole and in order within a split
    for line, r in enumerate(rows, 1):
        r["line"] = line
    return rows, rejects


def build_lm_korean_news(store: Store, source: str = "store", *, seed: int = 13, cache_dir: Path | None = None,
                         progress: ProgressFn | None = None, name: str = "lm_korean_news") -> VersionInfo:
    """Build the Korean news LM corpus from ``korean_news`` and Korean ``articles`` (source must be ``store``)."""
    if str(source) != "store":
        raise ConfigError(f"lm_korean_news is built from the store's own news (korean_news + articles), not from "
                          f"{source!r}; rebuild it without --source")
    rows, rejects = _rows(_documents(store), seed)
    docs = {r["doc"] for r in rows}
    return write_rows(store, name, rows, rejects, source="store: korean_news + articles (language ko)",
                      parameters={"seed": seed, "documents": len(docs),
                                  "korean_news_version": store.latest("korean_news").version},
                      note="no official split: split by document, sha256(seed:doc) -> 80/10/10")
