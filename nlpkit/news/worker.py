"""What an extraction worker process runs for one page: archive, decode, extract.

Kept apart from :mod:`nlpkit.news.ingest` so worker processes import only the extraction
stack (lxml, trafilatura), not the store (pyarrow, duckdb).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["extract_page", "warm_up"]


def extract_page(body: bytes, content_type: str | None, url: str, source: dict[str, Any],
                 raw_dir: Path | None = None) -> dict[str, Any]:
    """Archive (when ``raw_dir`` is given), decode and extract one page; a plain dict, never raises.

    A failed archive write gives kind ``archive_error`` (not final: the page is fetched again once
    the disk has room); a failed extraction ``extract_error``; no article ``no_article``.

    Runs in a worker process, so the CPU work of a page stays off the fetching event loop.
    """
    from nlpkit.news.archive import archive_raw
    from nlpkit.news.encoding import decode_html
    from nlpkit.news.extract import extract_article
    from nlpkit.news.sources import SiteRule

    sha = None
    if raw_dir is not None:
        try:
            sha = archive_raw(raw_dir, body)
        except OSError as e:  # a full or read-only disk: the page is not done, the run must stop
            return {"ok": False, "kind": "archive_error",
                    "message": f"cannot write the raw page to {raw_dir}: {e.strerror or e}"}
    try:
        decoded = decode_html(body, content_type)
        rules = SiteRule(**source["rules"]) if source.get("rules") else None
        art, why = extract_article(decoded.text, url, rules=rules, default_section=source.get("section"),
                                   timezone_name=source.get("timezone", "Asia/Seoul"),
                                   language_hint=source.get("language", "auto"))
    except Exception as e:  # a bug or a pathological page: record it, keep the run going
        return {"ok": False, "kind": "extract_error", "message": f"{type(e).__name__}: {e}"}
    if art is None:
        return {"ok": False, "kind": "no_article", "message": why, "encoding": decoded.encoding, "sha": sha}
    return {"ok": True, "article": art, "encoding": decoded.encoding, "decided_by": decoded.decided_by, "sha": sha}


def warm_up(parent_pid: int | None = None) -> None:
    """Import the extractors once per worker process, and exit when ``parent_pid`` is gone.

    A ``kill -9`` of the ingesting process cannot stop its workers, so each worker watches
    the ingesting process itself and leaves within a second of its death.
    """
    if parent_pid is not None:
        import os
        import threading
        import time

        def watch() -> None:
            while True:
                time.sleep(1.0)
                try:
                    os.kill(parent_pid, 0)
                except ProcessLookupError:
                    os._exit(0)
                except PermissionError:  # the PID was reused by another user's process: ours is gone
                    os._exit(0)

        if not getattr(warm_up, "_watching", False):
            warm_up._watching = True  # type: ignore[attr-defined]
            threading.Thread(target=watch, name="nlpkit-parent-watch", daemon=True).start()
    import trafilatura  # noqa: F401

    import nlpkit.news.extract  # noqa: F401
