"""One browsable corpus: a dataset's (or the scraped ``articles``) documents in one normalized form.

Every corpus the web app shows has the same columns, whatever its source:
``id, title, text, outlet, section, time, language, label, split`` (empty strings / NaT where
the source has nothing). Rows are read once per version through :class:`nlpkit.store.SqlSandbox`
(read-only) and kept in memory; a new version is picked up on the next request.

- the ``articles`` append table (the news scraper): ``canonical_url`` is the id, duplicates dropped;
- a dataset with ``id`` and ``text`` (``korean_news``, ``imdb``, an import): ``title`` when there is
  one, else the first words of the text; ``label`` shown by name (the dataset's own names,
  :func:`nlpkit.datasets.labels.label_names`, else the value).

Bodies and titles stay in Arrow memory, one string array each, and become Python strings only for
the rows a page shows (a list shows 50, an article one): a 100,000-review corpus then loads in a
fraction of the time and memory that a Python string per body and a first-words title per review
took. The short columns (ids, outlets, labels, times) are Python lists and a pandas frame, for the
filters and the id -> row lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from nlpkit.datasets.labels import label_names
from nlpkit.errors import DatasetNotFoundError, NlpkitError
from nlpkit.store import SqlSandbox, Store

__all__ = ["Corpus", "UiError", "browsable", "filter_rows", "first_words", "load_corpus", "version_of"]

COLUMNS = ("id", "title", "text", "outlet", "section", "time", "language", "label", "split")
_SHORT = ("id", "outlet", "section", "language", "label", "split")  # Python lists + the frame
_LONG = ("title", "text")  # Arrow only; Python strings for the rows shown
_INTERNAL = ("features_", "tokens_", "terms_")
_SHARED = {"similar_docs", "tfidf_keywords", "projections", "clusters"}


class UiError(NlpkitError):
    """A request the web app cannot answer (unknown dataset or article, bad filter)."""


@dataclass(frozen=True)
class Corpus:
    """The normalized documents of one dataset version.

    ``frame`` (by position) holds the short columns and ``time``; ``row`` maps an id to its
    position; ``long`` holds ``title`` (stored titles, "" where none) and ``text`` as Arrow arrays.
    """

    name: str
    version: str
    frame: pd.DataFrame
    row: dict[str, int]
    lists: dict[str, list[Any]]  # the short columns as Python lists: one value is a list index
    long: dict[str, pa.Array]

    def __len__(self) -> int:
        return len(self.lists["id"])

    def get(self, column: str, r: int) -> Any:
        """One value; a document without a stored title is titled by its first words."""
        if column == "title":
            return self.long["title"][r].as_py() or first_words(self.long["text"][r].as_py())
        if column == "text":
            return self.long["text"][r].as_py()
        if column == "time":
            return self.frame["time"].iat[r]
        return self.lists[column][r]

    def has(self, column: str) -> bool:
        return self._present[column]

    @cached_property
    def _present(self) -> dict[str, bool]:
        long = {c: bool(len(a)) and bool(pc.any(pc.greater(pc.utf8_length(a), 0)).as_py()) for c, a in self.long.items()}
        return {"time": bool(self.frame["time"].notna().any()), **long, "title": long["title"] or long["text"],
                **{c: any(self.lists[c]) for c in _SHORT}}

    def values(self, column: str) -> list[str]:
        """Distinct non-empty values of a short text column, sorted (for the filter menus)."""
        return self._values[column]

    @cached_property
    def _values(self) -> dict[str, list[str]]:
        return {c: sorted({v for v in self.lists[c] if v}) for c in _SHORT if c != "id"}

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


def _strings(t: pa.Table, column: str, large: bool = False) -> pa.Array:
    """``column`` of ``t`` as one string array, nulls as "" (all "" when absent); integral floats as integers
    (a nullable integer label read as 1.0 shows as "1")."""
    typ = pa.large_string() if large else pa.string()
    if column not in t.column_names:
        return pa.array([""] * t.num_rows, typ)
    col = t.column(column).combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    if pa.types.is_floating(col.type):
        valid = pc.drop_null(col)
        if pc.all(pc.equal(valid, pc.floor(valid))).as_py() is not False:
            col = pc.cast(col, pa.int64(), safe=False)
    return pc.fill_null(pc.cast(col, typ), "")


def _named(col: pa.Array, names: dict[str, str]) -> pa.Array:
    """Each distinct value mapped through ``names`` once (not once per row)."""
    if not names or not len(col):
        return col
    enc = pc.dictionary_encode(col)
    return pa.array([names.get(v, v) for v in enc.dictionary.to_pylist()], pa.string()).take(enc.indices)


def _articles(sandbox: SqlSandbox) -> pa.Table:
    t = sandbox.arrow("SELECT canonical_url AS id, title, body AS text, outlet, section, published_at AS time, "
                      "language FROM articles WHERE duplicate_of IS NULL AND canonical_url IS NOT NULL")
    repeated = pd.Series(t.column("id").to_pylist()).duplicated(keep="first").to_numpy()
    return t.filter(pa.array(~repeated)) if repeated.any() else t


def _dataset(store: Store, sandbox: SqlSandbox, name: str) -> pa.Table:
    cols = store.columns(name)
    wanted = [c for c in ("id", "title", "text", "label", "split", "outlet", "source", "section",
                          "published_at", "time", "language") if c in cols]
    columns = ", ".join(f'"{c}"' for c in wanted)
    t = sandbox.arrow(f'SELECT {columns} FROM "{name}"')
    renames = {"source": "outlet", "published_at": "time"}
    for old, new in renames.items():
        if old in t.column_names and new not in t.column_names:
            t = t.append_column(new, t.column(old))
    if "label" in t.column_names:  # the dataset's own names (nlpkit.datasets.labels), one source for every page
        names = label_names(store, name)
        t = t.set_column(t.column_names.index("label"), "label", _named(_strings(t, "label"), names))
    return t


def _times(t: pa.Table) -> pd.Series:
    if "time" not in t.column_names:
        return pd.Series(pd.NaT, index=range(t.num_rows), dtype="datetime64[ns, UTC]")
    times = pd.to_datetime(t.column("time").to_pandas(), utc=True, errors="coerce")
    return times.where(times >= pd.Timestamp("1900-01-01", tz="UTC"))  # placeholder dates (0001-01-01) -> NaT


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
        t = _articles(sandbox) if version.startswith("t") else _dataset(store, sandbox, name)
    except DatasetNotFoundError as e:
        raise UiError(f"dataset {name!r} disappeared while reading it: {e}") from e
    lists = {c: _strings(t, c).to_pylist() for c in _SHORT}
    frame = pd.DataFrame({**{c: pd.Series(lists[c], dtype=object) for c in _SHORT}, "time": _times(t)})
    long = {c: _strings(t, c, large=True) for c in _LONG}
    row = {doc: i for i, doc in enumerate(lists["id"])}
    return Corpus(name, version, frame, row, lists, long)


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
