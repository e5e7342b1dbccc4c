"""Rows of a tokens dataset as Arrow: the schema, the column-wise row build and the Token read-back.

A tokens dataset stores, per document, ``tokens``: a list of ``{form, tag, ptag, lemma,
start, end}`` structs (:data:`TOKEN_TYPE`). Corpora hold millions of tokens, so rows are built
and read column-wise: :func:`tokens_table` turns token lists into one flat array per field plus
list offsets (no dict per token), :func:`read_tokens` turns the stored columns back into
``Token`` objects without a Python call per token. :func:`tokens_to_arrow` (dicts) is for
one document's JSON-like output.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import accumulate, chain, repeat
from operator import attrgetter
from typing import Any

import pyarrow as pa

__all__ = ["TOKEN_TYPE", "TOKENS_SCHEMA", "tokens_to_arrow", "tokens_table", "read_tokens", "keep_tokens"]

TOKEN_TYPE = pa.struct([("form", pa.string()), ("tag", pa.string()), ("ptag", pa.string()),
                        ("lemma", pa.string()), ("start", pa.int32()), ("end", pa.int32())])
TOKENS_SCHEMA = pa.schema([("id", pa.string()), ("text_sha256", pa.string()), ("fingerprint", pa.string()),
                           ("n_tokens", pa.int32()), ("tokens", pa.list_(TOKEN_TYPE))])
_FIELD_GETTERS = tuple(attrgetter(f.name) for f in TOKEN_TYPE)


def tokens_to_arrow(toks: Iterable[Any]) -> list[dict[str, Any]]:
    """Tokens as dicts of :data:`TOKEN_TYPE` (one document; for JSON-like output, not for bulk storage)."""
    return [{"form": t.form, "tag": t.tag, "ptag": t.ptag, "lemma": t.lemma, "start": t.start, "end": t.end}
            for t in toks]


def tokens_table(ids: Sequence[str], shas: Sequence[str], fingerprint: str,
                 token_lists: Sequence[Sequence[Any]]) -> pa.Table:
    """Rows of :data:`TOKENS_SCHEMA`, one per document, built column-wise.

    Each token field becomes one flat array (read with C-level ``attrgetter`` maps over the
    chained token lists) and the documents' lengths become the list offsets: no dict per
    token. Equal to ``Table.from_pylist`` over :func:`tokens_to_arrow` rows, at a fraction
    of the cost.

    >>> from nlpkit.tokenize.base import Token
    >>> t = tokens_table(["a", "b"], ["s1", "s2"], "fp", [[Token("좋", "VA", "ADJ", None, 0, 1)], []])
    >>> t.column("tokens").to_pylist()[0][0]["form"], t.column("n_tokens").to_pylist()
    ('좋', [1, 0])
    """
    if not len(ids) == len(shas) == len(token_lists):
        raise ValueError(f"tokens_table: {len(ids)} ids, {len(shas)} shas and {len(token_lists)} token lists")
    lengths = list(map(len, token_lists))
    offsets = pa.array(chain((0,), accumulate(lengths)), pa.int32())
    flat = list(chain.from_iterable(token_lists))
    fields = [pa.array(list(map(get, flat)), f.type) for get, f in zip(_FIELD_GETTERS, TOKEN_TYPE)]
    tokens = pa.ListArray.from_arrays(offsets, pa.StructArray.from_arrays(fields, fields=list(TOKEN_TYPE)))
    return pa.Table.from_arrays([pa.array(ids, pa.string()), pa.array(shas, pa.string()),
                                 pa.array(repeat(fingerprint, len(ids)), pa.string(), size=len(ids)),
                                 pa.array(lengths, pa.int32()), tokens], schema=TOKENS_SCHEMA)


def read_tokens(store: Any, name: str) -> dict[str, list[Any]]:
    """Document id -> its stored ``Token`` list, from the current version of tokens dataset ``name``."""
    from nlpkit.tokenize.base import Token

    t = store.read(name, columns=["id", "tokens"])
    col = t.column("tokens").combine_chunks()
    offsets, flat = col.offsets.to_numpy(), col.flatten()
    # tuple.__new__ mapped over the zipped columns: Token objects without a Python call per token
    toks = list(map(tuple.__new__, repeat(Token), zip(*(flat.field(f.name).to_pylist() for f in TOKEN_TYPE))))
    return {doc: toks[offsets[i]:offsets[i + 1]] for i, doc in enumerate(t.column("id").to_pylist())}


def keep_tokens(offsets: Any, flat: Any, keep: Any) -> tuple[Any, Any]:
    """The flattened tokens of a list column with only those where ``keep`` (a boolean array without
    nulls, one per token) is true, and the documents' offsets into them (numpy), column-wise."""
    import numpy as np

    kept = np.concatenate([[0], np.cumsum(keep.to_numpy(zero_copy_only=False))])
    return kept[offsets], flat.filter(keep)
