"""Where the store keeps things, what names are allowed, and how a Delta table is read safely.

Layout under the data directory (every table is a Delta Lake table: Parquet files plus a
``_delta_log/`` of atomic commits)::

    datasets/<name>/data/              the dataset's main table; one overwrite commit per version
    datasets/<name>/<table>/           its other tables (``rejects`` ...), committed before ``data``
    datasets/<name>/_artifacts/<id>/   extra files of one version (models, indexes), named in its commit
    tables/<name>/                     append-only tables (articles, fetch_log, runs, model_runs ...)
    locks/<name>.lock                  serialises writers of one dataset (readers never take it)

The names here become SQL names (``<dataset>``, ``<dataset>_<table>``, ``<dataset>__v<N>``),
so they are checked once, here, for everything that creates one.
"""

from __future__ import annotations

import errno
import hashlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs

from nlpkit import __version__
from nlpkit.errors import DatasetError, StoreLayoutError

if TYPE_CHECKING:
    import pyarrow.dataset as pads

__all__ = [
    "MAX_NAME",
    "StorePath",
    "arrow_dataset",
    "arrow_fs",
    "code_version",
    "delta_compatible",
    "delta_table",
    "file_sha256",
    "is_delta_table",
    "os_error_message",
    "refuse_old_layout",
    "remove_tree",
    "storage_options",
    "validate_name",
]

#: A location in the store: a local ``Path`` or an :class:`~nlpkit.store.remote.ObjectPath` (s3://).
StorePath = Any

MAX_NAME = 63
_FIRST = "abcdefghijklmnopqrstuvwxyz"
_ALLOWED = set(_FIRST + "0123456789_")


def validate_name(name: object, what: str = "dataset") -> str:
    """Return ``name`` if it can be a dataset/table name (and so an unquoted SQL name); else raise.

    Allowed: lower-case letters, digits and single ``_``, starting with a letter, at most 63
    characters. ``__`` is reserved for version names (``imdb__v3``).

    >>> validate_name("imdb_rejects")
    'imdb_rejects'
    """
    if not isinstance(name, str) or not name:
        raise DatasetError(f"invalid {what} name {name!r}: give a non-empty name like 'my_corpus'")
    if len(name) > MAX_NAME:
        raise DatasetError(
            f"invalid {what} name {name[:20]!r}... ({len(name)} characters): at most {MAX_NAME}, because the name "
            f"is also an SQL name and gets suffixes like '__v12'; choose a shorter name"
        )
    if name[0] not in _FIRST or not set(name) <= _ALLOWED:
        raise DatasetError(
            f"invalid {what} name {name!r}: use lower-case letters, digits and '_', starting with a letter"
        )
    if "__" in name:
        raise DatasetError(
            f"invalid {what} name {name!r}: '__' is reserved for version names like 'imdb__v3'; use a single '_'"
        )
    return name


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def code_version() -> str:
    """nlpkit's version plus the git commit of the working tree when there is one."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


def is_delta_table(path: StorePath) -> bool:
    """True when ``path`` holds a Delta log with at least one commit."""
    log = path / "_delta_log"
    return log.is_dir() and any(log.glob("*.json"))


def storage_options(path: StorePath) -> dict[str, str] | None:
    """The delta-rs storage options of ``path`` (None for a local path)."""
    return getattr(path, "storage_options", None)


def delta_table(path: StorePath, version: int | None = None) -> Any:
    """The Delta table at ``path`` (local or object storage), at ``version`` (latest when None)."""
    from deltalake import DeltaTable

    return DeltaTable(str(path), version=version, storage_options=storage_options(path))


def arrow_fs(path: StorePath) -> tuple[pafs.FileSystem, str]:
    """pyarrow's native filesystem for ``path`` and the path as that filesystem names it."""
    conn = getattr(path, "conn", None)
    if conn is not None:
        return conn.fs, path.key
    return pafs.LocalFileSystem(), str(Path(path).resolve())


