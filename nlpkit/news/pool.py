"""Extraction workers with a time budget per page: a page that runs too long has its process killed.

lxml and trafilatura are CPU-bound C code that cannot be interrupted from Python, so the only
honest bound is a process that can be killed. :class:`ExtractionPool` runs
:func:`~nlpkit.news.worker.extract_page` in ``pebble`` worker processes, each job under
``page_timeout`` seconds (counted from when a worker starts it); past it the worker is killed
and replaced, the page gets ``{"ok": False, "kind": "extract_timeout"}``, and the other pages go
on. With ``workers=0`` pages are extracted in a thread of this process, without a budget.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
from typing import Any

from nlpkit.news.worker import extract_page, warm_up

__all__ = ["ExtractionPool"]

log = logging.getLogger(__name__)


def _worker_context() -> multiprocessing.context.BaseContext:
    """Fork workers from a clean forkserver that has the extractors imported once.

    Plain ``fork`` is unsafe here (the CLI's progress bar and Prefect run threads); ``spawn``
    would import lxml, trafilatura and the caller's main module again in every worker of every
    run. The forkserver imports them once per process (so, like ``spawn``, a calling script
    needs the ``if __name__ == "__main__":`` guard).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover - not on Linux
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", "nlpkit.news.worker", "trafilatura", "nlpkit.news.extract"])
    return ctx


class ExtractionPool:
    """``workers`` extraction processes (0: one thread here), each page within ``page_timeout`` seconds.

    >>> pool = ExtractionPool(workers=2, page_timeout=30.0)                   # doctest: +SKIP
    >>> out = await pool.extract(body, "text/html", url, source_params, raw_dir)  # doctest: +SKIP
    >>> pool.close(cancel=False)                                             # doctest: +SKIP
    """

    def __init__(self, workers: int, page_timeout: float) -> None:
        self.workers = workers
        self.page_timeout = page_timeout
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._procs: Any = None
        if workers > 0:
            try:
                import pebble
            except ImportError:
                from nlpkit.errors import MissingDependencyError

                raise MissingDependencyError("extraction workers require pebble: pip install 'nlpkit[news]'") from None
            # the workers start (and import the extractors) now, while discovery runs
            self._procs = pebble.ProcessPool(max_workers=workers, initializer=warm_up, initargs=[os.getpid()],
                                             context=_worker_context())
        else:
            self._threads = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nlpkit-extract")

    async def extract(self, *job: Any) -> dict[str, Any]:
        """:func:`extract_page` of ``job``; a timeout or a dead worker becomes a result dict too."""
        if self._procs is None:
            assert self._threads is not None
            return await asyncio.get_running_loop().run_in_executor(self._threads, extract_page, *job)
        import pebble

        future = self._procs.schedule(extract_page, args=list(job), timeout=self.page_timeout)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError:
            return {"ok": False, "kind": "extract_timeout",
                    "message": f"extraction took longer than {self.page_timeout:g}s (news.page_timeout); "
                               "its worker was stopped"}
        except pebble.ProcessExpired as e:  # a crash in C code (lxml) or the OOM killer
            return {"ok": False, "kind": "extract_error", "message": f"extraction worker died: {e}"}

    def close(self, *, cancel: bool) -> None:
        """Wait for the workers to finish (``cancel``: stop them now, dropping their pages)."""
        if self._procs is not None:
            if cancel:
                self._procs.stop()
            else:
                self._procs.close()
            self._procs.join()
        if self._threads is not None:
            self._threads.shutdown(wait=not cancel, cancel_futures=True)
