"""The IMDB Large Movie Review dataset (aclImdb v1, Maas et al. 2011) as a versioned dataset.

The source is the Stanford URL, a local ``aclImdb_v1.tar.gz`` or an extracted ``aclImdb``
directory. Tarballs are streamed (``tarfile`` mode ``r|gz``): nothing is extracted to disk.

Stored columns: ``id`` (``train_pos_123``), ``split`` (train/valid/test/unsup), ``label`` (1 pos,
0 neg, null for unsup), ``rating`` (1-10 from ``<id>_<rating>.txt``; null for unsup, whose
files all say 0), ``text`` (raw review) and ``clean_text`` (see :mod:`nlpkit.text.clean`).
``valid`` is a seeded, label-stratified share of the official train split.

Bad files do not stop the build; each goes to the ``rejects`` table with its reason:
``unreadable_member``, ``not_utf8``, ``no_rating_in_name``, ``rating_label_mismatch``,
``empty_review``, ``duplicate_id``, ``unexpected_location``.
"""

from __future__ import annotations

import os
import re
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from nlpkit.datasets.download import ProgressFn, is_url, resolve_source
from nlpkit.datasets.importer import REJECT_SCHEMA
from nlpkit.datasets.limits import check_member
from nlpkit.errors import ConfigError, SourceError
from nlpkit.store.versions import Store, VersionInfo
from nlpkit.text.clean import TextCleaner

__all__ = ["IMDB_SCHEMA", "ImdbOptions", "build_imdb", "iter_reviews", "parse_review"]

IMDB_SCHEMA = pa.schema([
    ("id", pa.string()), ("split", pa.string()), ("label", pa.int8()), ("rating", pa.int8()),
    ("text", pa.string()), ("clean_text", pa.string()),
])
_REVIEW_PATH = re.compile(r"(?:^|/)(train|test)/(pos|neg|unsup)/([^/]+)$")
_FILE_NAME = re.compile(r"^(\d+)_(\d+)\.txt$")
_RATINGS = {"pos": range(7, 11), "neg": range(1, 5), "unsup": range(0, 1)}
_BATCH = 5000


@dataclass(frozen=True, slots=True)
class ImdbOptions:
    """Build parameters (they go into the manifest)."""

    valid_fraction: float = 0.1  # share of each label of the train split moved to 'valid'
    seed: int = 13
    include_unsup: bool = True


@dataclass(frozen=True, slots=True)
class _Member:
    name: str  # path inside the archive or directory
    data: bytes | None  # None when unreadable
    error: str = ""


def _tar_members(path: Path, progress: ProgressFn | None) -> Iterator[_Member]:
    total = path.stat().st_size
    stage = f"read {path.name}"
    with path.open("rb") as raw:
        try:
            with tarfile.open(fileobj=raw, mode="r|*") as tar:
                expanded = 0
                for i, m in enumerate(tar):
                    expanded = check_member(expanded, m, total, str(path))  # tar bombs: declared sizes, capped
                    if not _REVIEW_PATH.search(m.name):
                        continue
                    if not m.isfile():
                        yield _Member(m.name, None, f"not a regular file (tar type {m.type!r})")
                        continue
                    f = tar.extractfile(m)
                    yield _Member(m.name, f.read() if f is not None else None)
                    if progress and i % 500 == 0:
                        progress(stage, raw.tell(), total)
                rest = tar.fileobj.read(1 << 16)
                if rest.strip(b"\0"):  # tarfile stops quietly at a damaged header: do not
                    raise SourceError(f"{path}: damaged tar header after {tar.offset:,} bytes; the archive is corrupt")
        except SourceError:
            raise
        except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
            raise SourceError(
                f"{path}: cannot read the archive ({type(e).__name__}: {e}); it is truncated or corrupt. "
                "Download it again (delete the cached file) or pass another --source"
            ) from e
    if progress:
        progress(stage, total, total)


