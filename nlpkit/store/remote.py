"""The store on object storage (``s3://bucket/prefix``): a path type with the part of ``pathlib``'s API it uses.

The store's code walks folders with ``Path`` calls (``/``, ``iterdir``, ``is_dir``, ``glob``,
``stat``, ``unlink``). :class:`ObjectPath` answers the same calls from an object store through
pyarrow's native ``S3FileSystem`` (not a Python filesystem: pyarrow I/O threads calling into
Python abort the interpreter at exit, apache/arrow#34314), and carries the ``storage_options``
that delta-rs needs for every ``DeltaTable`` it opens. Folders do not exist on object storage:
``mkdir`` does nothing and a folder "exists" while some object has its prefix.

Storage options use delta-rs / object_store's names (``endpoint_url``, ``access_key_id``,
``secret_access_key``, ``session_token``, ``region``, ``allow_http``, ``conditional_put``).
``conditional_put: etag`` is what makes concurrent Delta commits safe on S3 (a commit is
written only if no other writer wrote that log entry first); without it delta-rs refuses to
write unless a locking provider is configured.
"""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pyarrow.fs as pafs

from nlpkit.errors import StorageError

__all__ = ["STORAGE_OPTION_KEYS", "ObjectPath", "ObjectStore", "is_uri", "parse_store_uri"]

#: The storage options nlpkit accepts (delta-rs names); anything else is refused by name.
STORAGE_OPTION_KEYS = ("endpoint_url", "access_key_id", "secret_access_key", "session_token", "region",
                       "allow_http", "conditional_put")


def is_uri(root: object) -> bool:
    """True for ``scheme://...`` strings (object storage), False for local paths."""
    return isinstance(root, str) and "://" in root


@dataclass
class ObjectStore:
    """One bucket with its options: the pyarrow filesystem and delta-rs options built from them."""

    bucket: str
    options: dict[str, str]
    cache_dir: Path
    _fs: pafs.FileSystem | None = field(default=None, repr=False)

    @property
    def fs(self) -> pafs.FileSystem:
        if self._fs is None:
            o = self.options
            kwargs: dict[str, Any] = {}
            endpoint = o.get("endpoint_url")
            if endpoint:
                parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
                kwargs["endpoint_override"] = parts.netloc
                kwargs["scheme"] = parts.scheme or "https"
            if o.get("access_key_id"):
                kwargs["access_key"] = o["access_key_id"]
                kwargs["secret_key"] = o.get("secret_access_key", "")
                if o.get("session_token"):
                    kwargs["session_token"] = o["session_token"]
            if o.get("region"):
                kwargs["region"] = o["region"]
            self._fs = pafs.S3FileSystem(**kwargs)
        return self._fs

    def delta_options(self) -> dict[str, str]:
        """The options handed to delta-rs (``DeltaTable``, ``write_deltalake``)."""
        return dict(self.options)


def parse_store_uri(uri: str, storage_options: Mapping[str, str] | None, cache_dir: Path | None) -> ObjectPath:
    """``s3://bucket/prefix`` -> the store's root as an :class:`ObjectPath`; one-line errors for bad input."""
    parts = urlsplit(uri)
    if parts.scheme != "s3":
        raise StorageError(f"data directory {uri!r}: only s3:// URIs (or local paths) are supported; "
                           "use s3://bucket/prefix")
    if not parts.netloc:
        raise StorageError(f"data directory {uri!r} names no bucket; use s3://bucket/prefix")
    options = {str(k).lower(): str(v) for k, v in (storage_options or {}).items()}
    unknown = sorted(set(options) - set(STORAGE_OPTION_KEYS))
    if unknown:
        raise StorageError(f"unknown storage option {unknown[0]!r}; allowed: {', '.join(STORAGE_OPTION_KEYS)}")
    key = hashlib.sha256(uri.rstrip("/").encode()).hexdigest()[:16]
    cache = (cache_dir or Path(tempfile.gettempdir()) / "nlpkit-store-cache") / key
    conn = ObjectStore(parts.netloc, options, cache)
    return ObjectPath(conn, "/".join(p for p in (parts.netloc, parts.path.strip("/")) if p))


