"""Terms of chosen documents from a stored tokens dataset, read column-wise and produced lazily.

:func:`nlpkit.tokenize.dataset.read_tokens` builds a ``Token`` for every stored token at once:
IMDB's 100,000 reviews are 25M tokens, and holding them (plus the terms made from them) took
the imdb flow past 15 GB. :func:`iter_stored_terms` reads only the wanted documents (the id
filter is applied while the Parquet files are read), keeps them as Arrow columns, and builds
tokens and terms for one chunk of documents at a time, in the order asked for. A consumer that
streams (scikit-learn's vectorizers count one document at a time) never holds more than a chunk
of term lists; the terms are exactly :meth:`TermSpec.terms` of the stored tokens.

>>> docs = iter_stored_terms(store, "tokens_imdb_regex", spec, ["test_pos_0"])  # doctest: +SKIP
>>> next(docs)[:3]                                                             # doctest: +SKIP
['i', 'went', 'and']

:func:`current_tokens` tells, from manifests alone, whether a tokens dataset already holds every
document of the source's latest version for a tokenizer: then readers skip the incremental
update, whose plan reads the whole corpus and the whole tokens table only to find nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from nlpkit.tokenize.base import Token
from nlpkit.tokenize.token_rows import keep_tokens
from nlpkit.tokenize.spec import DROP_PTAGS, TermSpec

__all__ = ["current_tokens", "iter_stored_terms"]

_FIELDS = Token._fields  # form, tag, ptag, lemma, start, end: the stored struct's fields
_DROPPED = pa.array(list(DROP_PTAGS), pa.string())


def iter_stored_terms(store: Any, name: str, spec: TermSpec, ids: Sequence[str], *, version: str | None = None,
                      chunk: int = 1000) -> Iterator[list[str]]:
    """``spec.terms`` of each document of ``ids`` (in that order) from tokens dataset ``name``.

    ``version`` defaults to the latest. A document with no tokens row (rejected by the tokenizer)
    yields ``[]``, as an empty document. ``chunk`` documents are turned into tokens at a time.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    ids = [str(d) for d in ids]
    if not ids:
        return
    wanted = pa.array(sorted(set(ids)), pa.string())
    table = store.read(name, version=version, columns=["id", "tokens"], filter=pc.field("id").isin(wanted))
    column = table.column("tokens").combine_chunks()
    row = {doc: i for i, doc in enumerate(table.column("id").to_pylist())}
    del table
    for start in range(0, len(ids), chunk):
        part = [row.get(doc, -1) for doc in ids[start:start + chunk]]
        taken = column.take(pa.array([i for i in part if i >= 0], pa.int64()))
        offsets, flat = taken.offsets.to_numpy() - taken.offsets[0].as_py(), taken.flatten()
        if spec.forms_only:  # forms alone decide the terms: no Token per token (3x faster on IMDB)
            if spec.drop_punct:
                keep = pc.fill_null(pc.invert(pc.is_in(flat.field("ptag"), value_set=_DROPPED)), True)
                offsets, flat = keep_tokens(offsets, flat, keep)
            forms = flat.field("form").to_pylist()
            docs = (spec.terms_of_forms(forms[a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True))
        else:
            tokens = [Token(*t) for t in zip(*(flat.field(f).to_pylist() for f in _FIELDS), strict=True)]
            docs = (spec.terms(tokens[a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True))
        for i in part:
            yield next(docs) if i >= 0 else []


def current_tokens(store: Any, dataset: str, backend: str, *, user_dicts: Sequence[str | Path] = (),
                   options: Mapping[str, Any] | None = None, text_column: str | Sequence[str] = "text",
                   out_name: str | None = None) -> str | None:
    """The version of ``out_name`` (default ``tokens_<dataset>_<backend>``) when its latest version was built
    from ``dataset``'s latest version with this tokenizer (same fingerprint: backend, options, dictionaries'
    contents) and text column, else None (then :func:`~nlpkit.tokenize.dataset.tokenize_dataset` updates it).

    A tokens version covers its whole source version (kept rows plus new ones; the documents the engine
    rejected are in its ``rejects`` table), so nothing is missing when these match.
    """
    from nlpkit.errors import DatasetNotFoundError
    from nlpkit.tokenize.dataset import tokens_dataset_name
    from nlpkit.tokenize.registry import get_tokenizer

    name = out_name or tokens_dataset_name(dataset, backend)
    try:
        info = store.latest(name)
        source = store.latest(dataset).version
    except DatasetNotFoundError:
        return None
    params = info.manifest.get("parameters") or {}
    columns = text_column if isinstance(text_column, str) else list(text_column)
    tok = get_tokenizer(backend, user_dicts=tuple(str(p) for p in user_dicts), **dict(options or {}))
    same = (params.get("dataset") == dataset and params.get("source_version") == source
            and params.get("fingerprint") == tok.fingerprint and params.get("text_column") == columns
            and params.get("id_column", "id") == "id")
    return info.version if same else None
