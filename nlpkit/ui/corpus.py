"""One browsable corpus: a dataset's (or the scraped ``articles``) documents in one normalized frame.

Every corpus the web app shows has the same columns, whatever its source:
``id, title, text, outlet, section, time, language, label, split`` (empty strings / NaT where
the source has nothing). Rows are read once per version through :class:`nlpkit.store.SqlSandbox`
(read-only) and kept in memory; a new version is picked up on the next request.

- the ``articles`` append table (the news scraper): ``canonical_url`` is the id, duplicates dropped;
- a dataset with ``id`` and ``text`` (``korean_news``, ``imdb``, an import): ``title`` when there is
  one, else the first words of the text; ``label`` shown by name (a ``category`` column, else the
  dataset registry's names, else the value).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from nlpkit.errors import DatasetNotFoundError, NlpkitError
from nlpkit.store import SqlSandbox, Store

__all__ = ["Corpus", "UiError", "browsable", "filter_rows", "first_words", "label_names", "load_corpus", "version_of"]

COLUMNS = ("id", "title", "text", "outlet", "section", "time", "language", "label", "split")
_INTERNAL = ("features_", "tokens_", "terms_")
_SHARED = {"similar_docs", "tfidf_keywords", "projections", "clusters"}


class UiError(NlpkitError):
    """A request the web app cannot answer (unknown dataset or article, bad filter)."""


@dataclass(frozen=True)
class Corpus:
    """The normalized documents of one dataset version (``frame`` indexed by position, ``row`` by id)."""

    name: str
    version: str
    frame: pd.DataFrame
    row: dict[str, int]
    lists: dict[str, list[Any]]  # the columns as Python lists: one value is a list index, not a pandas lookup

    def get(self, column: str, r: int) -> Any:
        return self.lists[column][r]

    def has(self, column: str) -> bool:
        return self._present[column]

    @cached_property
    def _present(self) -> dict[str, bool]:
        return {c: bool(self.frame[c].notna().any()) if c == "time" else any(self.lists[c]) for c in COLUMNS}

    def values(self, column: str) -> list[str]:
        """Distinct non-empty values of a text column, sorted (for the filter menus)."""
        return self._values[column]

    @cached_property
    def _values(self) -> dict[str, list[str]]:
        return {c: sorted({v for v in self.lists[c] if v}) for c in COLUMNS if c not in ("id", "title", "text", "time")}

    def facets(self, limit: int = 200) -> list[tuple[str, list[str]]]:
        """The filter menus: columns with 1 to ``limit`` distinct values."""
        return [(c, v) for c, v in self._values.items() if 0 < len(v) <= limit]


def first_words(text: str, n: int = 12) -> str:
    """The first ``n`` words of ``text`` (a title for documents without one).

    Only the head of the text is split (a 100,000-review corpus would otherwise split every review whole).
    """
    text = str(text or "")
    head = text[:n * 30]
    words = head.split()
    if len(words) <= n and len(head) < len(text):
        words = text.split()  # long words: the head held too few
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def label_names(dataset: str) -> dict[str, str]:
    """Names of ``dataset``'s integer labels from the dataset registry (``{}`` when it has none)."""
    from nlpkit.datasets.registry import BUILDERS

    builder = BUILDERS.get(dataset)
    return {str(k): v for k, v in (builder.label_names.items() if builder else [])}


def browsable(store: Store) -> list[str]:
    """Datasets with documents (``id`` + ``text``), plus ``articles`` when the scraper stored any."""
    out = []
    for name in store.datasets():
        if name in _SHARED or name.startswith(_INTERNAL):
            continue
        try:
            cols = store.columns(name)
        except NlpkitError:
            continue  # a damaged dataset is left out, not fatal
        if "id" in cols and "text" in cols:
            out.append(name)
    if "articles" in store.tables() and "articles" not in out:
        out.insert(0, "articles")
    return out


def version_of(store: Store, name: str) -> str:
    """The version a corpus would be read at: the dataset version, or the append table's Delta version."""
    if name == "articles" and "articles" not in store.datasets():
        from deltalake import DeltaTable

        return f"t{DeltaTable(str(store.table_dir('articles'))).version()}"
    return store.latest(name).version


