"""Which analyst terms each document holds, with its time, outlet, outlet group and label.

The shared input of related words, outlet comparison and term coverage: a binary document x term
matrix over the analyst view (:func:`nlpkit.tokenize.base.analyst_terms`: nouns, proper nouns,
foreign words, numbers with their unit, through the language's stopwords), with every term kept
that occurs in at least ``min_df`` documents. Stored as the dataset ``doc_terms_<dataset>``:

    data            id, time (UTC), outlet, outlet_group, label, row   (one row per document)
    incidence.npz   CSR indptr/indices (documents x terms), no pickle
    vocabulary.json the terms in column order, with their document frequency

Terms come from the stored tokens (tokenized once by the tokenize stage), never re-analysed.

>>> dt = build_doc_terms(store, "korean_press")     # doctest: +SKIP
>>> dt.mask(since="2017-08-01", outlet="한겨레").sum()  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from nlpkit.errors import FeatureError
from nlpkit.features.storeio import read_corpus, stored_terms
from nlpkit.store import Store
from nlpkit.text.lang import detect_language
from nlpkit.tokenize.spec import TermSpec, default_spec

__all__ = ["DocTerms", "build_doc_terms", "doc_terms_name", "load_doc_terms", "parse_day"]

_FORMAT = 1
_META = ("time", "outlet", "outlet_group", "label")


def doc_terms_name(dataset: str) -> str:
    return f"doc_terms_{dataset}"[:63]


#: Days given as YYYY-MM-DD are days of Korean time, as every page and table shows them.
DAY_TZ = "Asia/Seoul"


def parse_day(value: str | None, what: str, *, end: bool = False) -> pd.Timestamp | None:
    """``YYYY-MM-DD`` (a day in Korean time, :data:`DAY_TZ`) or a timestamp with its zone, as UTC; ``end``
    moves a bare day to its last microsecond."""
    if not value:
        return None
    try:
        when = pd.Timestamp(value)
    except (ValueError, TypeError) as e:
        raise FeatureError(f"--{what} {value!r} is not a date: use YYYY-MM-DD") from e
    if end and len(value.strip()) <= 10:
        when = when + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return (when.tz_localize(DAY_TZ) if when.tzinfo is None else when).tz_convert("UTC")


@dataclass
class DocTerms:
    """Binary document x term incidence plus each document's metadata (see the module docstring)."""

    dataset: str
    ids: list[str]
    terms: list[str]
    X: sp.csr_matrix                      # documents x terms, 1 where the document holds the term
    meta: pd.DataFrame                    # time (UTC, NaT when unknown), outlet, outlet_group, label
    spec: TermSpec
    _col: dict[str, int] = field(default_factory=dict, repr=False)
    _csc: sp.csc_matrix | None = field(default=None, repr=False)
    _df: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._col = {t: j for j, t in enumerate(self.terms)}

    @property
    def csc(self) -> sp.csc_matrix:
        if self._csc is None:
            self._csc = self.X.tocsc()
        return self._csc

    @property
    def df(self) -> np.ndarray:
        """Document frequency of every term over all documents."""
        if self._df is None:
            self._df = np.diff(self.csc.indptr).astype(np.int64)
        return self._df

    def column(self, term: str) -> int:
        """Column of ``term`` (normalized like the corpus: lower case); a FeatureError suggests close terms."""
        key = term.strip().lower() if self.spec.lowercase else term.strip()
        if key in self._col:
            return self._col[key]
        import difflib

        close = difflib.get_close_matches(key, self.terms, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise FeatureError(f"term {term!r} is not among the {len(self.terms):,} terms of {self.dataset} "
                           f"(terms in at least 2 documents, nouns/names/numbers only){hint}")

    def docs_with(self, j: int) -> np.ndarray:
        """Rows of the documents holding term column ``j``."""
        return self.csc.indices[self.csc.indptr[j]:self.csc.indptr[j + 1]]

    def mask(self, *, since: str | None = None, until: str | None = None, outlet: str | None = None,
             label: str | None = None, group: str | None = None) -> np.ndarray | None:
        """Boolean mask of the documents in a date range / outlet / label / outlet group; None: all."""
        if not any((since, until, outlet, label, group)):
            return None
        m = np.ones(len(self.ids), bool)
        lo, hi = parse_day(since, "since"), parse_day(until, "until", end=True)
        t = self.meta["time"]
        if (lo is not None or hi is not None) and t.isna().all():
            raise FeatureError(f"{self.dataset} has no publication times; --since/--until need a dated dataset "
                               "(e.g. korean_press or articles)")
        if lo is not None:
            m &= (t >= lo).fillna(False).to_numpy()
        if hi is not None:
            m &= (t <= hi).fillna(False).to_numpy()
        for col, value in (("outlet", outlet), ("label", label), ("outlet_group", group)):
            if value:
                known = set(self.meta[col].unique()) - {""}
                if value not in known:
                    raise FeatureError(f"{col} {value!r} is not in {self.dataset}; known: "
                                       f"{', '.join(sorted(known)) or '(none)'}")
                m &= (self.meta[col] == value).to_numpy()
        return m

    def save(self, directory: Path) -> None:
        np.savez(directory / "incidence.npz", indptr=self.X.indptr.astype(np.int64),
                 indices=self.X.indices.astype(np.int32), shape=np.asarray(self.X.shape, np.int64))
        (directory / "vocabulary.json").write_text(json.dumps(
            {"format": _FORMAT, "terms": self.terms, "df": self.df.tolist(), "spec": self.spec.to_dict()},
            ensure_ascii=False), encoding="utf-8")


def _plausible_times(t: pa.Table, column: str) -> pa.Table:
    """``column`` with placeholder dates (0001-01-01 from a page without a date, anything before 1900) as null."""
    import datetime as _dt

    import pyarrow.compute as pc

    if column not in t.column_names:
        return t
    col = t.column(column)
    floor = pa.scalar(_dt.datetime(1900, 1, 1, tzinfo=_dt.timezone.utc), col.type) if col.type.tz else \
        pa.scalar(_dt.datetime(1900, 1, 1), col.type)
    return t.set_column(t.column_names.index(column), column,
                        pc.if_else(pc.less(col, floor), pa.scalar(None, col.type), col))


def _metadata(store: Store, dataset: str, ids: list[str]) -> pd.DataFrame:
    """time/outlet/outlet_group/label per id from the dataset (or the ``articles`` table)."""
    empty = pd.DataFrame({"time": pd.Series(pd.NaT, index=range(len(ids)), dtype="datetime64[ns, UTC]"),
                          **{c: [""] * len(ids) for c in _META[1:]}})
    if dataset == "articles" and "articles" not in store.datasets():
        t = store.read_appended("articles", columns=["canonical_url", "published_at", "outlet", "section"])
        frame = _plausible_times(t, "published_at").to_pandas().drop_duplicates("canonical_url").set_index("canonical_url")
        frame = frame.rename(columns={"published_at": "time", "section": "label"})
    else:
        cols = store.columns(dataset)
        wanted = [c for c in ("id", "published_at", "time", "outlet", "outlet_group", "category", "label")
                  if c in cols]
        t = store.read(dataset, columns=wanted)
        for c in ("published_at", "time"):
            if c in t.column_names and pa.types.is_timestamp(t.column(c).type):
                t = _plausible_times(t, c)
        frame = t.to_pandas()
        frame["id"] = frame["id"].astype(str)
        frame = frame.drop_duplicates("id").set_index("id")
        if "published_at" in frame:
            frame = frame.rename(columns={"published_at": "time"})
        if "category" in frame:  # the source's own label names (korean_news)
            frame["label"] = frame.pop("category")
    out = empty.copy()
    frame = frame.reindex(ids)
    if "time" in frame:
        out["time"] = pd.to_datetime(frame["time"].to_numpy(), utc=True, errors="coerce")
    for c in _META[1:]:
        if c in frame:
            out[c] = frame[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                                  ).to_numpy()
    return out


def _named_labels(dataset: str, meta: pd.DataFrame) -> None:
    from nlpkit.datasets.registry import BUILDERS

    builder = BUILDERS.get(dataset)
    if builder and builder.label_names and meta["label"].str.fullmatch(r"\d+").all():
        meta["label"] = meta["label"].map(lambda v: builder.label_names.get(int(v), v))


def build_doc_terms(store: Store, dataset: str, *, spec: TermSpec | None = None, min_df: int = 2,
                    max_docs: int | None = None) -> DocTerms:
    """Build and store ``doc_terms_<dataset>`` from the dataset's stored tokens (analyst view)."""
    if min_df < 1:
        raise FeatureError(f"min_df must be >= 1; got {min_df}")
    corpus = read_corpus(store, dataset, max_docs=max_docs)
    spec = spec or default_spec(detect_language("\n".join(corpus.texts[:200])))
    terms, _, provenance = stored_terms(store, corpus, spec)
    counts: dict[str, int] = {}
    for doc in terms:
        for t in set(doc):
            counts[t] = counts.get(t, 0) + 1
    vocab = sorted(t for t, c in counts.items() if c >= min_df)
    col = {t: j for j, t in enumerate(vocab)}
    indptr, indices = [0], []
    for doc in terms:
        cols = sorted({col[t] for t in doc if t in col})
        indices.extend(cols)
        indptr.append(len(indices))
    X = sp.csr_matrix((np.ones(len(indices), np.float32), np.asarray(indices, np.int32), np.asarray(indptr, np.int64)),
                      shape=(len(terms), len(vocab)))
    meta = _metadata(store, dataset, corpus.ids)
    _named_labels(dataset, meta)
    dt = DocTerms(dataset, corpus.ids, vocab, X, meta, spec)
    with store.write_version(doc_terms_name(dataset), parameters={"dataset": dataset, "dataset_version": corpus.version,
                                                                 "min_df": min_df, "spec": spec.to_dict(),
                                                                 "spec_fingerprint": spec.fingerprint, **provenance},
                             source=f"{dataset} {corpus.version}") as w:
        w.write(pa.table({"id": corpus.ids, "row": np.arange(len(corpus.ids), dtype=np.int64),
                          "time": pa.array(meta["time"], pa.timestamp("us", tz="UTC")),
                          **{c: meta[c].tolist() for c in _META[1:]}}))
        dt.save(w.dir)
        w.counts.update({"documents": len(corpus.ids), "terms": len(vocab), "pairs": int(X.nnz)})
    return dt


def load_doc_terms(store: Store, dataset: str) -> DocTerms:
    """The latest stored ``doc_terms_<dataset>``; a FeatureError says how to build it."""
    from nlpkit.errors import DatasetError

    name = doc_terms_name(dataset)
    try:
        info = store.latest(name)
    except DatasetError as e:
        raise FeatureError(f"no analysis tables for {dataset!r} yet: run `nlpkit flows run analysis-korean-press` "
                           f"or `nlpkit features analyse {dataset}`") from e
    t = store.read(name, columns=["id", "time", *_META[1:]])
    vocab = json.loads((info.path / "vocabulary.json").read_text(encoding="utf-8"))
    with np.load(info.path / "incidence.npz", allow_pickle=False) as z:
        shape = tuple(int(v) for v in z["shape"])
        X = sp.csr_matrix((np.ones(z["indices"].size, np.float32), z["indices"], z["indptr"]), shape=shape)
    meta = pd.DataFrame({"time": pd.to_datetime(t.column("time").to_pandas(), utc=True),
                         **{c: t.column(c).to_pylist() for c in _META[1:]}})
    dt = DocTerms(dataset, t.column("id").to_pylist(), vocab["terms"], X, meta, TermSpec.from_dict(vocab["spec"]))
    dt._df = np.asarray(vocab["df"], np.int64)
    return dt
