"""Writing a query result to a file with pyarrow: CSV/TSV (nested columns as JSON text), Parquet, JSON.

The sandbox's SQL cannot write files, so ``nlpkit query --out`` goes through here. The file
is written next to its destination and renamed into place, so a failed export leaves no
half-written file.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Iterator
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

from nlpkit.errors import NlpkitError, StorageError
from nlpkit.store.layout import os_error_message

__all__ = ["stream_table", "write_batches", "write_table"]


def _flat(table: pa.Table) -> pa.Table:
    """Nested columns (list, struct, map) as JSON text, so CSV can hold them."""
    cols = []
    for field, col in zip(table.schema, table.columns):
        t = field.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t) or pa.types.is_map(t):
            col = pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                            for v in col.to_pylist()], pa.string())
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def _write(table: pa.Table, tmp: Path, suffix: str) -> None:
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, tmp, compression="zstd")
    elif suffix in (".csv", ".tsv"):
        import pyarrow.csv as pacsv

        pacsv.write_csv(_flat(table), tmp, pacsv.WriteOptions(delimiter="\t" if suffix == ".tsv" else ","))
    else:
        rows: list[dict[str, Any]] = table.to_pylist()
        with tmp.open("w", encoding="utf-8") as f:
            if suffix == ".jsonl":
                for r in rows:
                    f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
            else:
                json.dump(rows, f, ensure_ascii=False, default=str)


def write_table(table: pa.Table, out: Path) -> None:
    """Write ``table`` to ``out`` in the format its suffix names (.csv .tsv .parquet .json .jsonl)."""
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write(table, tmp, out.suffix.lower())
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        msg = os_error_message(e, f"cannot write {out}")
        if msg is None:
            msg = f"cannot write {out}: {e.strerror or e}; choose another --out path"
        raise StorageError(msg) from e


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has no such numbers; browsers refuse ``NaN``)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def stream_table(batches: pa.RecordBatchReader | _Counted, suffix: str) -> Iterator[bytes]:
    """``batches`` as the bytes of a ``.csv``/``.tsv`` (nested columns as JSON text), ``.parquet`` or ``.json``
    (one array of row objects, dates as ISO text) file, one piece per batch: a download of a large result is
    sent as it is read, never held whole."""
    if suffix not in (".csv", ".tsv", ".parquet", ".json"):
        raise ValueError(f"stream_table writes .csv, .tsv, .parquet or .json, not {suffix!r}")
    if suffix == ".json":
        yield b"["
        sep = b""
        for batch in batches:
            rows = [json.dumps(_finite(r), ensure_ascii=False, default=str, allow_nan=False) for r in batch.to_pylist()]
            if rows:
                yield sep + ",\n".join(rows).encode("utf-8")
                sep = b",\n"
        yield b"]\n"
        return
    sink = io.BytesIO()

    def drain() -> bytes:
        data = sink.getvalue()
        sink.seek(0)
        sink.truncate()
        return data

    if suffix == ".parquet":
        import pyarrow.parquet as pq

        with pq.ParquetWriter(sink, batches.schema, compression="zstd") as writer:
            for batch in batches:
                writer.write_batch(batch)
                yield drain()
        yield drain()  # the footer
        return
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(delimiter="\t" if suffix == ".tsv" else ",")
    writer = None
    for batch in batches:
        table = _flat(pa.Table.from_batches([batch]))
        if writer is None:
            writer = pacsv.CSVWriter(sink, table.schema, write_options=options)
        writer.write_table(table)
        yield drain()
    if writer is None:  # no rows: the header alone
        pacsv.write_csv(_flat(batches.schema.empty_table()), sink, options)
    else:
        writer.close()
    yield drain()


def write_batches(batches: pa.RecordBatchReader, out: Path) -> int:
    """Stream ``batches`` into ``out`` (format by suffix, as :func:`write_table`), one batch in memory at a
    time; returns the rows written. The file appears only when every batch arrived: a reader that
    fails (a query over a limit) leaves nothing at ``out``."""
    suffix = out.suffix.lower()
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    counted = _Counted(batches)  # not a second RecordBatchReader: its C++ layer would swap the reader's error
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as f:
            if suffix in (".csv", ".tsv", ".parquet"):
                for piece in stream_table(counted, suffix):
                    f.write(piece)
            else:
                first = True
                f.write(b"" if suffix == ".jsonl" else b"[")
                for batch in counted:
                    for r in batch.to_pylist():
                        line = json.dumps(r, ensure_ascii=False, default=str)
                        f.write((line + "\n" if suffix == ".jsonl" else ("" if first else ", ") + line).encode())
                        first = False
                f.write(b"" if suffix == ".jsonl" else b"]")
        os.replace(tmp, out)
    except NlpkitError:  # the query's own error (a limit, a failure): said as it is
        tmp.unlink(missing_ok=True)
        raise
    except OSError as e:
        tmp.unlink(missing_ok=True)
        msg = os_error_message(e, f"cannot write {out}")
        raise StorageError(msg or f"cannot write {out}: {e.strerror or e}; choose another --out path") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return counted.rows


class _Counted:
    """A batch stream (``schema`` + iteration) that counts the rows it hands out."""

    def __init__(self, batches: pa.RecordBatchReader) -> None:
        self.schema = batches.schema
        self._batches = batches
        self.rows = 0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for batch in self._batches:
            self.rows += batch.num_rows
            yield batch
