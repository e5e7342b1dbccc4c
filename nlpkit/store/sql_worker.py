"""Analysts' SQL in a child process: stopped on time whatever DuckDB is doing, its memory capped.

An in-process DuckDB query can only be interrupted between vectors: one call such as
``repeat('a', 2000000000)`` runs (and allocates) to its end, past both the time and the memory
limit. So ``nlpkit query`` and the web app's SQL page run the sandbox's query in a child Python:

- the time limit starts before the child starts (before any snapshot opens) and a watchdog thread
  kills the child when it runs out, so the query stops within 50 ms of the limit on every path;
- the same watchdog kills it when its resident memory passes twice the memory limit plus 512 MiB
  (DuckDB's own limit does not count every allocation: a huge string, fetched rows), and its data
  segment is capped (``RLIMIT_DATA``) a little higher, so one huge allocation fails at once;
- the child works in its own temporary folder (its spill folder too), removed when the query ends
  however it ends, so nothing lands in the current directory;
- rows come back as an Arrow IPC stream, batch by batch, and their bytes are capped (``max_bytes``):
  fetching and exporting hold one batch, never the whole result, and a result over the cap ends
  in one error line saying so.

>>> IsolatedSandbox(store, timeout=10, memory_limit="1GB").fetch("SELECT 1 AS x").rows  # doctest: +SKIP
[(1,)]
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from nlpkit.errors import DatasetNotFoundError, NlpkitError, QueryError, QueryTimeoutError, ReadOnlyQueryError
from nlpkit.store.sql import EXPORT_FORMATS, QueryResult, _first_line, SqlSandbox, StoreSnapshots, check_read_only
from nlpkit.store.sql_limits import DEFAULT_TIMEOUT, format_size, parse_size

__all__ = ["IsolatedSandbox"]

#: The child runs the same nlpkit as this process (its folder first on ``sys.path``), whatever the environment says.
_COMMAND = [sys.executable, "-c", "import runpy, sys; sys.path.insert(0, sys.argv[1]); "
            "runpy.run_module('nlpkit.store.sql_worker', run_name='__main__')", str(Path(__file__).resolve().parents[2])]
_POLL_S = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE")
_PIECE_BYTES = 16 << 20  # batches are sent in pieces of about this size, so the reader never holds a huge one
_ERRORS: dict[str, type[NlpkitError]] = {c.__name__: c for c in (QueryError, QueryTimeoutError, ReadOnlyQueryError,
                                                                  DatasetNotFoundError)}


class _Child:
    """One child process running one query, and the watchdog thread that kills it when its time runs out (which
    may be before it starts) or its resident memory passes ``rss_cap`` bytes (checked every 50 ms)."""

    def __init__(self, timeout: float, rss_cap: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.timed_out = False
        self.over_memory = False
        self._clock = clock
        self._deadline = clock() + timeout
        self._rss_cap = rss_cap
        self._done = threading.Event()
        threading.Thread(target=self._watch, name="nlpkit-sql-watchdog", daemon=True).start()

    def _watch(self) -> None:
        while not self._done.wait(_POLL_S):
            with self._lock:
                if self._clock() >= self._deadline:
                    self.timed_out = True
                elif self.proc is not None and _rss(self.proc.pid) > self._rss_cap:
                    self.over_memory = True
                else:
                    continue
                if self.proc is not None:
                    self.proc.kill()
                return

    def start(self, request: dict[str, Any], work: Path, ready: subprocess.Popen[bytes] | None = None) -> BinaryIO:
        """Start the child in ``work`` with ``request`` (or hand it to ``ready``, a child started there already and
        waiting for its request); its stdout (the Arrow stream)."""
        with self._lock:
            if self.timed_out or self.over_memory:
                if ready is not None:
                    ready.kill()
                raise QueryTimeoutError("")
            self.proc = ready if ready is not None else _spawn(work)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode())
            self.proc.stdin.close()
        except OSError:
            pass  # it died already; its exit says why
        return self.proc.stdout

    def stop(self, kill: bool = True) -> int | None:
        """Wait for the child (killing it first with ``kill``; else the time limit still may) and return its exit
        code."""
        if self.proc is None:
            self._done.set()
            return None
        if kill and self.proc.poll() is None:
            self.proc.kill()
        code = self.proc.wait()
        self._done.set()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return code


def _spawn(work: Path) -> subprocess.Popen[bytes]:
    """A child in ``work`` (its stderr in ``work/stderr.txt``): it loads its libraries, then waits for a request."""
    with (work / "stderr.txt").open("wb") as err:
        return subprocess.Popen(_COMMAND, cwd=work, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)


class _Spare:
    """One child started ahead of the next query (for a long-running server such as the web app): its half a
    second of Python and library start-up is then paid while nobody waits. Taken by one query only; the next
    spare starts at once. A spare left at exit is killed (and dies by itself when its parent does: its stdin
    closes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: tuple[subprocess.Popen[bytes], Path] | None = None

    def take(self) -> tuple[subprocess.Popen[bytes], Path] | None:
        with self._lock:
            ready, self._ready = self._ready, None
            if ready is not None and ready[0].poll() is not None:  # it died while waiting: not usable
                shutil.rmtree(ready[1], ignore_errors=True)
                ready = None
            work = Path(tempfile.mkdtemp(prefix="nlpkit-sql-"))
            self._ready = (_spawn(work), work)
        return ready

    def close(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, None
        if ready is not None:
            ready[0].kill()
            ready[0].wait()
            shutil.rmtree(ready[1], ignore_errors=True)


_SPARE = _Spare()
atexit.register(_SPARE.close)


class IsolatedSandbox:
    """:class:`~nlpkit.store.sql.SqlSandbox`'s ``fetch``/``batches``/``export``, each query in a child process.

    ``max_bytes`` caps the Arrow bytes of a streamed result (``batches``, ``export``; None: no cap);
    ``fetch`` keeps its rows in memory, so its cap is the memory limit.
    """

    def __init__(self, store: StoreSnapshots, *, timeout: float = DEFAULT_TIMEOUT, memory_limit: str | None = None,
                 spill_limit: str | None = None, as_of: Mapping[str, int | str] | None = None,
                 max_bytes: str | None = None, work_dir: Path | None = None, warm: bool = False) -> None:
        self.warm = warm and work_dir is None  # a server's queries: each takes a child started ahead of it
        self.inner = SqlSandbox(store, timeout=timeout, memory_limit=memory_limit, spill_limit=spill_limit,
                                as_of=as_of)  # checks every limit now, in this process
        self.store = store
        self.max_bytes = None if max_bytes is None else parse_size(max_bytes, "--max-bytes")
        self.work_dir = work_dir

    @property
    def timeout(self) -> float:
        return self.inner.timeout

    def _request(self, sql: str, limit: int | None, batch_rows: int, max_bytes: int | None) -> dict[str, Any]:
        storage = getattr(self.store, "storage_options", {}) or {}
        return {"root": str(self.store.root), "storage_options": dict(storage),
                "sql": sql, "limit": limit, "batch_rows": batch_rows, "max_bytes": max_bytes,
                "timeout": self.inner.timeout, "memory_bytes": self.inner.memory_bytes,
                "spill_bytes": self.inner.spill_bytes, "as_of": {k: str(v) for k, v in self.inner.as_of.items()},
                "process_bytes": _process_budget(self.inner.memory_bytes)}

    def batches(self, sql: str, *, limit: int | None = None, batch_rows: int = 65536, max_bytes: int | None = None,
                cap_hint: str = "--max-bytes") -> pa.RecordBatchReader:
        """The result as a stream of record batches, at most ``limit`` rows and ``max_bytes`` Arrow bytes.

        The statement runs now (a bad one raises here); the time limit counts until the reader is
        consumed or closed. A failure after the first batch raises from the reader.
        """
        check_read_only(sql)  # refused before a process starts
        cap = self.max_bytes if max_bytes is None else max_bytes
        child = _Child(self.inner.timeout, _process_budget(self.inner.memory_bytes))
        spare = _SPARE.take() if self.warm else None
        ready, work = spare if spare is not None else (None, Path(tempfile.mkdtemp(prefix="nlpkit-sql-",
                                                                                     dir=self.work_dir)))

        def finish(error: BaseException | None = None) -> None:
            code = child.stop(kill=False)  # it closed its stream: it is ending (or the time limit ends it)
            try:
                if code not in (0, None) or error is not None:
                    if child.timed_out:
                        raise QueryTimeoutError(self._timeout_message()) from error
                    if child.over_memory:
                        raise QueryError(self._memory_message()) from error
                    raise self._child_error(work, code) from error
            finally:
                shutil.rmtree(work, ignore_errors=True)

        try:
            stream = child.start({**self._request(sql, limit, batch_rows, cap), "cap_hint": cap_hint}, work, ready)
            reader = pa.ipc.open_stream(stream)
        except (pa.ArrowException, OSError, NlpkitError) as e:
            finish(e)
            raise QueryError("query failed: the query process ended without a result") from e  # finish raised

        def read() -> Iterator[pa.RecordBatch]:
            total = 0
            try:
                for batch in reader:
                    total += batch.nbytes
                    if cap is not None and total > cap:  # the child checks first; this is the backstop
                        raise QueryError(f"the result is over the {format_size(cap)} cap ({cap_hint}); "
                                         "select fewer rows or columns")
                    yield batch
            except (pa.ArrowException, OSError) as e:  # a cut stream (the child was stopped) is an OSError too
                finish(e)
            except BaseException:
                child.stop()
                shutil.rmtree(work, ignore_errors=True)
                raise
            finish()

        batches = read()
        weakref.finalize(batches, _abandon, child, work)  # a reader dropped unread still ends its process
        return pa.RecordBatchReader.from_batches(reader.schema, batches)

    def _timeout_message(self) -> str:
        return (f"query stopped after the {self.inner.timeout:g} s time limit; narrow it (WHERE, LIMIT) or allow "
                "more time with --timeout SECONDS")

    def _memory_message(self) -> str:
        return (f"query went over its process's memory cap of {format_size(_process_budget(self.inner.memory_bytes))}"
                f" (twice the {self.inner.memory_limit} --memory-limit plus 512MB); aggregate or filter more, or "
                "raise --memory-limit")

    def _child_error(self, work: Path, code: int | None) -> NlpkitError:
        try:
            info = json.loads((work / "error.json").read_text(encoding="utf-8"))
            return _ERRORS.get(info["type"], QueryError)(info["message"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if code is not None and code < 0:
            return QueryError(f"query process was killed (signal {-code}); {self._memory_message()}")
        tail = (work / "stderr.txt").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] \
            if (work / "stderr.txt").exists() else []
        return QueryError(f"query process failed (exit {code}): {tail[0] if tail else 'no message'}")

    def fetch(self, sql: str, limit: int | None = None) -> QueryResult:
        """At most ``limit`` rows (all when None), as tuples; the rows' bytes are capped at the memory limit."""
        reader = self.batches(sql, limit=None if limit is None else limit + 1, batch_rows=min(limit or 2048, 2048) + 1,
                              max_bytes=self.inner.memory_bytes, cap_hint=f"the {self.inner.memory_limit} "
                              "--memory-limit; `nlpkit query --out FILE` streams a larger result")
        rows: list[tuple[Any, ...]] = []
        for batch in reader:
            rows.extend(zip(*(c.to_pylist() for c in batch.columns)) if batch.num_columns else
                        [()] * batch.num_rows)
        truncated = limit is not None and len(rows) > limit
        return QueryResult(reader.schema.names, rows[:limit] if limit is not None else rows, truncated)

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        res = self.fetch(sql)
        return res.columns, res.rows

    def export(self, sql: str, out: Path) -> int:
        """Stream the result into ``out`` (.csv .tsv .parquet .json .jsonl); returns rows. Nothing is left at
        ``out`` when the query fails or goes over a limit."""
        from nlpkit.store.export import write_batches

        suffix = out.suffix.lower()
        if suffix not in EXPORT_FORMATS:
            raise QueryError(f"--out {out}: unknown format {suffix!r}; use {', '.join(EXPORT_FORMATS)}")
        return write_batches(self.batches(sql), out)


def _abandon(child: _Child, work: Path) -> None:
    child.stop()
    shutil.rmtree(work, ignore_errors=True)


def _process_budget(memory_bytes: int) -> int:
    """Resident bytes the query's process may hold: twice DuckDB's memory limit (which does not count every
    allocation) plus 512 MiB for the interpreter, its libraries, fetching and Arrow conversion."""
    return 2 * memory_bytes + (512 << 20)


def _rss(pid: int) -> int:
    """Resident bytes of process ``pid`` (0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


# -- the child -------------------------------------------------------------------------------------
def _data_bytes() -> int:
    """This process's data segment now (``VmData``: what ``RLIMIT_DATA`` counts)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    return 0

def _pieces(batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
    """``batch`` cut into slices of about ``_PIECE_BYTES`` (one row at least)."""
    if batch.nbytes <= _PIECE_BYTES or batch.num_rows <= 1:
        yield batch
        return
    step = max(1, batch.num_rows * _PIECE_BYTES // batch.nbytes)
    for start in range(0, batch.num_rows, step):
        yield batch.slice(start, step)


def _fail(kind: str, message: str) -> int:
    Path("error.json").write_text(json.dumps({"type": kind, "message": message}), encoding="utf-8")
    return 3


def _child_main() -> int:
    """Run the request on stdin; the Arrow stream to the real stdout (anything printed goes to stderr)."""
    # every library loaded, and DuckDB started once, before the request: a spare waits here, warm
    import duckdb
    import pyarrow.dataset  # noqa: F401

    from nlpkit.store.store import Store

    duckdb.connect(":memory:").execute("SELECT 1").fetchall()

    data = sys.stdin.read()
    if not data.strip():
        return 0  # a spare nobody took: its parent closed the pipe
    request = json.loads(data)
    budget = int(request["process_bytes"])

    cap = _data_bytes() + 2 * budget  # a backstop: one huge allocation fails at once, before the watchdog's poll
    resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)

    memory = f"{request['memory_bytes']}B"
    try:
        store = Store(request["root"], storage_options=request["storage_options"] or None)
        sandbox = SqlSandbox(store, timeout=request["timeout"], memory_limit=memory,
                             spill_limit=f"{request['spill_bytes']}B", as_of=request["as_of"], spill_dir=Path.cwd())
        reader = sandbox.batches(request["sql"], limit=request["limit"], batch_rows=request["batch_rows"])
        writer = pa.ipc.new_stream(out, reader.schema)
        total, rows, cap_bytes = 0, 0, request["max_bytes"]
        for batch in reader:
            for piece in _pieces(batch):
                total += piece.nbytes
                if cap_bytes is not None and total > cap_bytes:
                    raise _TooLarge(cap_bytes, rows, request.get("cap_hint", "--max-bytes"))
                writer.write_batch(piece)
                rows += piece.num_rows
        writer.close()  # only a whole result gets its end-of-stream mark
        out.close()
    except _TooLarge as e:
        return _fail("QueryError", str(e))
    except NlpkitError as e:
        return _fail(type(e).__name__, str(e))
    except (MemoryError, pa.ArrowMemoryError) as e:
        return _fail("QueryError", f"query needs more memory than its process may allocate "
                     f"({format_size(budget)}, from the {format_size(request['memory_bytes'])} --memory-limit): "
                     f"{str(e) or type(e).__name__}; aggregate or filter more, or raise --memory-limit")
    except BrokenPipeError:
        return 0  # the reader stopped reading (a cap or a limit on its side)
    except Exception as e:  # noqa: BLE001 - anything else: one line for the user, not a traceback
        return _fail("QueryError", f"query failed: {_first_line(e)}")
    return 0


class _TooLarge(Exception):
    def __init__(self, cap: int, rows: int, hint: str) -> None:
        super().__init__(f"the result is over the {format_size(cap)} cap ({hint}) after {rows:,} rows; select fewer "
                         "rows or columns")


if __name__ == "__main__":
    code = _child_main()
    sys.stderr.flush()
    os._exit(code)  # its output is closed and flushed: skip the interpreter's teardown of DuckDB and Arrow (~0.2 s)
