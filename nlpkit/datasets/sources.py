"""Helpers every dataset builder shares: files inside a source, seeded splits, row tables.

A source (after :func:`nlpkit.datasets.download.resolve_source`) is a plain file, a directory,
a tarball or a zip. :func:`read_members` finds the files a builder needs inside it by the end
of their path, so a GitHub archive (``repo-<sha>/labeled/train.tsv``), a copied folder
(``labeled/train.tsv``) and the bare file all work the same.
"""

from __future__ import annotations

import os
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlpkit.datasets.limits import CORRUPT_ERRORS, DecompressionLimits, check_member, open_stream
from nlpkit.errors import ConfigError, SourceError

__all__ = ["decode_utf8", "read_members", "stratified_split"]


def _matches(name: str, suffix: str) -> bool:
    name = name.replace(os.sep, "/")
    return name == suffix or name.endswith("/" + suffix)


def _is_archive(path: Path) -> bool:
    return zipfile.is_zipfile(path) or tarfile.is_tarfile(path)


def read_members(path: Path, wanted: Sequence[str], optional: Sequence[str] = (),
                 limits: DecompressionLimits = DecompressionLimits()) -> dict[str, bytes]:
    """Bytes of each ``wanted`` (and found ``optional``) file inside ``path``, keyed by the suffix.

    ``path`` may be a directory, a ``.tar(.gz)``, a ``.zip``, or, when one file is wanted, the
    file itself (``.gz`` is decompressed). Missing wanted files are a SourceError that lists them;
    compressed data is read within ``limits`` (a bomb or a corrupt archive is a SourceError).
    """
    suffixes = [*wanted, *optional]
    found: dict[str, bytes] = {}
    if path.is_dir():
        for suffix in suffixes:
            hits = sorted((p for p in path.rglob(Path(suffix).name) if _matches(str(p), suffix)),
                          key=lambda p: len(p.parts))
            if hits:
                found[suffix] = hits[0].read_bytes()
    elif path.is_file() and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except CORRUPT_ERRORS as e:
            raise SourceError(f"{path}: cannot read the zip archive ({e}); it is truncated or corrupt") from e
        for suffix in suffixes:
            hits = sorted((n for n in names if _matches(n, suffix)), key=len)
            if hits:
                with open_stream(path, hits[0], limits) as (stream, _):
                    found[suffix] = stream.read()
    elif path.is_file() and tarfile.is_tarfile(path):
        try:
            with tarfile.open(path, "r|*") as tar:
                expanded = 0
                for m in tar:
                    expanded = check_member(expanded, m, path.stat().st_size, str(path), limits)
                    for suffix in suffixes:
                        if suffix not in found and m.isfile() and _matches(m.name, suffix):
                            f = tar.extractfile(m)
                            found[suffix] = f.read() if f is not None else b""
        except SourceError:
            raise
        except (tarfile.TarError, EOFError, OSError) as e:
            raise SourceError(f"{path}: cannot read the archive ({e}); it is truncated or corrupt") from e
    elif path.is_file():
        name = path.name[:-3] if path.name.endswith(".gz") else path.name
        hits = [s for s in suffixes if Path(s).name == name] or (list(wanted) if len(wanted) == 1 else [])
        if hits:
            if path.name.endswith(".gz"):
                with open_stream(path, None, limits) as (stream, _):
                    found[hits[0]] = stream.read()
            else:
                found[hits[0]] = path.read_bytes()
    else:
        raise SourceError(f"source {path} does not exist")
    missing = [s for s in wanted if s not in found]
    if missing:
        raise SourceError(
            f"{path}: missing {', '.join(missing)}; expected a directory, tarball or zip holding "
            f"{', '.join(wanted)}" + ("" if path.is_dir() or _is_archive(path) else " (or that single file)")
        )
    return found


def decode_utf8(data: bytes, where: str) -> str:
    """UTF-8 text (BOM dropped); a SourceError names the file and the byte offset otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceError(f"{where}: not UTF-8 at byte {e.start}; convert it to UTF-8 first") from e


def stratified_split(
    labels: Sequence[object], fractions: Sequence[float], names: Sequence[str], seed: int
) -> list[str]:
    """Assign each row a split name: per label, a seeded shuffle cut by ``fractions`` (summing to 1).

    >>> stratified_split([0, 0, 1, 1], [0.5, 0.5], ["train", "test"], seed=0)  # doctest: +SKIP
    ['test', 'train', 'train', 'test']
    """
    if len(fractions) != len(names) or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
        raise ConfigError(f"fractions {list(fractions)} must be >= 0, one per split {list(names)}, and sum to 1")
    out = [""] * len(labels)
    groups: dict[object, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    for k, key in enumerate(sorted(groups, key=repr)):
        idx = np.array(groups[key])
        np.random.default_rng([seed, k]).shuffle(idx)
        bounds = np.round(np.cumsum(fractions) * len(idx)).astype(int)
        start = 0
        for name, end in zip(names, bounds):
            for i in idx[start:end]:
                out[int(i)] = name
            start = end
    return out
