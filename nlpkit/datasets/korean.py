"""Korean labelled corpora as versioned datasets: NSMC, news topics, hate speech, 3i4k, KorSTS.

Every table has ``id``, ``text``, ``label`` and ``split`` (train/valid/test) plus the source's
own extra columns. Official splits are kept; where a source has none (or no validation part),
a seeded split stratified by label is carved and the manifest's ``split_note`` says how.
Rows with an empty text or a malformed line go to ``rejects`` with the reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from nlpkit.datasets.download import ProgressFn, is_url, resolve_source
from nlpkit.datasets.importer import REJECT_SCHEMA
from nlpkit.datasets.limits import CORRUPT_ERRORS, check_member
from nlpkit.datasets.sources import decode_utf8, read_members, stratified_split
from nlpkit.errors import ConfigError, SourceError
from nlpkit.store.versions import Store, VersionInfo

__all__ = ["build_hate_speech", "build_intent_3i4k", "build_korean_news", "build_korsts", "build_nsmc", "write_rows"]

HATE_LABELS = {"none": 0, "offensive": 1, "hate": 2}
INTENT_LABELS = ["fragment", "statement", "question", "command", "rhetorical question", "rhetorical command",
                 "intonation-dependent utterance"]
#: The official files (e9t/nsmc at the commit whose blobs ../shared/data/nsmc verified).
NSMC_URL = "https://raw.githubusercontent.com/e9t/nsmc/master/"
#: korean_news section names by label id: the registry's declaration, also written into each version's manifest.
NEWS_CATEGORIES = ["정치", "경제", "사회", "생활/문화", "세계", "기술/IT", "연예", "스포츠"]


def write_rows(
    store: Store, name: str, rows: list[dict[str, Any]], rejects: list[dict[str, str]], *,
    source: str, parameters: dict[str, Any], note: str = "",
) -> VersionInfo:
    """Store ``rows`` (+ ``rejects``) as a new version with per-split counts in the manifest."""
    if not rows:
        raise SourceError(f"{source}: no usable rows for {name} ({len(rejects)} rejected)")
    counts: dict[str, int] = {"read": len(rows) + len(rejects), "kept": len(rows), "rejected": len(rejects)}
    for r in rows:
        counts[r["split"]] = counts.get(r["split"], 0) + 1
    for r in rejects:
        counts[f"rejected_{r['reason']}"] = counts.get(f"rejected_{r['reason']}", 0) + 1
    with store.write_version(name, parameters=parameters, source=source) as w:
        w.write(pa.Table.from_pylist(rows))
        w.write(pa.Table.from_pylist(rejects, schema=REJECT_SCHEMA), "rejects")
        w.counts.update(counts)
        if note:
            w.extra["split_note"] = note
    return store.latest(name)


def _lines(data: bytes, where: str) -> list[str]:
    return decode_utf8(data, where).replace("\r\n", "\n").split("\n")


def _carve(rows: list[dict[str, Any]], fractions: list[float], names: list[str], seed: int) -> None:
    for r, split in zip(rows, stratified_split([r["label"] for r in rows], fractions, names, seed)):
        r["split"] = split


def _resolve(source: str | os.PathLike[str], store: Store, cache_dir: Path | None, progress: ProgressFn | None) -> tuple[Path, str]:
    path = resolve_source(source, cache_dir or store.root / "cache" / "downloads", progress=progress)
    return path, str(source) if is_url(source) else str(path.resolve())


def _tsv(data: bytes, where: str, n_fields: int, header: bool, parse: Callable[[list[str], int], dict[str, Any]],
         rejects: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Rows of a quote-free TSV; a line with the wrong field count or a bad value is rejected."""
    rows = []
    lines = _lines(data, where)
    for no, line in enumerate(lines[1:] if header else lines, 2 if header else 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        item = f"{Path(where).name}:{no}"
        if len(fields) != n_fields:
            rejects.append({"item": item, "reason": "bad_line", "detail": f"{len(fields)} fields, expected {n_fields}"})
            continue
        try:
            row = parse(fields, no)
        except (ValueError, KeyError) as e:
            rejects.append({"item": item, "reason": "bad_value", "detail": f"{type(e).__name__}: {e}"})
            continue
        if not str(row["text"]).strip():
            rejects.append({"item": item, "reason": "empty_text", "detail": f"id {row['id']}"})
            continue
        rows.append(row)
    return rows


NSMC_FILES = ("ratings_train.txt", "ratings_test.txt")


def _nsmc_files(source: str | os.PathLike[str], store: Store, cache_dir: Path | None,
                progress: ProgressFn | None) -> tuple[dict[str, bytes], str]:
    """The bytes of NSMC's two official files, from URLs, a folder, or one archive holding both.

    A URL names the folder that holds both files (the one file's URL works too: its folder is
    used); a folder may hold each file as ``.txt``, ``.zip`` or ``.txt.gz`` (the shared copy has
    ``ratings_train.zip`` and ``ratings_test.zip``).
    """
    cache = cache_dir or store.root / "cache" / "downloads"
    if is_url(source):
        base = str(source) if str(source).endswith("/") else str(source).rsplit("/", 1)[0] + "/"
        files = {n: read_members(resolve_source(base + n, cache, progress=progress), [n])[n] for n in NSMC_FILES}
        return files, base
    path = resolve_source(source, cache, progress=progress)
    found: dict[str, bytes] = {}
    if path.is_dir():
        for n in NSMC_FILES:
            stem = n.removesuffix(".txt")
            for cand in (path / n, path / f"{stem}.zip", path / f"{n}.gz"):
                if cand.is_file():
                    found[n] = read_members(cand, [n])[n]
                    break
        if len(found) < len(NSMC_FILES):  # e.g. a checkout of the repository: files deeper down
            found.update({k: v for k, v in read_members(path, [], optional=NSMC_FILES).items() if k not in found})
    else:
        found = read_members(path, [], optional=NSMC_FILES)
    missing = [n for n in NSMC_FILES if n not in found]
    if missing:
        raise SourceError(
            f"{path}: NSMC needs both official files, missing {', '.join(missing)} (found: "
            f"{', '.join(found) or 'none'}). Point --source at a folder or archive holding ratings_train and "
            "ratings_test (.txt, .zip or .txt.gz; offline: ../shared/data/nsmc) or at the official URL folder "
            f"{NSMC_URL}")
    return found, str(path.resolve())


def build_nsmc(store: Store, source: str | os.PathLike[str], *, seed: int = 13, valid_fraction: float = 0.1,
               cache_dir: Path | None = None, progress: ProgressFn | None = None, name: str = "nsmc") -> VersionInfo:
    """NSMC movie reviews on the official split: 150,000 train (validation carved from it) and 50,000 test.

    ``valid_fraction`` of the official train file (stratified by label, seeded) becomes ``valid``;
    the official test file is ``test`` untouched, so results compare with published numbers.
    """
    if not 0.0 < valid_fraction < 0.5:
        raise ConfigError(f"valid_fraction={valid_fraction}: expected a fraction between 0 and 0.5 (e.g. 0.1)")
    files, src = _nsmc_files(source, store, cache_dir, progress)
    rejects: list[dict[str, str]] = []

    def parse(f: list[str], no: int) -> dict[str, Any]:
        label = int(f[2])
        if label not in (0, 1):
            raise ValueError(f"label {label} not 0/1")
        return {"id": f[0], "text": f[1], "label": label, "split": ""}

    train = _tsv(files["ratings_train.txt"], "ratings_train.txt", 3, True, parse, rejects)
    test = _tsv(files["ratings_test.txt"], "ratings_test.txt", 3, True, parse, rejects)
    _carve(train, [1.0 - valid_fraction, valid_fraction], ["train", "valid"], seed)
    for r in test:
        r["split"] = "test"
    note = (f"official split: train = ratings_train.txt less a seeded, label-stratified {valid_fraction:.0%} "
            "carved out as valid; test = ratings_test.txt unchanged")
    return write_rows(store, name, train + test, rejects, source=src,
                      parameters={"seed": seed, "valid_fraction": valid_fraction}, note=note)


def build_korean_news(store: Store, source: str | os.PathLike[str], *, seed: int = 13, cache_dir: Path | None = None,
                      progress: ProgressFn | None = None, name: str = "korean_news") -> VersionInfo:
    """1,600 Korean news articles in 8 topics (``articles.jsonl(.gz)`` or the ``newsData/`` tree), split 80/10/10."""
    path, src = _resolve(source, store, cache_dir, progress)
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, str]] = []
    if path.is_file() and path.name.endswith((".jsonl", ".jsonl.gz")):
        data = read_members(path, [path.name.removesuffix(".gz")])
        for no, line in enumerate(_lines(next(iter(data.values())), path.name), 1):
            if line.strip():
                try:
                    o = json.loads(line)
                    rows.append({"id": str(o["id"]), "title": o["title"], "text": o["body"], "label": int(o["label"])})
                except (ValueError, KeyError) as e:
                    rejects.append({"item": f"{path.name}:{no}", "reason": "bad_line", "detail": str(e)})
    else:
        for name_, data in _news_files(path).items():
            title, tab, body = decode_utf8(data, name_).partition("\t")
            rows.append({"id": Path(name_).stem, "title": title.strip(), "text": body.strip(),
                         "label": int(Path(name_).parent.name)})
    kept = []
    for r in rows:
        if not r["text"]:
            rejects.append({"item": r["id"], "reason": "empty_text", "detail": "no body (no TAB after the title)"})
        elif not 0 <= r["label"] < len(NEWS_CATEGORIES):
            rejects.append({"item": r["id"], "reason": "bad_value", "detail": f"label {r['label']}"})
        else:
            kept.append({**r, "category": NEWS_CATEGORIES[r["label"]]})
    _carve(kept, [0.8, 0.1, 0.1], ["train", "valid", "test"], seed)
    return write_rows(store, name, kept, rejects, source=src,
                      parameters={"seed": seed, "label_names": dict(enumerate(NEWS_CATEGORIES))},
                      note="no official split: seeded 80/10/10 split stratified by label")


