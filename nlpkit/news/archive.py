"""The raw-page archive: page bytes gzip-compressed under their sha256, for re-extraction.

Layout: ``<raw_dir>/<first two hex digits>/<sha256>.html.gz``. Writing is idempotent and
atomic (written aside, then renamed), so a killed writer leaves no partial file behind.
Plain functions with light imports: extraction workers call them without loading the store.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import uuid
from pathlib import Path

from nlpkit.errors import DatasetError

__all__ = ["archive_raw", "raw_path", "read_raw"]


def raw_path(raw_dir: Path, sha: str) -> Path:
    """Where the page with content hash ``sha`` is archived."""
    return raw_dir / sha[:2] / f"{sha}.html.gz"


def archive_raw(raw_dir: Path, body: bytes) -> str:
    """Write ``body`` compressed under its sha256 unless it is already there; returns the sha256."""
    sha = hashlib.sha256(body).hexdigest()
    path = raw_path(raw_dir, sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            tmp.write_bytes(gzip.compress(body, compresslevel=3, mtime=0))
            os.replace(tmp, path)
        except OSError:  # a full disk: leave no partial file behind, let the caller decide
            tmp.unlink(missing_ok=True)
            raise
    return sha


def read_raw(raw_dir: Path, sha: str) -> bytes:
    """The archived bytes of ``sha``; DatasetError naming the fix when missing or corrupt."""
    path = raw_path(raw_dir, sha)
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as e:
        raise DatasetError(f"raw page {sha} missing or unreadable in {raw_dir}: {e}; re-fetch it with `nlpkit news scrape`") from e
