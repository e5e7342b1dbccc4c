"""Register a local corpus (JSONL, CSV/TSV, Parquet; plain, .gz, .bz2, .xz or .zip) as a versioned dataset.

The stored table has the standard columns ``id`` (string), ``text``, and ``label`` / ``title``
when the caller names those columns; every other source column is kept as it is. Lines that
do not parse (with their line number), rows with an empty text and rows with a repeated id
go to the ``rejects`` table with the reason; the rest is kept. Compressed input is streamed
with a cap on its decompressed size (:mod:`nlpkit.datasets.limits`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from nlpkit.datasets.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_RATIO, DecompressionLimits
from nlpkit.datasets.records import MAX_JSON_DEPTH
from nlpkit.datasets.table_reader import Format, ParsedTable, parse_table
from nlpkit.errors import DatasetError, SourceError
from nlpkit.store.versions import Store, VersionInfo, validate_name

__all__ = ["ImportOptions", "MAX_NAME_LENGTH", "import_corpus", "read_table_file", "check_dataset_name",
           "REJECT_SCHEMA"]

#: Columns of every dataset's ``rejects`` table.
REJECT_SCHEMA = pa.schema([("item", pa.string()), ("reason", pa.string()), ("detail", pa.string())])

#: Longest dataset name: it becomes SQL view names (``<name>``, ``<name>_rejects``, ``<name>__v<N>``), and
#: 63 characters is the identifier limit of PostgreSQL and of many tools that mirror the catalog.
MAX_NAME_LENGTH = 63
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to read a corpus file and which of its columns play which role."""

    text_col: str = "text"
    label_col: str | None = None
    title_col: str | None = None
    id_col: str | None = None
    format: Format = "auto"
    quoting: bool = True  # False reads CSV/TSV with csv.QUOTE_NONE (KorSTS, NSMC)
    member: str | None = None  # file inside a .zip; default: its only data file
    max_decompressed_bytes: int = DEFAULT_MAX_BYTES  # refuse a compressed file that expands past this
    max_compression_ratio: float = DEFAULT_MAX_RATIO  # ... or more than this many times its size (past 64 MiB)
    # label id -> name, stored in the manifest: what every page and command calls the labels (nlpkit.datasets.labels)
    label_names: dict[str, str] = field(default_factory=dict)