def _dir_members(root: Path, progress: ProgressFn | None) -> Iterator[_Member]:
    files = sorted(
        str(Path(d, f).relative_to(root)) for d, _, names in os.walk(root) for f in names
    )
    files = [f for f in files if _REVIEW_PATH.search(f.replace(os.sep, "/"))]
    if not files:
        raise SourceError(f"{root}: no reviews found (expected aclImdb/{{train,test}}/{{pos,neg}}/<id>_<rating>.txt)")
    for i, rel in enumerate(files, 1):
        if (root / rel).is_symlink():  # same rule as for tarballs: reviews are regular files
            yield _Member(rel.replace(os.sep, "/"), None, "symbolic link, not a regular file")
            continue
        try:
            yield _Member(rel.replace(os.sep, "/"), (root / rel).read_bytes())
        except OSError as e:
            yield _Member(rel, None, f"{type(e).__name__}: {e.strerror or e}")
        if progress and (i % 500 == 0 or i == len(files)):
            progress(f"read {root.name}/", i, len(files))


def iter_reviews(path: Path, progress: ProgressFn | None = None) -> Iterator[_Member]:
    """Review files of an aclImdb tarball (streamed) or extracted directory, in stored order."""
    if path.is_dir():
        return _dir_members(path, progress)
    if path.is_file():
        return _tar_members(path, progress)
    raise SourceError(f"IMDB source {path} is neither a tarball nor a directory")


def parse_review(member: _Member) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    """(row without clean_text, None) for a good review file, (None, reject) for a bad one."""
    m = _REVIEW_PATH.search(member.name)
    if m is None:
        raise ValueError(f"{member.name!r} is not a review path")
    part, cls, fname = m.groups()

    def reject(reason: str, detail: str) -> tuple[None, dict[str, str]]:
        return None, {"item": member.name, "reason": reason, "detail": detail}

    if part == "test" and cls == "unsup":
        return reject("unexpected_location", "aclImdb has unlabelled reviews only under train/unsup")
    if member.data is None:
        return reject("unreadable_member", member.error)
    fm = _FILE_NAME.match(fname)
    if fm is None:
        return reject("no_rating_in_name", f"file name {fname!r} is not <id>_<rating>.txt")
    num, rating = fm.group(1), int(fm.group(2))
    if rating not in _RATINGS[cls]:
        return reject("rating_label_mismatch", f"rating {rating} in folder {cls!r}")
    try:
        text = member.data.decode("utf-8")
    except UnicodeDecodeError as e:
        return reject("not_utf8", f"invalid UTF-8 at byte {e.start}")
    if not text.strip():
        return reject("empty_review", f"{len(member.data)} bytes of whitespace")
    label = None if cls == "unsup" else int(cls == "pos")
    split = "unsup" if cls == "unsup" else part
    row = {"id": f"{part}_{cls}_{num}", "split": split, "label": label,
           "rating": rating if cls != "unsup" else None, "text": text}
    return row, None


def _valid_ids(train: list[dict[str, Any]], fraction: float, seed: int) -> set[str]:
    """A seeded random ``fraction`` of each label's train ids (stratified, order-independent)."""
    chosen: set[str] = set()
    for label in (0, 1):
        ids = sorted((r["id"] for r in train if r["label"] == label), key=lambda s: (len(s), s))
        k = int(round(len(ids) * fraction))
        rng = np.random.default_rng([seed, label])
        chosen.update(ids[i] for i in rng.choice(len(ids), size=k, replace=False))
    return chosen


