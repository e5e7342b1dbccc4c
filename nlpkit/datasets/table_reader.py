"""Reading a corpus file (JSONL, CSV/TSV, Parquet; plain, .gz, .bz2, .xz or .zip) row by row.

The file is streamed through :func:`nlpkit.datasets.limits.open_stream`, so a decompression
bomb stops at the configured cap and memory holds the parsed rows, not copies of the file.
A line that does not parse (malformed JSON, a JSON value that is not an object, a CSV row
with the wrong number of fields, a line over ``max_line_bytes``) becomes a :class:`BadLine`
with its line number and the reason; the other rows are kept.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from nlpkit.datasets.limits import DecompressionLimits, compression_of, open_stream, read_bounded
from nlpkit.errors import SourceError

__all__ = ["BadLine", "Format", "ParsedTable", "detect_format", "parse_table"]

Format = Literal["auto", "jsonl", "csv", "tsv", "parquet"]

#: Longest line (bytes) a JSONL/CSV row may take; longer lines become rejects (memory stays bounded).
MAX_LINE_BYTES = 32 << 20


@dataclass(frozen=True, slots=True)
class BadLine:
    """One line of the file that could not be read as a row."""

    line: int  # 1-based physical line number (for CSV: the line the record ends on)
    reason: Literal["malformed_json", "not_an_object", "not_utf8", "bad_row", "line_too_long"]
    detail: str


@dataclass
class ParsedTable:
    """The rows that parsed, as a DataFrame, and the lines that did not."""

    frame: pd.DataFrame
    bad: list[BadLine] = field(default_factory=list)
    lines: list[int] | None = None  # the line each row of ``frame`` came from (None: Parquet, rows have no lines)


def detect_format(name: str) -> str:
    """``jsonl``/``csv``/``tsv``/``parquet`` from a data file's name (compression suffix ignored)."""
    lower = name.lower()
    kind = compression_of(Path(lower))
    if kind is not None:
        lower = lower[: -len(kind) - 1]
    for suffix, fmt in ((".jsonl", "jsonl"), (".json", "jsonl"), (".ndjson", "jsonl"), (".csv", "csv"),
                        (".tsv", "tsv"), (".txt", "tsv"), (".parquet", "parquet")):
        if lower.endswith(suffix):
            return fmt
    raise SourceError(f"cannot tell the format of {name!r} from its name; pass --format jsonl|csv|tsv|parquet")


def _lines(stream: io.BufferedReader, max_line: int) -> Iterator[bytes | None]:
    """Physical lines of ``stream`` (None for one longer than ``max_line``, which is skipped)."""
    while line := stream.readline(max_line + 1):
        if len(line) > max_line and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield line


def _jsonl(stream: io.BufferedReader, name: str, max_line: int) -> ParsedTable:
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    bad: list[BadLine] = []
    for n, line in enumerate(_lines(stream, max_line), 1):
        if line is None:
            bad.append(BadLine(n, "line_too_long", f"{name} line {n}: longer than {max_line:,} bytes"))
            continue
        if n == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line.strip():
            continue
        try:
            value = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as e:
            bad.append(BadLine(n, "not_utf8", f"{name} line {n}: not UTF-8 at byte {e.start}"))
            continue
        except json.JSONDecodeError as e:
            bad.append(BadLine(n, "malformed_json", f"{name} line {n}: {e.msg} at column {e.colno}"))
            continue
        if not isinstance(value, dict):
            bad.append(BadLine(n, "not_an_object", f"{name} line {n}: a JSON {type(value).__name__}, not an object"))
            continue
        rows.append(value)
        numbers.append(n)
    return ParsedTable(pd.DataFrame.from_records(rows) if rows else pd.DataFrame(), bad, numbers)


def _delimited(stream: io.BufferedReader, name: str, sep: str, quoting: bool, max_line: int) -> ParsedTable:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=sep, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    bad: list[BadLine] = []
    old_limit = csv.field_size_limit(max_line)
    try:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                bad.append(BadLine(reader.line_num, "bad_row", f"{name} line {reader.line_num}: {e}"))
                continue
            except UnicodeDecodeError as e:
                raise SourceError(f"{name}: not UTF-8 text near line {reader.line_num + 1} (byte {e.start} of a "
                                  "block); convert it to UTF-8 first") from e
            if not row:
                continue  # a blank line
            if header is None:
                header = row
                dupes = sorted({c for c in header if header.count(c) > 1})
                if dupes:
                    raise SourceError(f"{name}: the header repeats column(s) {', '.join(map(repr, dupes))}; "
                                      "rename them so every column name is unique")
            elif len(row) != len(header):
                bad.append(BadLine(reader.line_num, "bad_row",
                                   f"{name} line {reader.line_num}: {len(row)} fields, the header has {len(header)}"))
            else:
                rows.append(row)
                numbers.append(reader.line_num)
    finally:
        csv.field_size_limit(old_limit)
        text.detach()
    if header is None:
        return ParsedTable(pd.DataFrame(), bad)
    return ParsedTable(pd.DataFrame(rows, columns=header, dtype=object), bad, numbers)


def _parquet(path: Path, member: str | None, limits: DecompressionLimits) -> ParsedTable:
    import pyarrow as pa

    try:
        if compression_of(path) is None:
            return ParsedTable(pd.read_parquet(path))
        with open_stream(path, member, limits) as (stream, _):
            data = read_bounded(stream, where=str(path), kind="compressed", compressed_size=path.stat().st_size,
                                limits=limits)
        return ParsedTable(pd.read_parquet(io.BytesIO(data)))
    except (pa.ArrowException, OSError, ValueError) as e:
        if isinstance(e, SourceError):
            raise
        raise SourceError(f"{path}: not a readable Parquet file ({e})") from e


def parse_table(path: Path, fmt: Format = "auto", *, quoting: bool = True, member: str | None = None,
                limits: DecompressionLimits = DecompressionLimits(), max_line_bytes: int = MAX_LINE_BYTES) -> ParsedTable:
    """Stream ``path`` and parse it as ``fmt``; raises SourceError for an unreadable or empty file."""
    if not path.is_file():
        raise SourceError(f"corpus file {path} not found")
    with open_stream(path, member, limits) as (stream, inner):
        fmt = fmt if fmt != "auto" else detect_format(inner)  # type: ignore[assignment]
        if fmt == "parquet":
            parsed = None
        elif fmt == "jsonl":
            parsed = _jsonl(stream, inner, max_line_bytes)
        else:
            parsed = _delimited(stream, inner, "\t" if fmt == "tsv" else ",", quoting, max_line_bytes)
        produced = stream.raw.produced  # type: ignore[attr-defined]
    if parsed is None:
        parsed = _parquet(path, member, limits)
    if parsed.frame.empty and not parsed.bad:
        what = "no bytes" if fmt != "parquet" and produced == 0 else "no rows"
        if fmt in ("csv", "tsv") and len(parsed.frame.columns):
            what = f"only a header ({', '.join(map(str, parsed.frame.columns))}) and no rows"
        raise SourceError(f"{path} is empty: it holds {what}; nothing to import")
    return parsed