def _news_files(path: Path) -> dict[str, bytes]:
    import re
    import tarfile

    pattern = re.compile(r"(?:^|/)newsData/([0-7])/(\d+NewsData\.txt)$")
    out: dict[str, bytes] = {}
    if path.is_dir():
        for p in sorted(path.rglob("*NewsData.txt")):
            m = pattern.search(p.as_posix())
            if m:
                out[f"{m.group(1)}/{m.group(2)}"] = p.read_bytes()
    elif tarfile.is_tarfile(path):
        try:
            with tarfile.open(path, "r|*") as tar:
                expanded = 0
                for member in tar:
                    expanded = check_member(expanded, member, path.stat().st_size, str(path))
                    m = pattern.search(member.name)
                    f = tar.extractfile(member) if m and member.isfile() else None
                    if m and f is not None:
                        out[f"{m.group(1)}/{m.group(2)}"] = f.read()
        except SourceError:
            raise
        except CORRUPT_ERRORS as e:
            raise SourceError(f"{path}: cannot read the archive ({e}); it is truncated or corrupt") from e
    if not out:
        raise SourceError(f"{path}: no articles found; expected articles.jsonl(.gz) or newsData/<0-7>/<NNNN>NewsData.txt")
    return out


def build_hate_speech(store: Store, source: str | os.PathLike[str], *, seed: int = 13, cache_dir: Path | None = None,
                      progress: ProgressFn | None = None, name: str = "hate_speech") -> VersionInfo:
    """BEEP! Korean hate speech: label none=0/offensive=1/hate=2; official dev is the test split."""
    path, src = _resolve(source, store, cache_dir, progress)
    files = read_members(path, ["labeled/train.tsv", "labeled/dev.tsv"],
                         optional=["news_title/train.news_title.txt", "news_title/dev.news_title.txt"])
    rejects: list[dict[str, str]] = []
    rows = []
    for part in ("train", "dev"):
        titles = _lines(files.get(f"news_title/{part}.news_title.txt", b""), part)

        def parse(f: list[str], no: int, part: str = part, titles: list[str] = titles) -> dict[str, Any]:
            if f[1] not in ("True", "False"):
                raise ValueError(f"contain_gender_bias {f[1]!r} not True/False")
            title = titles[no - 2].strip().strip('"') if len(titles) > no - 2 else None
            return {"id": f"{part}_{no - 1:05d}", "text": f[0], "label": HATE_LABELS[f[3]], "hate": f[3],
                    "bias": f[2], "contain_gender_bias": f[1] == "True", "news_title": title}

        part_rows = _tsv(files[f"labeled/{part}.tsv"], f"{part}.tsv", 4, True, parse, rejects)
        if part == "train":
            _carve(part_rows, [0.9, 0.1], ["train", "valid"], seed)
        else:
            for r in part_rows:
                r["split"] = "test"
        rows += part_rows
    return write_rows(store, name, rows, rejects, source=src, parameters={"seed": seed, "labels": HATE_LABELS},
                      note="official train split 90/10 into train/valid (seeded, stratified); official dev = test "
                           "(the official test labels were never published)")


