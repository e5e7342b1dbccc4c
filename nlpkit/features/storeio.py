"""Reading corpora, stored terms and feature tables from the store.

- :func:`read_corpus`: a text dataset's ``id``, ``text`` and (when present) ``label``/``split``.
- :func:`stored_terms`: terms per document from the stored ``tokens_<dataset>_<backend>``
  dataset (tokenized once, incrementally, by the tokenize stage), through a
  :class:`~nlpkit.tokenize.TermSpec`.
- :func:`feature_table`: one feature table (``similar_docs``, ``tfidf_keywords`` ...) of a dataset's
  features build, read at the version its ``features_<dataset>`` commit pinned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from nlpkit.errors import DatasetError, FeatureError
from nlpkit.store import Store
from nlpkit.tokenize.spec import TermSpec

__all__ = ["Corpus", "feature_table", "read_corpus", "stored_terms"]


@dataclass(frozen=True, slots=True)
class Corpus:
    """One dataset's documents, in stored order."""

    dataset: str
    version: str
    ids: list[str]
    texts: list[str]
    labels: list[str] | None
    splits: list[str] | None


def _read_articles(store: Store, max_docs: int | None) -> Corpus:
    """The news ingestion's append-only ``articles`` table: id = canonical URL, text = title + body."""
    t = store.read_appended("articles")
    ids, texts, labels, seen = [], [], [], set()
    for url, title, body, section, dup in zip(*(t.column(c).to_pylist() for c in
                                                 ("canonical_url", "title", "body", "section", "duplicate_of"))):
        if dup or not url or url in seen:
            continue
        seen.add(url)
        ids.append(str(url))
        texts.append(f"{title or ''}\n{body or ''}".strip())
        labels.append(str(section or ""))
    if max_docs is not None:
        ids, texts, labels = ids[:max_docs], texts[:max_docs], labels[:max_docs]
    if not ids:
        raise FeatureError("the news table 'articles' has no articles yet: run `nlpkit flows run ingest_news` first")
    return Corpus("articles", f"rows{t.num_rows}", ids, texts, labels if any(labels) else None, None)


def read_corpus(store: Store, dataset: str, *, max_docs: int | None = None) -> Corpus:
    """Documents of ``dataset``'s latest version (the first ``max_docs`` when given).

    ``articles`` (the news ingestion's append-only table) is read as a corpus too.
    """
    if dataset == "articles" and "articles" not in store.datasets() and "articles" in store.tables():
        return _read_articles(store, max_docs)
    info = store.latest(dataset)
    names = store.columns(dataset, version=info.version)
    if "text" not in names or "id" not in names:
        raise FeatureError(f"dataset {dataset!r} has columns {', '.join(names)}; features need 'id' and 'text'")
    cols = ["id", "text"] + [c for c in ("label", "split") if c in names]
    t = store.read(dataset, version=info.version, columns=cols)
    if max_docs is not None:
        if max_docs < 1:
            raise FeatureError(f"max_docs must be >= 1; got {max_docs}")
        t = t.slice(0, max_docs)
    if t.num_rows == 0:
        raise FeatureError(f"dataset {dataset!r} {info.version} has no rows")
    ids = [str(v) for v in t.column("id").to_pylist()]
    texts = ["" if v is None else str(v) for v in t.column("text").to_pylist()]
    labels = None
    if "label" in cols:
        raw = t.column("label").to_pylist()
        if any(v is not None and str(v) != "" for v in raw):
            labels = ["" if v is None else str(v) for v in raw]
    splits = [str(v or "") for v in t.column("split").to_pylist()] if "split" in cols else None
    return Corpus(dataset, info.version, ids, texts, labels, splits)


def stored_terms(store: Store, corpus: Corpus, spec: TermSpec, *,
                 progress: Callable[[int], None] | None = None) -> tuple[list[list[str]], int, dict[str, Any]]:
    """Terms of every document of ``corpus`` from the stored ``tokens_<dataset>_<backend>`` dataset.

    The tokenize stage's incremental :func:`~nlpkit.tokenize.dataset.tokenize_dataset` runs first,
    so only documents never tokenized with this backend, options and dictionary are tokenized
    now; every other document's tokens are read back, never re-analysed. Returns the terms,
    how many documents were tokenized now, and the provenance to record with the artifact
    (``tokens_dataset``, ``tokens_version``, ``dict_sha256``).
    """
    from nlpkit.tokenize.dataset import read_tokens, tokenize_dataset

    if corpus.dataset not in store.datasets():
        return _table_terms(store, corpus, spec, progress)
    res = tokenize_dataset(store, corpus.dataset, spec.backend, user_dicts=spec.user_dicts,
                           options=dict(spec.options), progress=progress)
    by_id = {doc: spec.terms(toks) for doc, toks in read_tokens(store, res.out_name).items()}
    # documents the tokenizer layer rejected (no text, engine failure) count as empty documents
    provenance = {"tokens_dataset": res.out_name, "tokens_version": res.version,
                  "dict_sha256": list(spec.dict_sha256)}
    return [by_id.get(doc, []) for doc in corpus.ids], int(res.tokenized or 0), provenance


def _table_terms(store: Store, corpus: Corpus, spec: TermSpec,
                 progress: Callable[[int], None] | None) -> tuple[list[list[str]], int, dict[str, Any]]:
    """Terms of an append-only table (the news ``articles``), which has no tokens dataset: kept in
    ``terms_<table>`` per spec fingerprint so each article is still tokenized once."""
    name = f"terms_{corpus.dataset}"[:63]
    known: dict[str, list[str]] = {}
    try:
        info = store.latest(name)
        if info.manifest.get("parameters", {}).get("fingerprint") == spec.fingerprint:
            t = store.read(name)
            known = dict(zip(t.column("id").to_pylist(), t.column("terms").to_pylist()))
    except DatasetError:
        pass
    todo = [i for i, doc in enumerate(corpus.ids) if doc not in known]
    if todo:
        for n, (i, terms) in enumerate(zip(todo, spec.analyze_batch(corpus.texts[i] for i in todo)), 1):
            known[corpus.ids[i]] = terms
            if progress and n % 2000 == 0:
                progress(2000)
        table = pa.table({"id": pa.array(list(known), pa.string()),
                          "terms": pa.array(list(known.values()), pa.list_(pa.string()))})
        with store.write_version(name, parameters={"fingerprint": spec.fingerprint, "spec": spec.to_dict(),
                                                   "dataset": corpus.dataset}) as w:
            w.write(table)
            w.counts.update({"documents": table.num_rows, "tokenized_now": len(todo)})
    provenance = {"tokens_dataset": name, "tokens_version": store.latest(name).version,
                  "dict_sha256": list(spec.dict_sha256)}
    return [list(known[doc]) for doc in corpus.ids], len(todo), provenance


def feature_table(store: Store, dataset: str, name: str, version: str | None = None) -> pa.Table:
    """Feature table ``name`` (``similar_docs``, ``clusters_summary`` ...) of ``dataset``'s features build.

    Read from the latest ``features_<dataset>`` version (or ``version``) at the Delta version that
    version's commit pinned, so every table read from one version comes from the same build.
    """
    from nlpkit.features.query import index_name

    return store.read(index_name(dataset), name, version=version)