def remove_tree(path: StorePath) -> None:
    """Delete a folder (local) or every object under a prefix (object storage); missing is fine."""
    if isinstance(path, Path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.rmtree()


def arrow_dataset(dt: Any, path: StorePath, *, commit_order: bool = False) -> pads.Dataset:
    """The files of Delta snapshot ``dt`` as a pyarrow Dataset read through pyarrow's native filesystem.

    ``DeltaTable.to_pyarrow_dataset()`` reads through a Python-implemented filesystem
    (``PyFileSystem(DeltaStorageHandler)``): pyarrow's I/O threads then call into Python, and
    threads still alive at interpreter exit abort the process ("terminate called without an
    active exception", exit 134; apache/arrow#34314). Reading the same files through
    ``LocalFileSystem`` (or ``S3FileSystem`` for a store on object storage) keeps Python out of
    those threads. ``commit_order`` sorts the files by
    the time they were written, so appended rows come back in the order they were appended.
    """
    import pyarrow.dataset as pads  # 1 s of pandas/pyarrow.dataset imports: only when a table is read

    fs = pafs.SubTreeFileSystem(*reversed(arrow_fs(path)))
    ds = dt.to_pyarrow_dataset(filesystem=fs)
    if not commit_order:
        return ds
    actions = pa.table(dt.get_add_actions(flatten=True))
    times = dict(zip(actions.column("path").to_pylist(), actions.column("modification_time").to_pylist()))
    frags = list(ds.get_fragments())
    # the snapshot lists files newest first: reverse it, then sort stably by write time
    frags = sorted(reversed(frags), key=lambda f: _as_millis(times.get(f.path)))
    return pads.FileSystemDataset(frags, ds.schema, ds.format, fs)


def _as_millis(value: Any) -> float:
    if value is None:
        return 0.0
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)


def delta_compatible(table: pa.Table) -> pa.Table:
    """Cast types Delta Lake cannot store to the nearest ones it can (ns timestamps -> us, uint -> int, ...)."""
    schema = pa.schema([f.with_type(_delta_type(f.type)) for f in table.schema])
    return table if schema.equals(table.schema) else table.cast(schema)


def _delta_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(t):
        return _delta_type(t.value_type)
    if pa.types.is_timestamp(t) and t.unit != "us":
        return pa.timestamp("us", tz=t.tz)
    if pa.types.is_unsigned_integer(t):
        # uint64 values reach 2**64 - 1, past int64: an exact decimal(20, 0) (found by the hypothesis import test)
        return {8: pa.int16(), 16: pa.int32(), 32: pa.int64()}.get(t.bit_width, pa.decimal128(20, 0))
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t):
        return pa.binary()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(t.value_field.with_type(_delta_type(t.value_type)))
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(_delta_type(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_time(t) or pa.types.is_duration(t):
        return pa.string()
    return t


def os_error_message(e: BaseException, what: str) -> str | None:
    """One line naming an expected storage failure and its fix, or None when ``e`` is not one."""
    text = str(e)
    code = getattr(e, "errno", None)
    if code == errno.ENOSPC or "No space left" in text:
        return f"{what}: the disk is full (No space left on device); free space or point NLPKIT_DATA_DIR elsewhere"
    if code == errno.EROFS or "Read-only file system" in text:
        return f"{what}: the data directory is on a read-only file system; use a writable NLPKIT_DATA_DIR"
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return f"{what}: permission denied; make the data directory writable for this user or use another NLPKIT_DATA_DIR"
    return None


_OLD_PART = re.compile(r"^part-\d{8}T\d{12}-[0-9a-f]+\.parquet$")


def refuse_old_layout(root: StorePath) -> None:
    """Raise if ``root`` still holds the pre-Delta layout (``datasets/<name>/LATEST``, ``tables/*/part-*``)."""
    if not isinstance(root, Path):  # the old layout was never written to object storage
        return
    base = root / "datasets"
    old = base.is_dir() and any((d / "LATEST").is_file() for d in base.iterdir() if d.is_dir())
    tables = root / "tables"
    if not old and tables.is_dir():
        # the old writer's names (part-<UTC stamp>-<8 hex>.parquet), not delta-rs's (part-00001-<uuid>-c000...):
        # a Delta table's first data file exists before its _delta_log does, while another process creates it
        old = any(not is_delta_table(d) and any(_OLD_PART.match(f.name) for f in d.glob("part-*.parquet"))
                  for d in tables.iterdir() if d.is_dir())
    if old:
        raise StoreLayoutError(
            f"{root} holds a store in the old Parquet layout (LATEST files / part-*.parquet); "
            "convert it once with `nlpkit data migrate`"
        )
