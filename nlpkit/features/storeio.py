"""Reading corpora and stored terms from the store, and writing the shared feature tables.

- :func:`read_corpus`: a text dataset's ``id``, ``text`` and (when present) ``label``/``split``.
- :func:`stored_terms`: terms per document, tokenized once and kept in the dataset
  ``terms_<dataset>``; a later call tokenizes only documents it has not seen (same tokenizer
  fingerprint), so re-runs after new data arrive are incremental.
- :func:`replace_rows`: a new version of a shared table (``similar_docs``, ``tfidf_keywords`` ...)
  holding this dataset's new rows and every other dataset's rows unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nlpkit.errors import DatasetError, FeatureError
from nlpkit.features.terms import analyze_batch
from nlpkit.store import Store

__all__ = ["Corpus", "read_corpus", "stored_terms", "replace_rows", "terms_fingerprint"]


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
        raise FeatureError("the news table 'articles' has no articles yet: run `nlpkit run ingest_news` first")
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


def terms_fingerprint(cfg: dict[str, Any]) -> str:
    """sha256 of the terms config plus the tokenizer's own fingerprint (options, dictionaries)."""
    payload: dict[str, Any] = {"cfg": cfg}
    if cfg["tokenizer"] != "regex":
        from nlpkit.tokenize import get_tokenizer

        tok = get_tokenizer(cfg["tokenizer"], user_dicts=tuple(cfg.get("user_dicts") or ()), **(cfg.get("options") or {}))
        payload["tokenizer"] = tok.fingerprint
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _terms_from_token_dataset(store: Store, corpus: Corpus, cfg: dict[str, Any],
                              progress: Callable[[int], None] | None) -> tuple[list[list[str]], int]:
    """Tokens via the tokenizer layer's incremental ``tokens_<dataset>_<backend>``, then terms from them."""
    from nlpkit.features.terms import _analyzer, terms_from_tokens
    from nlpkit.tokenize import Token
    from nlpkit.tokenize.dataset import tokenize_dataset

    res = tokenize_dataset(store, corpus.dataset, cfg["tokenizer"], user_dicts=cfg.get("user_dicts") or (),
                           options=cfg.get("options") or {}, progress=progress)
    t = store.read(res.out_name, columns=["id", "tokens"])
    col = t.column("tokens").combine_chunks()
    offsets = col.offsets.to_numpy()
    flat = col.flatten()
    fields = [flat.field(n).to_pylist() for n in ("form", "tag", "ptag", "lemma", "start", "end")]
    toks = [Token(*row) for row in zip(*fields)]
    analyzer = _analyzer(cfg)
    by_id = {doc: terms_from_tokens(toks[offsets[i]:offsets[i + 1]], cfg, analyzer)
             for i, doc in enumerate(t.column("id").to_pylist())}
    missing = [doc for doc in corpus.ids if doc not in by_id]
    if missing:  # e.g. rows the tokenizer layer rejected: they count as empty documents
        by_id.update({doc: [] for doc in missing})
    return [by_id[doc] for doc in corpus.ids], int(getattr(res, "tokenized", 0) or 0)


def stored_terms(store: Store, corpus: Corpus, cfg: dict[str, Any], *,
                 progress: Callable[[int], None] | None = None, batch: int = 2000) -> tuple[list[list[str]], int]:
    """Terms of every document of ``corpus``; returns them and how many had to be tokenized now.

    Versioned datasets are tokenized through :func:`nlpkit.tokenize.dataset.tokenize_dataset`
    (stored tokens, only new or changed documents); the ``regex`` terms and the news
    ``articles`` table keep their terms in ``terms_<dataset>`` instead.
    """
    if cfg["tokenizer"] != "regex" and corpus.dataset in store.datasets():
        return _terms_from_token_dataset(store, corpus, cfg, progress)
    name = f"terms_{corpus.dataset}"[:63]
    fp = terms_fingerprint(cfg)
    known: dict[str, list[str]] = {}
    try:
        info = store.latest(name)
        if info.manifest.get("parameters", {}).get("fingerprint") == fp:
            t = store.read(name)
            known = dict(zip(t.column("id").to_pylist(), t.column("terms").to_pylist()))
    except DatasetError:
        pass
    todo = [i for i, doc in enumerate(corpus.ids) if doc not in known]
    if todo:
        texts = (corpus.texts[i] for i in todo)
        done = 0
        for i, terms in zip(todo, analyze_batch(texts, cfg)):
            known[corpus.ids[i]] = terms
            done += 1
            if progress and done % batch == 0:
                progress(batch)
        if progress and done % batch:
            progress(done % batch)
        table = pa.table({"id": pa.array(list(known), pa.string()),
                          "terms": pa.array(list(known.values()), pa.list_(pa.string()))})
        with store.write_version(name, parameters={"fingerprint": fp, "terms": cfg, "dataset": corpus.dataset,
                                                   "dataset_version": corpus.version}) as w:
            w.write(table)
            w.counts.update({"documents": table.num_rows, "tokenized_now": len(todo)})
    return [list(known[doc]) for doc in corpus.ids], len(todo)


def replace_rows(store: Store, name: str, dataset: str, tables: dict[str, pa.Table],
                 parameters: dict[str, Any] | None = None) -> str:
    """Write a version of shared table ``name``: other datasets' rows kept, ``dataset``'s replaced.

    Every table in ``tables`` must have a ``dataset`` column; returns the new version id.
    """
    old: dict[str, pa.Table] = {}
    try:
        info = store.latest(name)
        for table in info.tables:
            prev = store.read(name, table)
            if "dataset" in prev.column_names:
                old[table] = prev.filter(pc.not_equal(prev.column("dataset"), dataset))
    except DatasetError:
        pass
    params = dict(parameters or {})
    params.setdefault("datasets", sorted({dataset, *(str(d) for t in old.values()
                                                     for d in np.unique(t.column("dataset").to_numpy(False)))}))
    with store.write_version(name, parameters=params, source=f"nlpkit features build {dataset}") as w:
        for table, new in tables.items():
            prev = old.get(table)
            if prev is not None and prev.num_rows:
                try:
                    prev = prev.cast(new.schema)
                    w.write(pa.concat_tables([prev, new]), table)
                    continue
                except (pa.ArrowInvalid, ValueError, NotImplementedError):
                    pass  # schema changed: the old rows of other datasets are dropped, rebuild them
            w.write(new, table)
        w.counts.update({f"{dataset}_{t}": tb.num_rows for t, tb in tables.items()})
    return store.latest(name).version
