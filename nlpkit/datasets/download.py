"""Resolving a dataset source: a URL is downloaded once into a cache file, a path is used as is.

Downloads stream to ``<cache>/<name>.part`` and are renamed into place only when complete, so
an interrupted download never passes for a finished one. Transient network errors are
retried with backoff; the Prefect task around a build adds its own retries on top.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from nlpkit.errors import SourceError

__all__ = ["ProgressFn", "fetch", "is_url", "resolve_source", "source_sha256"]

log = logging.getLogger(__name__)

#: ``progress(stage, done, total)``: a step's description, units done, total units (None: unknown).
ProgressFn = Callable[[str, int, int | None], None]


def is_url(source: str | os.PathLike[str]) -> bool:
    return isinstance(source, str) and urlparse(source).scheme in ("http", "https")


def _cache_name(url: str) -> str:
    base = Path(urlparse(url).path).name or "download"
    return f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{base}"


def fetch(
    url: str,
    cache_dir: Path,
    *,
    retries: int = 3,
    timeout: float = 60.0,
    refresh: bool = False,
    progress: ProgressFn | None = None,
) -> Path:
    """Download ``url`` into ``cache_dir`` (reusing a finished earlier download) and return the file.

    Raises SourceError naming the URL and the last error after ``retries`` failed attempts.
    """
    if not is_url(url):
        raise SourceError(f"not an http(s) URL: {url!r}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    final = cache_dir / _cache_name(url)
    if final.is_file() and not refresh:
        log.info("using cached download %s", final)
        return final
    part = final.with_name(final.name + ".part")
    delay = 1.0
    last: Exception | None = None
    for attempt in range(1, retries + 1):
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "nlpkit"})
            with urllib.request.urlopen(request, timeout=timeout) as resp, part.open("wb") as out:
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                while chunk := resp.read(1 << 20):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(f"download {Path(urlparse(url).path).name}", done, total)
            if total is not None and done != total:
                raise SourceError(f"{url}: got {done:,} of {total:,} bytes")
            os.replace(part, final)
            return final
        except (urllib.error.URLError, OSError, SourceError) as e:  # HTTPError is a URLError
            last = e
            part.unlink(missing_ok=True)
            if isinstance(e, urllib.error.HTTPError) and 400 <= e.code < 500 and e.code != 429:
                break  # a client error will not go away by retrying
            if attempt < retries:
                log.warning("download of %s failed (%s); retry %d/%d in %.0f s", url, e, attempt, retries - 1, delay)
                time.sleep(delay)
                delay *= 3
    raise SourceError(
        f"cannot download {url}: {last}. Check the URL and your connection, or pass a local copy with --source PATH"
    ) from last


def resolve_source(
    source: str | os.PathLike[str], cache_dir: Path, *, progress: ProgressFn | None = None, retries: int = 3
) -> Path:
    """A local path for ``source``: URLs are fetched into ``cache_dir``, paths must exist."""
    if is_url(source):
        return fetch(str(source), cache_dir, progress=progress, retries=retries)
    path = Path(source).expanduser()
    if not path.exists():
        raise SourceError(f"source {str(source)!r} does not exist; pass an http(s) URL, a file or a directory")
    return path


def source_sha256(path: str | os.PathLike[str]) -> str:
    """Content key of a local source: the file's sha256, or for a directory the sha256 of its
    files' relative names and sizes (cheap; enough to notice a changed extraction)."""
    from nlpkit.store.versions import file_sha256

    p = Path(path)
    if not p.is_dir():
        return file_sha256(p)
    h = hashlib.sha256()
    for f in sorted(p.rglob("*")):
        if f.is_file():
            h.update(f"{f.relative_to(p)}\0{f.stat().st_size}\n".encode())
    return h.hexdigest()