def check_dataset_name(name: object) -> str:
    """``name`` if it can be a dataset name; a DatasetError saying which rule it breaks otherwise.

    >>> check_dataset_name("my_corpus")
    'my_corpus'
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise DatasetError(
            f"invalid dataset name {name!r}: use lower-case letters, digits and '_', starting with a letter "
            "(no spaces, newlines or other characters); it becomes the SQL view name"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise DatasetError(
            f"dataset name {name[:20]}... is {len(name)} characters; the limit is {MAX_NAME_LENGTH}, because the "
            "name becomes SQL view names and 63 is the identifier limit of PostgreSQL-compatible tools; choose a "
            "shorter name"
        )
    return validate_name(name)


def _parse(path: Path, options: ImportOptions) -> ParsedTable:
    limits = DecompressionLimits(max_bytes=options.max_decompressed_bytes, max_ratio=options.max_compression_ratio)
    return parse_table(path, options.format, quoting=options.quoting, member=options.member, limits=limits)


def read_table_file(path: str | Path, options: ImportOptions = ImportOptions()) -> pd.DataFrame:
    """The rows of a JSONL/CSV/TSV/Parquet file (optionally compressed) that parse, as a DataFrame."""
    return _parse(Path(path), options).frame


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as Arrow; a JSON column mixing types (numbers in some rows, text in others) or holding
    integers beyond 64 bits (found by the hypothesis import test) becomes text."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        frame = frame.copy()
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = [None if v is None or (isinstance(v, float) and pd.isna(v))
                              else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
                              for v in frame[col]]
        return pa.Table.from_pandas(frame, preserve_index=False)


def _nesting(t: pa.DataType) -> int:
    """How deeply struct/list/map types nest in ``t`` (a plain type: 0)."""
    deepest, todo = 0, [(t, 0)]
    while todo:
        t, depth = todo.pop()
        deepest = max(deepest, depth)
        if pa.types.is_struct(t):
            todo += [(t.field(i).type, depth + 1) for i in range(t.num_fields)]
        elif pa.types.is_map(t):
            todo += [(t.key_type, depth + 1), (t.item_type, depth + 1)]
        elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            todo.append((t.value_type, depth + 1))
    return deepest


def _storable(table: pa.Table, path: str | Path) -> pa.Table:
    """``table`` when Delta Lake and the SQL sandbox can store and query it; SourceError naming the column
    otherwise (checked before the store is touched, so a refused import leaves nothing behind)."""
    for f in table.schema:
        if _nesting(f.type) >= MAX_JSON_DEPTH:
            raise SourceError(f"{path}: column {f.name!r} nests {_nesting(f.type)} levels deep; the store takes at most "
                              f"{MAX_JSON_DEPTH - 1} below the row (flatten it, or store it as JSON text)")
    return table


def import_corpus(
    store: Store,
    name: str,
    path: str | Path,
    options: ImportOptions = ImportOptions(),
    *,
    progress: Callable[[int], None] | None = None,
) -> VersionInfo:
    """Read ``path`` and store it as a new version of dataset ``name``; returns that version."""
    check_dataset_name(name)
    if options.max_decompressed_bytes < 1 or not options.max_compression_ratio >= 1:
        raise SourceError(f"max_decompressed_bytes and max_compression_ratio must be >= 1, got "
                          f"{options.max_decompressed_bytes} and {options.max_compression_ratio}")
    parsed = _parse(Path(path), options)
    df, bad_lines = parsed.frame, parsed.bad
    if df.empty:
        first = bad_lines[0].detail if bad_lines else "no rows"
        raise SourceError(f"{path}: no usable rows ({len(bad_lines)} line(s) unreadable; first: {first})")
    for role, col in (("--text-col", options.text_col), ("--label-col", options.label_col),
                      ("--title-col", options.title_col), ("--id-col", options.id_col)):
        if col is not None and col not in df.columns:
            raise SourceError(f"{path}: {role} {col!r} is not a column; columns: {', '.join(map(str, df.columns))}")
    ids = df[options.id_col].map(_as_text) if options.id_col else pd.Series([str(i) for i in range(len(df))])
    out = pd.DataFrame({"id": ids.values, "text": df[options.text_col].map(_as_text).values})
    if options.title_col:
        out["title"] = df[options.title_col].map(_as_text).values
    if options.label_col:
        out["label"] = df[options.label_col].values
    used = {c for c in (options.text_col, options.label_col, options.title_col, options.id_col) if c}
    rest = [c for c in df.columns if c not in used and c not in out.columns]
    if rest:  # in one step: a column at a time is quadratic in a wide file
        out = pd.concat([out, df[rest].reset_index(drop=True)], axis=1)

    empty = out["text"].str.strip() == ""
    empty_id = out["id"].str.strip() == ""
    dup = out["id"].duplicated(keep="first") & ~empty_id
    bad = empty | empty_id | dup
    reasons = pd.Series("", index=out.index)
    reasons[dup] = "duplicate_id"
    reasons[empty_id] = "empty_id"
    reasons[empty] = "empty_text"
    rejects = pd.concat([
        pd.DataFrame({"item": [f"line {b.line}" for b in bad_lines], "reason": [b.reason for b in bad_lines],
                      "detail": [b.detail for b in bad_lines]}),
        pd.DataFrame({
            "item": out.loc[bad, "id"].astype(str),
            "reason": reasons[bad],
            "detail": [f"{Path(path).name} line {parsed.lines[i]}" if parsed.lines else f"row {i + 1} of "
                       f"{Path(path).name}" for i in out.index[bad]],
        }),
    ], ignore_index=True)
    kept = out.loc[~bad].reset_index(drop=True)
    if kept.empty:
        raise SourceError(f"{path}: no usable rows ({len(out)} read, all rejected: "
                          f"{rejects['reason'].value_counts().to_dict()})")
    params = {"file": str(Path(path).resolve()), **asdict(options)}
    data = _storable(_arrow_table(kept), path)  # converted and checked before the store is touched
    reject_table = pa.Table.from_pandas(rejects, schema=REJECT_SCHEMA, preserve_index=False)
    with store.write_version(name, parameters=params, source=str(Path(path).resolve())) as w:
        w.write(data)
        w.write(reject_table, "rejects")
        w.counts.update({"read": len(out) + len(bad_lines), "kept": len(kept), "rejected": len(rejects),
                         "unreadable_lines": len(bad_lines)})
        if progress:
            progress(len(out))
    return store.latest(name)
