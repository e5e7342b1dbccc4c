"""Register a local corpus (JSONL, CSV/TSV, Parquet; plain, .gz or .zip) as a versioned dataset.

The stored table has the standard columns ``id`` (string), ``text``, and ``label`` / ``title``
when the caller names those columns; every other source column is kept as it is. Rows
with an empty text or a repeated id go to the ``rejects`` table with the reason.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from nlpkit.errors import SourceError
from nlpkit.store.versions import Store, VersionInfo, validate_name

__all__ = ["ImportOptions", "import_corpus", "read_table_file", "REJECT_SCHEMA"]

Format = Literal["auto", "jsonl", "csv", "tsv", "parquet"]

#: Columns of every dataset's ``rejects`` table.
REJECT_SCHEMA = pa.schema([("item", pa.string()), ("reason", pa.string()), ("detail", pa.string())])


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


def _strip_compression(name: str) -> str:
    lower = name.lower()
    for ext in (".gz", ".zip"):
        if lower.endswith(ext):
            return name[: -len(ext)]
    return name


def _detect_format(name: str) -> str:
    lower = _strip_compression(name).lower()
    for suffix, fmt in ((".jsonl", "jsonl"), (".json", "jsonl"), (".ndjson", "jsonl"), (".csv", "csv"),
                        (".tsv", "tsv"), (".txt", "tsv"), (".parquet", "parquet")):
        if lower.endswith(suffix):
            return fmt
    raise SourceError(f"cannot tell the format of {name!r} from its name; pass --format jsonl|csv|tsv|parquet")


def _open_bytes(path: Path, member: str | None) -> tuple[bytes, str]:
    """The raw bytes of the data file and its (inner) name, decompressing .gz / .zip."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/") and not n.startswith("__MACOSX")]
            if member is None:
                if len(names) != 1:
                    raise SourceError(f"{path} holds {len(names)} files; choose one with --member ({', '.join(names[:10])})")
                member = names[0]
            elif member not in names:
                raise SourceError(f"{path} has no member {member!r}; members: {', '.join(names[:10])}")
            return zf.read(member), member
    data = path.read_bytes()
    if path.suffix.lower() == ".gz":
        try:
            data = gzip.decompress(data)
        except OSError as e:
            raise SourceError(f"{path}: not a valid gzip file ({e})") from e
    return data, path.name


def read_table_file(path: str | Path, options: ImportOptions = ImportOptions()) -> pd.DataFrame:
    """Read a JSONL/CSV/TSV/Parquet file (optionally .gz/.zip) into a DataFrame of strings."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"corpus file {path} not found")
    data, inner = _open_bytes(path, options.member)
    fmt = options.format if options.format != "auto" else _detect_format(inner)
    try:
        if fmt == "parquet":
            return pd.read_parquet(io.BytesIO(data))
        text = data.decode("utf-8-sig")
        if fmt == "jsonl":
            return pd.read_json(io.StringIO(text), lines=True, dtype=False)
        sep = "\t" if fmt == "tsv" else ","
        return pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
            quoting=csv.QUOTE_MINIMAL if options.quoting else csv.QUOTE_NONE,
        )
    except UnicodeDecodeError as e:
        raise SourceError(f"{path}: not UTF-8 text at byte {e.start}; convert it to UTF-8 first") from e
    except (ValueError, pd.errors.ParserError) as e:
        raise SourceError(f"{path}: cannot read as {fmt}: {e}") from e


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def import_corpus(
    store: Store,
    name: str,
    path: str | Path,
    options: ImportOptions = ImportOptions(),
    *,
    progress: Callable[[int], None] | None = None,
) -> VersionInfo:
    """Read ``path`` and store it as a new version of dataset ``name``; returns that version."""
    validate_name(name)
    df = read_table_file(path, options)
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
    for col in df.columns:
        if col not in used and col not in out.columns:
            out[col] = df[col].values

    empty = out["text"].str.strip() == ""
    empty_id = out["id"].str.strip() == ""
    dup = out["id"].duplicated(keep="first") & ~empty_id
    bad = empty | empty_id | dup
    reasons = pd.Series("", index=out.index)
    reasons[dup] = "duplicate_id"
    reasons[empty_id] = "empty_id"
    reasons[empty] = "empty_text"
    rejects = pd.DataFrame({
        "item": out.loc[bad, "id"].astype(str),
        "reason": reasons[bad],
        "detail": [f"row {i + 1} of {Path(path).name}" for i in out.index[bad]],
    })
    kept = out.loc[~bad].reset_index(drop=True)
    if kept.empty:
        raise SourceError(f"{path}: no usable rows ({len(out)} read, all rejected: {rejects['reason'].value_counts().to_dict()})")
    params = {"file": str(Path(path).resolve()), **asdict(options)}
    with store.write_version(name, parameters=params, source=str(Path(path).resolve())) as w:
        w.write(pa.Table.from_pandas(kept, preserve_index=False))
        w.write(pa.Table.from_pandas(rejects, schema=REJECT_SCHEMA, preserve_index=False), "rejects")
        w.counts.update({"read": len(out), "kept": len(kept), "rejected": int(bad.sum())})
        if progress:
            progress(len(out))
    return store.latest(name)
