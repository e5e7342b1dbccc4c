"""Whole rows within stated limits: CSV records split before parsing, JSON rows checked after.

A row is read whole or rejected whole. The CSV reader of the standard library, stopped by its
field-size limit inside a quoted field, resumes *inside* that field and reads its text as rows
(a 40 MB quoted field of CSV-looking text gave 446,284 made-up rows). :func:`csv_records` finds
where each record ends first, with the same quoting rules as :mod:`csv` (``QUOTE_MINIMAL``,
doubled quotes, lenient text after a closing quote), reading at most ``max_chars`` of a record
and 1 MiB of a line at a time; a longer record is skipped to its real end and reported once.

JSON rows are checked against :class:`RowLimits` (:func:`json_row_problem`): nesting depth (Delta
Lake and Arrow cannot store or query much deeper structs; Python's parser overflows near 1,000),
keys per object, distinct key paths per file (400 rows of 400 new keys each made a 160,000-column
table) and unpaired UTF-16 surrogates (``"\\ud800"``, which no UTF-8 file can store).

>>> [r for r in csv_records(io.StringIO('a,b\\n"x\\ny",z\\n'), ",", True, 100)]
[(1, 1, 'a,b\\n'), (2, 3, '"x\\ny",z\\n')]
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_COLUMNS", "MAX_JSON_DEPTH", "MAX_KEYS", "RowLimits", "TooLong", "csv_records", "json_row_problem"]

#: Deepest nesting of a JSON row (the row object is depth 1): Delta Lake's schema reader overflows near 40.
MAX_JSON_DEPTH = 32
#: Most keys in one JSON object.
MAX_KEYS = 1_000
#: Most distinct key paths (``a``, ``a.b``, ``a[].c``) in one file: each becomes a column or struct field.
MAX_COLUMNS = 2_000
_PIECE = 1 << 20  # characters read from a line at a time


@dataclass(frozen=True, slots=True)
class RowLimits:
    """Caps on one JSON row; a row past any of them is a per-line reject, the others are kept."""

    max_depth: int = MAX_JSON_DEPTH
    max_keys: int = MAX_KEYS
    max_columns: int = MAX_COLUMNS


@dataclass(frozen=True, slots=True)
class TooLong:
    """A record longer than the cap: skipped from its first to its last physical line."""

    first: int
    last: int
    chars: int


# -- CSV ---------------------------------------------------------------------------------------------
def _state_after(piece: str, state: int, sep: str, field_rx: re.Pattern[str], fields_rx: re.Pattern[str]) -> int:
    """The :mod:`csv` parser state after ``piece``: 0 field start, 1 in an unquoted field (or text after
    a closing quote), 2 in a quoted field, 3 just after a quote inside a quoted field, -1 record ended."""
    pos, n = 0, len(piece)
    while pos < n:
        if state == 0:  # skip the whole fields (each followed by a separator) in one C call
            pos = fields_rx.match(piece, pos).end()  # type: ignore[union-attr]
            if pos >= n:
                return 0
        if state == 2:
            end = piece.find('"', pos)
            if end < 0:
                return 2
            pos, state = end + 1, 3
            continue
        c = piece[pos]
        if state == 3:
            if c == '"':  # a doubled quote: a literal quote, still quoted
                pos, state = pos + 1, 2
                continue
            state = 1 if c != sep and c not in "\r\n" else state
        elif state == 0 and c == '"':
            pos, state = pos + 1, 2
            continue
        if c == sep:
            pos, state = pos + 1, 0
        elif c in "\r\n":
            return -1
        else:
            pos = field_rx.match(piece, pos).end()  # type: ignore[union-attr]
            state = 1
    return state


def csv_records(text: io.TextIOBase, sep: str, quoting: bool, max_chars: int) -> Iterator[tuple[int, int, str] | TooLong]:
    """``(first line, last line, record text)`` for each record of ``text``, or :class:`TooLong`.

    ``text`` must be opened with ``newline=""``. With ``quoting=False`` (``csv.QUOTE_NONE``) every
    physical line is a record. Memory holds at most ``max_chars`` of a record plus 1 MiB.
    """
    d = re.escape(sep)
    field_rx = re.compile(f"[^{d}\r\n]*")
    # one whole record on one line (every quote closed), recognised in C: most quoted lines
    field = f'(?:"(?:[^"]|"")*+"(?:[^{d}"\r\n][^{d}\r\n]*+)?|[^{d}"\r\n][^{d}\r\n]*+|)'
    one_line = re.compile(f"{field}(?:{d}{field})*+(?:\r\n|\n|\r)")
    fields_rx = re.compile(f"(?:{field}{d})*+")
    line_no, first, size, state, whole_line = 0, 1, 0, 0, False
    parts: list[str] | None = []
    cut_cr = after_cr = False  # the last piece was cut after a "\r" (and that ended a record)
    while piece := text.readline(_PIECE):
        if cut_cr and piece.startswith("\n"):  # a "\r\n" that the 1 MiB read cut in two: one line end
            if after_cr:
                cut_cr = after_cr = False
                continue
            line_no -= 1
        cut_cr = len(piece) == _PIECE and piece.endswith("\r")
        whole_line = piece.endswith(("\n", "\r"))
        if not quoting or ('"' not in piece and state in (0, 1)):  # the common case: no quote to follow
            ended = whole_line
            state = -1 if ended else 0 if piece.endswith(sep) else 1
        elif state == 0 and one_line.fullmatch(piece):
            ended, state = True, -1
        else:
            state = _state_after(piece, state, sep, field_rx, fields_rx)
            ended = state == -1
        after_cr = ended and piece.endswith("\r")
        if whole_line:
            line_no += 1
        size += len(piece)
        if parts is not None:
            if size > max_chars:
                parts = None  # over the cap: keep reading to the record's end, keep nothing
            else:
                parts.append(piece)
        if ended:
            yield (first, line_no, "".join(parts)) if parts is not None else TooLong(first, line_no, size)
            first, size, state, parts = line_no + 1, 0, 0, []
    if size:  # the last record: no final newline, or a quote left open
        last = line_no if whole_line else line_no + 1
        yield (first, last, "".join(parts)) if parts is not None else TooLong(first, last, size)


# -- JSON --------------------------------------------------------------------------------------------
def json_row_problem(row: dict[str, Any], limits: RowLimits, paths: set[str], raw: bytes) -> str | None:
    """Why ``row`` (parsed from ``raw``) breaks ``limits``, or None; adds its key paths to ``paths``
    (the file's so far) only when it is accepted."""
    found: set[str] = set()
    stack: list[tuple[Any, str, int]] = [(row, "", 1)]
    while stack:
        value, prefix, depth = stack.pop()
        if depth > limits.max_depth:
            return f"nested deeper than {limits.max_depth} levels (the limit for a row)"
        if isinstance(value, dict):
            if len(value) > limits.max_keys:
                return f"an object with {len(value):,} keys at {prefix or 'the top'} (the limit is {limits.max_keys:,})"
            for k, v in value.items():
                path = f"{prefix}.{k}" if prefix else str(k)
                found.add(path)
                if isinstance(v, (dict, list)):
                    stack.append((v, path, depth + 1))
        elif isinstance(value, list):
            for v in value:
                if isinstance(v, (dict, list)):
                    stack.append((v, prefix + "[]", depth + 1))
    new = found - paths
    if new and len(paths) + len(new) > limits.max_columns:
        return (f"adds {len(new):,} new keys to the {len(paths):,} seen so far; a file may hold at most "
                f"{limits.max_columns:,} distinct keys (each becomes a column)")
    if b"\\u" in raw and re.search(rb"\\u[dD][89a-fA-F]", raw) and (bad := _lone_surrogate(row)):
        return f"holds an unpaired UTF-16 surrogate {bad!r}, which UTF-8 cannot store; fix the escape"
    paths |= new
    return None


def _lone_surrogate(value: Any) -> str | None:
    """The first unpaired surrogate in a string of ``value`` (keys included), escaped; None if none."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as e:
                return v[e.start:e.end].encode("unicode_escape").decode("ascii")
        elif isinstance(v, dict):
            stack.extend(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return None