def build_intent_3i4k(store: Store, source: str | os.PathLike[str], *, seed: int = 13, cache_dir: Path | None = None,
                      progress: ProgressFn | None = None, name: str = "intent_3i4k") -> VersionInfo:
    """3i4k sentence types (7 labels): official train_val (split 90/10, as its README says) and test."""
    path, src = _resolve(source, store, cache_dir, progress)
    files = read_members(path, ["fci_train_val.txt", "fci_test.txt"])
    rejects: list[dict[str, str]] = []
    rows = []
    for part, fname in (("train", "fci_train_val.txt"), ("test", "fci_test.txt")):
        def parse(f: list[str], no: int, part: str = part) -> dict[str, Any]:
            label = int(f[0])
            return {"id": f"{part}_{no:05d}", "text": f[1], "label": label, "label_name": INTENT_LABELS[label],
                    "split": part}

        part_rows = _tsv(files[fname], fname, 2, False, parse, rejects)
        if part == "train":
            _carve(part_rows, [0.9, 0.1], ["train", "valid"], seed)
        rows += part_rows
    return write_rows(store, name, rows, rejects, source=src, parameters={"seed": seed},
                      note="official train_val split 90/10 into train/valid (seeded, stratified); official test")


def build_korsts(store: Store, source: str | os.PathLike[str], *, seed: int = 13, cache_dir: Path | None = None,
                 progress: ProgressFn | None = None, name: str = "korsts") -> VersionInfo:
    """KorSTS sentence pairs: ``text``/``text_pair``, ``label`` = similarity 0-5; official train/dev/test."""
    path, src = _resolve(source, store, cache_dir, progress)
    names = {"train": "sts-train.tsv", "valid": "sts-dev.tsv", "test": "sts-test.tsv"}
    files = read_members(path, list(names.values()))
    rejects: list[dict[str, str]] = []
    rows = []
    for split, fname in names.items():
        def parse(f: list[str], no: int, split: str = split) -> dict[str, Any]:
            score = float(f[4])
            if not 0.0 <= score <= 5.0:
                raise ValueError(f"score {score} outside 0-5")
            return {"id": f"{split}_{no - 1:05d}", "text": f[5], "text_pair": f[6], "label": score, "split": split,
                    "genre": f[0], "filename": f[1], "year": f[2], "sts_id": f[3]}

        rows += _tsv(files[fname], fname, 7, True, parse, rejects)
    return write_rows(store, name, rows, rejects, source=src, parameters={"seed": seed}, note="official splits (dev = valid)")