class ObjectPath:
    """A location in an object store, answering the ``pathlib.Path`` calls the store makes."""

    __slots__ = ("conn", "key")

    def __init__(self, conn: ObjectStore, key: str) -> None:
        self.conn = conn
        self.key = key.strip("/")  # "bucket/prefix/..."

    # -- names ---------------------------------------------------------------------------------
    def __truediv__(self, part: str | Path) -> ObjectPath:
        return ObjectPath(self.conn, f"{self.key}/{str(part).strip('/')}")

    def __str__(self) -> str:
        return f"s3://{self.key}"

    def __repr__(self) -> str:
        return f"ObjectPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectPath) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: ObjectPath) -> bool:
        return self.key < other.key

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def parent(self) -> ObjectPath:
        return ObjectPath(self.conn, self.key.rsplit("/", 1)[0])

    def resolve(self) -> ObjectPath:
        return self

    def relative_to(self, other: ObjectPath) -> Path:
        return Path(self.key[len(other.key):].lstrip("/"))

    @property
    def storage_options(self) -> dict[str, str]:
        return self.conn.delta_options()

    # -- queries ---------------------------------------------------------------------------------
    def _listing(self, what: Any) -> Any:
        """``get_file_info(what)``; an unreachable store or refused credentials become one StorageError."""
        try:
            return self.conn.fs.get_file_info(what)
        except OSError as e:
            first = str(e).split("; Details", 1)[0].splitlines()[0]
            raise StorageError(f"cannot read {self}: {first}; check endpoint_url, credentials and region "
                               "(store.storage_options in flows.yaml or the AWS_* variables)") from e

    def _info(self) -> pafs.FileInfo:
        return self._listing(self.key)

    def exists(self) -> bool:
        return self._info().type != pafs.FileType.NotFound

    def is_dir(self) -> bool:
        return self._info().type == pafs.FileType.Directory

    def is_file(self) -> bool:
        return self._info().type == pafs.FileType.File

    def iterdir(self) -> Iterator[ObjectPath]:
        if not self.is_dir():
            return iter(())
        infos = self._listing(pafs.FileSelector(self.key, recursive=False, allow_not_found=True))
        return iter(sorted(ObjectPath(self.conn, i.path) for i in infos))

    def glob(self, pattern: str) -> Iterator[ObjectPath]:
        return (p for p in self.iterdir() if fnmatch.fnmatchcase(p.name, pattern))

    def rglob(self, pattern: str) -> Iterator[ObjectPath]:
        infos = self._listing(pafs.FileSelector(self.key, recursive=True, allow_not_found=True))
        return (ObjectPath(self.conn, i.path) for i in infos if fnmatch.fnmatchcase(i.base_name, pattern))

    def stat(self) -> SimpleNamespace:
        info = self._info()
        if info.type == pafs.FileType.NotFound:
            raise FileNotFoundError(str(self))
        mtime = info.mtime.timestamp() if info.mtime is not None else 0.0
        return SimpleNamespace(st_size=info.size or 0, st_mtime=mtime)

    # -- changes -------------------------------------------------------------------------------
    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Nothing to do: an object store has no folders (a prefix exists once an object has it)."""

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            self.conn.fs.delete_file(self.key)
        except FileNotFoundError:
            if not missing_ok:
                raise

    def rmtree(self) -> None:
        """Delete every object under this prefix (ignores a prefix that is already gone)."""
        if self.is_dir():
            self.conn.fs.delete_dir(self.key)

    def upload(self, src: Path) -> None:
        """Copy local file ``src`` to this location."""
        pafs.copy_files(str(src), self.key, source_filesystem=pafs.LocalFileSystem(),
                        destination_filesystem=self.conn.fs)

    def download_tree(self, dest: Path) -> None:
        """Copy every object under this prefix into local folder ``dest`` (built aside, then renamed)."""
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
        try:
            tmp.mkdir(parents=True)
            pafs.copy_files(self.key, str(tmp), source_filesystem=self.conn.fs,
                            destination_filesystem=pafs.LocalFileSystem())
            tmp.rename(dest)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not dest.is_dir():
                raise
