"""Finding NLTK's data (stopword lists, tokenizer tables) without reading the environment.

The caller says where the data lives (``Settings.nltk_data``); ``None`` means NLTK's own search
path (``NLTK_DATA``, ``~/nltk_data``, ...). Online users can pass ``download=True`` to fetch a
missing resource with NLTK's downloader. A missing resource is a :class:`NltkDataError` that
names the resource, the places searched and the two ways to fix it.

NLTK only opens files under the directories on ``nltk.data.path`` (its path-security check), so
an explicit ``nltk_data`` directory is put at the front of that list.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from nlpkit.errors import SourceError

__all__ = ["NltkDataError", "english_stopwords", "find_resource"]

log = logging.getLogger(__name__)

#: Resource name (as ``nltk.data.find`` takes it) -> package name for ``nltk.download``.
_PACKAGES = {"corpora/stopwords": "stopwords", "tokenizers/punkt_tab": "punkt_tab"}


class NltkDataError(SourceError):
    """An NLTK data package is not installed where nlpkit looks for it."""


def _use_dir(nltk_data: Path | None) -> None:
    import nltk

    if nltk_data is not None and str(nltk_data) not in nltk.data.path:
        nltk.data.path.insert(0, str(nltk_data))


def find_resource(resource: str, *, nltk_data: Path | None = None, download: bool = False) -> str:
    """Locate an NLTK resource (e.g. ``"corpora/stopwords"``) and return its path pointer as text.

    Parameters
    ----------
    resource : str
        One of the keys of ``_PACKAGES`` (``corpora/stopwords``, ``tokenizers/punkt_tab``).
    nltk_data : Path or None
        Directory holding NLTK data; None searches NLTK's own path only.
    download : bool
        Fetch the package with ``nltk.download`` into ``nltk_data`` (or NLTK's default
        directory) when it is missing.
    """
    if resource not in _PACKAGES:
        raise ValueError(f"unknown NLTK resource {resource!r}; expected one of {', '.join(_PACKAGES)}")
    import nltk

    if nltk_data is not None and not Path(nltk_data).is_dir() and download:
        Path(nltk_data).mkdir(parents=True, exist_ok=True)
    if nltk_data is not None and not Path(nltk_data).is_dir():
        raise NltkDataError(
            f"NLTK data directory {nltk_data} does not exist; set nltk_data in flows.yaml or NLTK_DATA "
            "to a directory that holds corpora/stopwords.zip"
        )
    _use_dir(nltk_data)
    package = _PACKAGES[resource]
    zip_name = f"{resource}.zip/{package}/"
    for name in (f"{resource}/", zip_name):
        try:
            return str(nltk.data.find(name))
        except LookupError:
            continue
    if download:
        log.info("downloading NLTK package %r into %s", package, nltk_data or "NLTK's default directory")
        ok = nltk.download(package, download_dir=str(nltk_data) if nltk_data else None, quiet=True)
        if ok:
            return find_resource(resource, nltk_data=nltk_data, download=False)
    searched = ", ".join(nltk.data.path)
    raise NltkDataError(
        f"NLTK resource {resource!r} not found (searched: {searched}). Fix: point NLTK_DATA (or nltk_data in "
        f"flows.yaml) at a directory with {resource}.zip, or, online, run "
        f"`python -m nltk.downloader {package}`" + (" (the download just failed)" if download else "")
    )


@functools.lru_cache(maxsize=8)
def _stopwords(nltk_data: Path | None, download: bool) -> frozenset[str]:
    import nltk
    from nltk.corpus.reader import WordListCorpusReader

    find_resource("corpora/stopwords", nltk_data=nltk_data, download=download)
    for name in ("corpora/stopwords/", "corpora/stopwords.zip/stopwords/"):
        try:
            root = nltk.data.find(name)
            break
        except LookupError:
            continue
    words = WordListCorpusReader(root, ["english"]).words("english")
    return frozenset(w.strip() for w in words if w.strip())


def english_stopwords(nltk_data: Path | None = None, *, download: bool = False) -> frozenset[str]:
    """NLTK's English stopword list (179 words in the 2022 release), cached per directory.

    >>> "the" in english_stopwords()  # doctest: +SKIP
    True
    """
    return _stopwords(Path(nltk_data) if nltk_data is not None else None, download)
