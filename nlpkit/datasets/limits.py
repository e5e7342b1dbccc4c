"""Bounded decompression: every compressed input is read as a stream with a size and ratio cap.

A 1 MB zip can hold 1 GB of zeros. Readers here count the bytes they hand out and stop with
a :class:`~nlpkit.errors.SourceError` as soon as the output passes ``max_bytes``, or passes
``max_ratio`` times the compressed size once it is larger than ``ratio_floor`` (real text
compresses 3-10x; a bomb 1000x). A truncated or corrupt archive (``EOFError``, ``zlib.error``,
``BadZipFile``, bad CRC) becomes a one-line SourceError naming the file, never a traceback.

>>> with open_stream(Path("corpus.jsonl.gz")) as (stream, inner):   # doctest: +SKIP
...     for line in stream: ...
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from nlpkit.errors import SourceError

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_RATIO", "DecompressionLimits", "BoundedReader", "CORRUPT_ERRORS", "check_member",
           "compression_of", "open_stream", "read_bounded"]

#: Default cap on the decompressed size of one input (4 GiB).
DEFAULT_MAX_BYTES = 4 << 30
#: Default cap on decompressed / compressed size (text: 3-10x, JSON with repeated keys: ~20x; a bomb: ~1000x).
DEFAULT_MAX_RATIO = 200.0

#: What a damaged compressed stream raises while it is read.
CORRUPT_ERRORS: tuple[type[BaseException], ...] = (
    EOFError, zlib.error, zipfile.BadZipFile, gzip.BadGzipFile, lzma.LZMAError, tarfile.TarError, OSError,
)

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


@dataclass(frozen=True, slots=True)
class DecompressionLimits:
    """Caps on what one compressed input may expand to."""

    max_bytes: int = DEFAULT_MAX_BYTES  # absolute cap on the decompressed bytes
    max_ratio: float = DEFAULT_MAX_RATIO  # decompressed / compressed, checked once past ratio_floor
    ratio_floor: int = 64 << 20  # small outputs are never refused for their ratio

    def check(self, produced: int, compressed: int, where: str) -> None:
        """Raise SourceError when ``produced`` decompressed bytes break a cap."""
        if produced > self.max_bytes:
            raise SourceError(
                f"{where} expands to more than {_size(self.max_bytes)} when decompressed; refusing it as a possible "
                f"decompression bomb (raise the limit with --max-decompressed-mb if the file is genuine)"
            )
        if produced > self.ratio_floor and produced > self.max_ratio * max(1, compressed):
            raise SourceError(
                f"{where} expands more than {self.max_ratio:g}x ({_size(compressed)} compressed -> over "
                f"{_size(produced)}); refusing it as a decompression bomb (raise the limit with --max-ratio if the file "
                "is genuine)"
            )


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def compression_of(path: Path) -> str | None:
    """``"zip"``, ``"gz"``, ``"bz2"``, ``"xz"`` by the file name's suffix, else None."""
    suffix = path.suffix.lower()
    return suffix[1:] if suffix in (".zip", *_OPENERS) else None


def _corrupt(where: str, kind: str, e: BaseException) -> SourceError:
    return SourceError(f"{where}: the {kind} data is truncated or corrupt ({e or type(e).__name__}); "
                       "re-download or re-create the file")


class BoundedReader(io.RawIOBase):
    """A read-only stream over ``inner`` that enforces :class:`DecompressionLimits` and turns
    corrupt-data errors into SourceError."""

    def __init__(self, inner: BinaryIO, *, where: str, kind: str, compressed_size: int,
                 limits: DecompressionLimits) -> None:
        super().__init__()
        self._inner, self._where, self._kind = inner, where, kind
        self._compressed, self._limits = compressed_size, limits
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(b))
        except SourceError:
            raise
        except CORRUPT_ERRORS as e:
            raise _corrupt(self._where, self._kind, e) from e
        n = len(data)
        b[:n] = data
        self.produced += n
        self._limits.check(self.produced, self._compressed, self._where)
        return n


@contextmanager
def open_stream(path: Path, member: str | None = None,
                limits: DecompressionLimits = DecompressionLimits()) -> Iterator[tuple[io.BufferedReader, str]]:
    """A buffered binary stream of ``path``'s data (decompressed, bounded) and the data file's name.

    ``.zip``: its only data file, or ``member``; ``.gz``/``.bz2``/``.xz``: the decompressed
    stream; anything else: the file itself.
    """
    kind = compression_of(path)
    size = path.stat().st_size
    with ExitStack() as stack:
        if kind == "zip":
            try:
                zf = stack.enter_context(zipfile.ZipFile(path))
                names = [n for n in zf.namelist() if not n.endswith("/") and not n.startswith("__MACOSX")]
            except CORRUPT_ERRORS as e:
                raise _corrupt(str(path), "zip", e) from e
            if member is None:
                if len(names) != 1:
                    raise SourceError(f"{path} holds {len(names)} files; choose one with --member "
                                      f"({', '.join(names[:10])})")
                member = names[0]
            elif member not in names:
                raise SourceError(f"{path} has no member {member!r}; members: {', '.join(names[:10])}")
            info = zf.getinfo(member)
            where = f"{path} ({member})"
            limits.check(info.file_size, info.compress_size, where)  # the declared size; the stream checks the real one
            try:
                inner: BinaryIO = stack.enter_context(zf.open(info))
            except (*CORRUPT_ERRORS, NotImplementedError) as e:
                raise _corrupt(str(path), "zip", e) from e
            raw = BoundedReader(inner, where=where, kind="zip", compressed_size=info.compress_size, limits=limits)
            name = member
        elif kind is not None:
            inner = stack.enter_context(_OPENERS["." + kind](path, "rb"))  # type: ignore[operator]
            raw = BoundedReader(inner, where=str(path), kind=kind, compressed_size=size, limits=limits)
            name = path.name[: -len(kind) - 1]
        else:
            inner = stack.enter_context(path.open("rb"))
            raw = BoundedReader(inner, where=str(path), kind="file", compressed_size=size,
                                limits=DecompressionLimits(max_bytes=max(size, 1) * 2, max_ratio=float("inf")))
            name = path.name
        yield io.BufferedReader(raw, 1 << 20), name


def read_bounded(inner: BinaryIO, *, where: str, kind: str, compressed_size: int,
                 limits: DecompressionLimits = DecompressionLimits()) -> bytes:
    """All of ``inner`` (a decompressing stream) as bytes, within ``limits``."""
    reader = BoundedReader(inner, where=where, kind=kind, compressed_size=compressed_size, limits=limits)
    out = io.BytesIO()
    while chunk := reader.read(1 << 20):
        out.write(chunk)
    return out.getvalue()


def check_member(total: int, member: tarfile.TarInfo, compressed_size: int, where: str,
                 limits: DecompressionLimits = DecompressionLimits()) -> int:
    """Add a tar member's declared size to the running ``total`` and check the caps; returns the new total."""
    total += max(0, member.size)
    limits.check(total, compressed_size, where)
    return total