def _strings(df: pd.DataFrame, column: str) -> pd.Series:
    if column not in df:
        return pd.Series([""] * len(df), index=df.index, dtype=object)
    col = df[column]
    if pd.api.types.is_string_dtype(col.dtype):  # vectorized: no Python call per value
        return pd.Series(col.to_numpy(dtype=object, na_value=""), index=df.index, dtype=object)
    def text(v: Any) -> str:  # a nullable integer label arrives as a float: 1.0 -> "1"
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    return col.astype(object).where(col.notna(), "").map(text)


def _articles(sandbox: SqlSandbox) -> pd.DataFrame:
    t = sandbox.arrow("SELECT canonical_url AS id, title, body AS text, outlet, section, published_at AS time, "
                      "language FROM articles WHERE duplicate_of IS NULL AND canonical_url IS NOT NULL")
    df = t.to_pandas().drop_duplicates("id", keep="first")
    df["label"] = ""
    df["split"] = ""
    return df


def _dataset(store: Store, sandbox: SqlSandbox, name: str) -> pd.DataFrame:
    cols = store.columns(name)
    wanted = [c for c in ("id", "title", "text", "label", "category", "split", "outlet", "source", "section",
                          "published_at", "time", "language") if c in cols]
    columns = ", ".join(f'"{c}"' for c in wanted)
    df = sandbox.arrow(f'SELECT {columns} FROM "{name}"').to_pandas()
    df["id"] = _strings(df, "id")
    if "title" not in df or not (_strings(df, "title") != "").any():
        df["title"] = df["text"].map(first_words)
    if "outlet" not in df and "source" in df:
        df["outlet"] = df["source"]
    if "time" not in df and "published_at" in df:
        df["time"] = df["published_at"]
    names = label_names(name)
    if "category" in df:  # the source's own label names (korean_news)
        df["label"] = _strings(df, "category")
    elif "label" in df:
        raw = _strings(df, "label")
        df["label"] = raw.map(lambda v: names.get(v, v))
    return df


def load_corpus(store: Store, name: str, version: str | None = None) -> Corpus:
    """Read ``name`` (a browsable dataset or ``articles``) into a normalized :class:`Corpus`."""
    known = browsable(store)
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UiError(f"unknown dataset {name!r}: {hint}browsable: {', '.join(known) or '(none: build one first)'}")
    version = version or version_of(store, name)
    sandbox = SqlSandbox(store)
    try:
        df = _articles(sandbox) if version.startswith("t") else _dataset(store, sandbox, name)
    except DatasetNotFoundError as e:
        raise UiError(f"dataset {name!r} disappeared while reading it: {e}") from e
    for c in ("title", "text", "outlet", "section", "language", "label", "split"):
        df[c] = _strings(df, c)
    if "time" in df:
        df["time"] = pd.to_datetime(df["time"], utc=True, errors="coerce")
    else:
        df["time"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    df.loc[df["time"] < pd.Timestamp("1900-01-01", tz="UTC"), "time"] = pd.NaT  # placeholder dates (0001-01-01)
    untitled = df["title"] == ""
    df.loc[untitled, "title"] = df.loc[untitled, "text"].map(first_words)
    df = df[list(COLUMNS)].reset_index(drop=True)
    lists = {c: df[c].tolist() for c in COLUMNS}
    row = {doc: i for i, doc in enumerate(lists["id"])}
    return Corpus(name, version, df, row, lists)


def filter_rows(corpus: Corpus, filters: dict[str, Any]) -> np.ndarray:
    """Boolean mask of documents matching ``filters`` (outlet, section, language, label, since, until)."""
    df = corpus.frame
    mask = np.ones(len(df), bool)
    for col in ("outlet", "section", "language", "label", "split"):
        value = filters.get(col)
        if value:
            mask &= (df[col] == value).to_numpy()
    for key, op in (("since", "ge"), ("until", "le")):
        value = filters.get(key)
        if not value:
            continue
        try:
            when = pd.Timestamp(value, tz="UTC")
        except (ValueError, TypeError) as e:
            raise UiError(f"{key}={value!r} is not a date: use YYYY-MM-DD") from e
        if key == "until":
            when = when + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
        t = df["time"]
        mask &= (getattr(t, op)(when) & t.notna()).to_numpy()
    return mask
