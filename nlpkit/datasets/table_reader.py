"""Reading a corpus file (JSONL, CSV/TSV, Parquet; plain, .gz, .bz2, .xz or .zip) row by row.

The file is streamed through :func:`nlpkit.datasets.limits.open_stream`, so a decompression
bomb stops at the configured cap and memory holds the parsed rows, not copies of the file.
A line that does not parse (malformed JSON, a JSON value that is not an object, a CSV row
with the wrong number of fields, a line over ``max_line_bytes``) becomes a :class:`BadLine`
with its line number and the reason; the other rows are kept. A row is read whole or rejected
whole: a CSV record (quoted newlines included) over ``max_line_bytes`` characters is skipped to
its real end, and a JSON row past the :class:`~nlpkit.datasets.records.RowLimits` (nesting depth 32,
1,000 keys per object, 2,000 distinct keys per file, no unpaired surrogate) is one reject.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from nlpkit.datasets.limits import DecompressionLimits, compression_of, open_stream, read_bounded
from nlpkit.datasets.records import RowLimits, TooLong, csv_records, json_row_problem
from nlpkit.errors import SourceError

__all__ = ["BadLine", "Format", "ParsedTable", "detect_format", "parse_table"]

Format = Literal["auto", "jsonl", "csv", "tsv", "parquet"]

#: Longest line (bytes) a JSONL/CSV row may take; longer lines become rejects (memory stays bounded).
MAX_LINE_BYTES = 32 << 20


@dataclass(frozen=True, slots=True)
class BadLine:
    """One line of the file that could not be read as a row."""

    line: int  # 1-based physical line number (for CSV: the line the record ends on)
    reason: Literal["malformed_json", "not_an_object", "not_utf8", "bad_row", "line_too_long", "over_limit"]
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


def _jsonl(stream: io.BufferedReader, name: str, max_line: int, limits: RowLimits = RowLimits()) -> ParsedTable:
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    bad: list[BadLine] = []
    paths: set[str] = set()
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
        except RecursionError:  # thousands of nested [ or {: past Python's parser, far past the limit
            bad.append(BadLine(n, "over_limit", f"{name} line {n}: nested deeper than {limits.max_depth} levels "
                                                "(the limit for a row)"))
            continue
        if not isinstance(value, dict):
            bad.append(BadLine(n, "not_an_object", f"{name} line {n}: a JSON {type(value).__name__}, not an object"))
            continue
        if (problem := json_row_problem(value, limits, paths, line)) is not None:
            bad.append(BadLine(n, "over_limit", f"{name} line {n}: {problem}"))
            continue
        rows.append(value)
        numbers.append(n)
    return ParsedTable(pd.DataFrame.from_records(rows) if rows else pd.DataFrame(), bad, numbers)


class _OneRecord:
    """An iterator that hands :func:`csv.reader` the one record put in ``next``, then stops until the next."""

    def __init__(self) -> None:
        self.next: str | None = None

    def __iter__(self) -> _OneRecord:
        return self

    def __next__(self) -> str:
        record, self.next = self.next, None
        if record is None:
            raise StopIteration
        return record


def _delimited(stream: io.BufferedReader, name: str, sep: str, quoting: bool, max_line: int) -> ParsedTable:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    bad: list[BadLine] = []
    old_limit = csv.field_size_limit(max_line + 1)  # records are cut to max_line first; a field never passes it
    records = csv_records(text, sep, quoting, max_line)
    texts = _OneRecord()  # csv.reader parses one whole record at a time: a bad one cannot spill over
    reader = csv.reader(texts, delimiter=sep, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
    try:
        while True:
            try:
                record = next(records, None)
            except UnicodeDecodeError as e:
                raise SourceError(f"{name}: not UTF-8 text after line {numbers[-1] if numbers else 0} (byte "
                                  f"{e.start} of a block); convert it to UTF-8 first") from e
            if record is None:
                break
            if isinstance(record, TooLong):
                where = f"lines {record.first}-{record.last}" if record.last > record.first else f"line {record.last}"
                bad.append(BadLine(record.last, "line_too_long", f"{name} {where}: a row of over {max_line:,} "
                                   f"characters ({record.chars:,}; an over-long or unclosed quoted field), "
                                   "rejected whole"))
                continue
            _, last, body = record
            texts.next = body
            try:
                row = next(reader, [])
            except csv.Error as e:
                bad.append(BadLine(last, "bad_row", f"{name} line {last}: {e}"))
                continue
            if not row:
                continue  # a blank line
            if header is None:
                header = row
                dupes = sorted({c for c in header if header.count(c) > 1})
                if dupes:
                    raise SourceError(f"{name}: the header repeats column(s) {', '.join(map(repr, dupes))}; "
                                      "rename them so every column name is unique")
            elif len(row) != len(header):
                bad.append(BadLine(last, "bad_row", f"{name} line {last}: {len(row)} fields, the header has {len(header)}"))
            else:
                rows.append(row)
                numbers.append(last)
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


def _check_regular_file(path: Path) -> None:
    """SourceError unless ``path`` is (or links to) a regular file, saying what it is instead."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise SourceError(f"corpus file {path} is a broken symbolic link (to {os.readlink(path)}); "
                              "give a regular file") from None
        raise SourceError(f"corpus file {path} not found") from None
    except OSError as e:
        raise SourceError(f"cannot read corpus file {path}: {e.strerror or e}") from e
    if stat.S_ISREG(st.st_mode):
        return
    kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a character device" if stat.S_ISCHR(st.st_mode)
            else "a block device" if stat.S_ISBLK(st.st_mode) else "a pipe (FIFO)" if stat.S_ISFIFO(st.st_mode)
            else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
    target = os.path.realpath(path)
    via = f" (a link to {target})" if target != os.path.abspath(path) else ""
    raise SourceError(f"corpus file {path}{via} is {kind}, not a regular file; give a regular file to import")


def parse_table(path: Path, fmt: Format = "auto", *, quoting: bool = True, member: str | None = None,
                limits: DecompressionLimits = DecompressionLimits(), max_line_bytes: int = MAX_LINE_BYTES) -> ParsedTable:
    """Stream ``path`` and parse it as ``fmt``; raises SourceError for an unreadable or empty file."""
    _check_regular_file(path)
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