def build_imdb(
    store: Store,
    source: str | os.PathLike[str],
    *,
    options: ImdbOptions = ImdbOptions(),
    cleaner: TextCleaner | None = None,
    nltk_data: Path | None = None,
    download_nltk: bool = False,
    cache_dir: Path | None = None,
    progress: ProgressFn | None = None,
    name: str = "imdb",
) -> VersionInfo:
    """Rebuild IMDB from ``source`` (URL, tarball or directory) as a new version of ``name``.

    Returns the new version; its manifest counts reads, kept rows per split and rejects per reason.
    ``download_nltk`` lets NLTK's downloader fetch a missing stopword list (online users).
    """
    if not 0.0 <= options.valid_fraction < 0.5:
        raise ConfigError(f"valid_fraction must be in [0, 0.5), got {options.valid_fraction}")
    cleaner = cleaner or TextCleaner(nltk_data=nltk_data, download=download_nltk)  # fails early if missing
    path = resolve_source(source, cache_dir or store.root / "cache" / "downloads", progress=progress)
    counts: dict[str, int] = {"read": 0, "kept": 0, "rejected": 0}
    seen: set[str] = set()
    train: list[dict[str, Any]] = []
    rejects: list[dict[str, str]] = []
    batch: list[dict[str, Any]] = []
    by_split: dict[tuple[str, int | None], int] = {}
    params = {**asdict(options), "cleaning": "bs4+lxml, lower, [^a-z], nltk english stopwords",
              "stopwords": len(cleaner.stopwords)}
    with store.write_version(name, parameters=params, source=str(source) if is_url(source) else str(path.resolve())) as w:
        def flush() -> None:
            for r in batch:
                by_split[(r["split"], r["label"])] = by_split.get((r["split"], r["label"]), 0) + 1
            if batch:
                w.write(pa.Table.from_pylist(batch, schema=IMDB_SCHEMA))
                batch.clear()

        for member in iter_reviews(path, progress):
            counts["read"] += 1
            row, rej = parse_review(member)
            if row is not None and row["id"] in seen:
                row, rej = None, {"item": member.name, "reason": "duplicate_id", "detail": f"id {row['id']} seen before"}
            if rej is not None:
                rejects.append(rej)
                continue
            if row["split"] == "unsup" and not options.include_unsup:
                counts["skipped_unsup"] = counts.get("skipped_unsup", 0) + 1
                continue
            seen.add(row["id"])
            row["clean_text"] = cleaner(row["text"])
            if row["split"] == "train":
                train.append(row)
                continue
            batch.append(row)
            if len(batch) >= _BATCH:
                flush()
        valid = _valid_ids(train, options.valid_fraction, options.seed)
        for row in train:
            if row["id"] in valid:
                row["split"] = "valid"
            batch.append(row)
            if len(batch) >= _BATCH:
                flush()
        flush()
        if not seen:
            raise SourceError(f"{path}: no usable reviews ({counts['read']} read, {len(rejects)} rejected)")
        w.write(pa.Table.from_pylist(rejects, schema=REJECT_SCHEMA), "rejects")
        counts["kept"] = len(seen)
        counts["rejected"] = len(rejects)
        for split in ("train", "valid", "test", "unsup"):
            for label in (1, 0, None):
                n = by_split.get((split, label), 0)
                if n:
                    key = split if label is None else f"{split}_{'pos' if label else 'neg'}"
                    counts[key] = n
            counts.setdefault(split, sum(v for (s, _), v in by_split.items() if s == split))
        for rej in rejects:
            key = f"rejected_{rej['reason']}"
            counts[key] = counts.get(key, 0) + 1
        w.counts.update(counts)
    return store.latest(name)


def sample_tarball(source: Path, dest: Path, per_folder: int = 100) -> Path:
    """Write a small aclImdb-shaped ``.tar.gz`` with the first ``per_folder`` reviews of each folder.

    Handy for fast tests and demos on real reviews; ``source`` is a tarball or directory.
    """
    if per_folder < 1:
        raise ValueError(f"per_folder must be >= 1, got {per_folder}")
    import io

    taken: dict[str, int] = {}
    folders = {f"{p}/{c}" for p in ("train", "test") for c in ("pos", "neg")} | {"train/unsup"}
    with tarfile.open(dest, "w:gz") as out:
        for member in iter_reviews(Path(source)):
            m = _REVIEW_PATH.search(member.name)
            folder = f"{m.group(1)}/{m.group(2)}" if m else ""
            if member.data is None or taken.get(folder, 0) >= per_folder:
                if all(taken.get(f, 0) >= per_folder for f in folders):
                    break
                continue
            taken[folder] = taken.get(folder, 0) + 1
            info = tarfile.TarInfo(f"aclImdb/{folder}/{m.group(3)}")
            info.size = len(member.data)
            out.addfile(info, io.BytesIO(member.data))
    return dest
