"""Language-model corpora as line tables: tiny-shakespeare and Penn Treebank (Mikolov's version).

Rows are lines (``id``, ``split``, ``line`` number, ``text``); joining a split's ``text`` with
``"\\n"`` in ``line`` order gives the split back. Tiny-shakespeare has no official split: the
last 10% of its characters (cut at the nearest line start) is ``valid``, as in char-rnn/nanoGPT.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nlpkit.datasets.download import ProgressFn
from nlpkit.datasets.korean import _resolve, write_rows
from nlpkit.datasets.sources import decode_utf8, read_members
from nlpkit.errors import ConfigError
from nlpkit.store.versions import Store, VersionInfo

__all__ = ["build_ptb", "build_tinyshakespeare"]


def build_tinyshakespeare(store: Store, source: str | os.PathLike[str], *, valid_fraction: float = 0.1,
                          cache_dir: Path | None = None, progress: ProgressFn | None = None,
                          name: str = "lm_tinyshakespeare") -> VersionInfo:
    """Tiny-shakespeare ``input.txt`` (file, folder or URL); the last ``valid_fraction`` of it is ``valid``."""
    if not 0.0 < valid_fraction < 1.0:
        raise ConfigError(f"valid_fraction must be in (0, 1), got {valid_fraction}")
    path, src = _resolve(source, store, cache_dir, progress)
    text = decode_utf8(read_members(path, ["input.txt"])["input.txt"], "input.txt")
    lines = text.split("\n")
    cut = int(len(text) * (1.0 - valid_fraction))
    rows: list[dict[str, Any]] = []
    offset = 0
    for no, line in enumerate(lines, 1):
        split = "train" if offset < cut else "valid"
        rows.append({"id": f"line_{no:06d}", "split": split, "line": no, "text": line})
        offset += len(line) + 1
    return write_rows(store, name, rows, [], source=src, parameters={"valid_fraction": valid_fraction},
                      note=f"no official split: lines starting in the last {valid_fraction:.0%} of characters are valid")


def build_ptb(store: Store, source: str | os.PathLike[str], *, cache_dir: Path | None = None,
              progress: ProgressFn | None = None, name: str = "lm_ptb") -> VersionInfo:
    """PTB ``ptb.{train,valid,test}.txt`` (folder, archive or a URL of one); official splits."""
    path, src = _resolve(source, store, cache_dir, progress)
    files = read_members(path, [f"ptb.{s}.txt" for s in ("train", "valid", "test")])
    rows: list[dict[str, Any]] = []
    for split in ("train", "valid", "test"):
        lines = decode_utf8(files[f"ptb.{split}.txt"], f"ptb.{split}.txt").split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the trailing newline
        rows += [{"id": f"{split}_{no:06d}", "split": split, "line": no, "text": line.strip()}
                 for no, line in enumerate(lines, 1)]
    return write_rows(store, name, rows, [], source=src, parameters={}, note="official splits")
