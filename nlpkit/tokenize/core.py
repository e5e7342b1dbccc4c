"""Shared machinery of every backend: cleaning, chunking, result cache, dictionary merge, batching.

A backend subclasses :class:`BaseTokenizer` and implements two methods:

- ``_load()``: create the engine (called lazily, once per instance);
- ``_analyze(chunks) -> list[list[Token]]``: tag clean, stripped, non-empty chunks and
  return tokens with offsets relative to each chunk; or, for engines that release the GIL
  (``pipelined = True``), ``_call(chunks)`` (engine only, on a background thread) plus
  ``_convert(chunks, raw)`` (token building, on the caller's thread).

Everything else (empty input, control characters, long documents and long runs without
whitespace, the cache keyed on ``(fingerprint, chunk)``, user-dictionary merging, lazy
ordered batching, engine failures) lives here, so all backends behave the same. Backends
build their tokens with :mod:`nlpkit.tokenize.build` (C-level loops: the protocol must cost
little next to the engine); the result cache is :mod:`nlpkit.tokenize.cache`.

Engine failures: when the engine raises (or returns something malformed) for a batch, the
chunks are retried one by one; a chunk that still fails makes its text a failure --
``tokenize`` raises :class:`~nlpkit.errors.TokenizeFailure`, ``tokenize_batch`` yields a
:class:`FailedTokens` for that text (empty, with ``.error``) and logs a warning -- and the
backend's ``_recover()`` restores the engine, so every other text gets exactly the tokens
it gets alone. Failures are never cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from nlpkit.errors import TokenizeFailure
from nlpkit.tokenize.base import Token
from nlpkit.tokenize.build import shift_tokens, tokens_from_columns, tokens_from_pairs
from nlpkit.tokenize.cache import RESULT_CACHE, ResultCache
from nlpkit.tokenize.text import clean, iter_batches, split_chunks
from nlpkit.tokenize.userdict import DictEntry, UserDictionary, entry_probe, load_user_dicts, merge_entries

__all__ = ["BaseTokenizer", "ChunkError", "FailedTokens", "ResultCache", "RESULT_CACHE", "tokens_from_columns",
           "tokens_from_pairs"]

log = logging.getLogger(__name__)
#: How a backend's ChunkError detail starts when the engine was stopped over a time limit.
TIMEOUT_PREFIX = "timeout: "
_VERSION = 3  # bump when the shared processing changes token output (2: long whitespace-free runs cut; 3: no whitespace tokens)


class FailedTokens(list):  # type: ignore[type-arg]
    """What ``tokenize_batch`` yields for a text the engine failed on: an empty token list with ``.error``.

    >>> r = FailedTokens(TokenizeFailure("hannanum failed"))
    >>> (len(r), r.error.reason)
    (0, 'engine_error')
    """

    def __init__(self, error: TokenizeFailure) -> None:
        super().__init__()
        self.error = error


@dataclass(frozen=True)
class ChunkError:
    """A backend's result for one chunk it could not analyse (``detail``: the engine's message)."""

    detail: str


class _PerChunk(list):  # type: ignore[type-arg]
    """Results already converted chunk by chunk (after the batch call failed)."""


class BaseTokenizer:
    """Base of every backend; see the module docstring for what a subclass implements.

    Parameters
    ----------
    user_dicts : sequence of path or UserDictionary
        Dictionaries in the TSV format of ``dictionaries/README.md``.
    cache : bool
        Use the process-wide :data:`RESULT_CACHE`.
    batch_size : int
        Texts gathered per engine call in ``tokenize_batch``.
    max_chunk_chars : int
        Sentences longer than this are split at whitespace before tagging.
    max_run_chars : int or None
        Runs without whitespace longer than this are cut into separate chunks before tagging
        (see :mod:`nlpkit.tokenize.text`); None takes the backend's ``default_max_run``,
        measured where its time per character starts to grow.
    """

    name: ClassVar[str] = "base"
    #: Options that change speed or resources but never the tokens (left out of the fingerprint).
    runtime_options: ClassVar[frozenset[str]] = frozenset()
    #: Longest run without whitespace tagged as one piece (measured per backend, see the benchmark).
    default_max_run: ClassVar[int] = 400

    def __init__(self, *, user_dicts: Iterable[Any] = (), cache: bool = True, batch_size: int = 256,
                 max_chunk_chars: int = 400, max_run_chars: int | None = None, **options: Any) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        if max_chunk_chars < 16:
            raise ValueError(f"max_chunk_chars must be >= 16, got {max_chunk_chars!r}")
        if max_run_chars is not None and max_run_chars < 8:
            raise ValueError(f"max_run_chars must be >= 8 (or None for the backend's default), got {max_run_chars!r}")
        self.max_run_chars = self.default_max_run if max_run_chars is None else int(max_run_chars)
        self.options = self._check_options(options)
        self.user_dicts: tuple[UserDictionary, ...] = load_user_dicts(user_dicts)
        self.cache = cache
        self.batch_size = batch_size
        self.max_chunk_chars = max_chunk_chars
        self._engine: Any = None
        self._load_lock = threading.Lock()
        self._post_merge: list[DictEntry] = []
        self._merge_probe = entry_probe(())  # finds the chunks the post-tagging merge could change
        #: How many dictionary entries the engine took natively (known after the engine loads).
        self.native_entries = 0
        #: Seconds the next engine calls may take in all (see :meth:`budget`); None: no such bound.
        self.call_budget_s: float | None = None

    # -- configuration ------------------------------------------------------------------
    #: Allowed options and their defaults; subclasses override.
    default_options: ClassVar[dict[str, Any]] = {}

    def _check_options(self, options: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(options).difference(self.default_options))
        if unknown:
            allowed = ", ".join(sorted(self.default_options)) or "(none)"
            raise ValueError(f"unknown option(s) {unknown} for tokenizer {self.name!r}; allowed: {allowed}")
        return {**self.default_options, **options}

    @property
    def dict_sha256(self) -> str:
        """sha256 of the user dictionary file ('' without one; sha256 over the files' sha256s for several)."""
        if not self.user_dicts:
            return ""
        if len(self.user_dicts) == 1:
            return self.user_dicts[0].sha256
        h = hashlib.sha256()
        for d in self.user_dicts:
            h.update(d.sha256.encode())
        return h.hexdigest()

    @property
    def config(self) -> dict[str, Any]:
        """JSON-able description of this tokenizer (what artifacts record)."""
        return {"name": self.name, "options": dict(sorted(self.options.items())),
                "user_dicts": [str(d.path) for d in self.user_dicts], "dict_sha256": self.dict_sha256,
                "max_chunk_chars": self.max_chunk_chars, "max_run_chars": self.max_run_chars}

    @property
    def fingerprint(self) -> str:
        """sha256 of backend, options, chunking and dictionary contents."""
        options = {k: v for k, v in self.options.items() if k not in self.runtime_options}
        payload = {"v": _VERSION, "name": self.name, "options": options, "dict": self.dict_sha256,
                   "max_chunk_chars": self.max_chunk_chars, "max_run_chars": self.max_run_chars}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
        return f"{type(self).__name__}({opts})"

    # -- engine -------------------------------------------------------------------------
    def _ensure_engine(self) -> None:
        if self._engine is None:
            with self._load_lock:
                if self._engine is None:
                    entries = [e for d in self.user_dicts for e in d.entries]
                    self._engine = self._load()
                    self.native_entries = self._apply_user_dict(entries) if entries else 0
                    # the merge is a no-op where the engine already kept an entry whole; it also covers
                    # entries the native mechanism could not take (spaces, non-nouns, low scores)
                    self._post_merge = sorted(entries, key=lambda e: -len(e.form))
                    self._merge_probe = entry_probe(entries)

    def _load(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply_user_dict(self, entries: list[DictEntry]) -> int:
        """Add entries natively; return how many the engine took (all are also merged after tagging)."""
        return 0

    def _analyze(self, chunks: list[str]) -> list[list[Token]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def warm_up(self) -> None:
        """Create the engine now (start the JVM, load models) and analyse one short text, so that
        lazy initialisation (Kiwi builds its model on the first call: ~5 s) is not charged to a document."""
        if self._engine is None:
            self._ensure_engine()
            self._call_safe(["준비 ready."])

    # -- public API -------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[Token]:
        """Analyse one text; see :class:`nlpkit.tokenize.Tokenizer`.

        Raises :class:`~nlpkit.errors.TokenizeFailure` when the engine fails on the text.
        """
        if not isinstance(text, str):
            raise TypeError(f"tokenize expects one str, got {type(text).__name__}; use tokenize_batch for many")
        result = self._run_batch([text])[0]
        if isinstance(result, FailedTokens):
            raise result.error
        return result

    def tokenize_batch(self, texts: Iterable[str]) -> Iterator[list[Token]]:
        """Analyse texts lazily, ``batch_size`` at a time; one list per input, input order kept.

        Backends whose engine releases the GIL (``pipelined``) tag batch k+1 on a background
        thread while batch k is turned into tokens here, so at most one batch is read ahead.
        A text the engine fails on gives a :class:`FailedTokens` (empty, ``.error``) and a warning.
        """
        if isinstance(texts, str):
            raise TypeError("tokenize_batch expects an iterable of texts, got one str; use tokenize(text)")
        batches = iter_batches(iter(texts), self.batch_size)
        if not self.pipelined:
            for batch in batches:
                yield from self._run_batch(batch)
            return
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"nlpkit-{self.name}")
        try:
            pending: tuple[_Job, Future[Any] | None] | None = None
            for batch in batches:
                job = self._prepare(batch)
                fut = pool.submit(self._call_safe, job.todo) if job.todo else None
                if pending is not None:
                    yield from self._finish(pending[0], pending[1].result() if pending[1] else None)
                pending = (job, fut)
            if pending is not None:
                yield from self._finish(pending[0], pending[1].result() if pending[1] else None)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    @contextmanager
    def budget(self, seconds: float | None) -> Iterator[None]:
        """Bound every engine call made inside the block to ``seconds`` in all (backends that can stop
        a call: the JVM taggers stop it, and the chunks not done fail with reason ``timeout``).

        :func:`nlpkit.tokenize.dataset.tokenize_within` passes a document's remaining budget.
        """
        previous, self.call_budget_s = self.call_budget_s, seconds
        try:
            yield
        finally:
            self.call_budget_s = previous

    # -- internals ------------------------------------------------------------------------
    #: Whether the engine call releases the GIL so that tagging and token building overlap.
    pipelined: ClassVar[bool] = False

    def _call(self, chunks: list[str]) -> Any:
        """The engine part of analysing ``chunks`` (runs on the background thread when pipelined)."""
        return self._analyze(chunks)

    def _convert(self, chunks: list[str], raw: Any) -> list[list[Token] | ChunkError]:
        """Turn what ``_call`` returned into tokens (default: it already is tokens)."""
        return raw  # type: ignore[no-any-return]

    def _recover(self) -> None:
        """Restore the engine after it failed on a chunk (backends whose state an error corrupts)."""

    def _call_safe(self, chunks: list[str]) -> Any:
        """``_call``, or when it raises, every chunk analysed alone (a ``_PerChunk``)."""
        try:
            return self._call(chunks)
        except Exception as e:  # engines raise many types (Java exceptions, RuntimeError, ...)
            log.debug("%s: batch of %d chunks failed (%r); retrying one by one", self.name, len(chunks), e)
            self._recover()
            return self._one_by_one(chunks)

    def _one_by_one(self, chunks: list[str]) -> _PerChunk:
        out = _PerChunk()
        for c in chunks:
            try:
                res = self._convert([c], self._call([c]))
                if len(res) != 1:
                    raise RuntimeError(f"engine returned {len(res)} results for 1 chunk")
                out.append(res[0])
            except Exception as e:
                self._recover()
                out.append(ChunkError(f"{type(e).__name__}: {e}"))
        return out

    def _run_batch(self, texts: list[str]) -> list[list[Token]]:
        job = self._prepare(texts)
        return self._finish(job, self._call_safe(job.todo) if job.todo else None)

    def _prepare(self, texts: list[str]) -> _Job:
        plans: list[list[tuple[int, str]]] = []
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"expected str texts, got {type(t).__name__}: {t!r:.60}")
            plans.append(split_chunks(clean(t), self.max_chunk_chars, self.max_run_chars)
                         if t and not t.isspace() else [])
        self._ensure_engine()  # first: loading a dictionary may change the fingerprint (Okt)
        fp = self.fingerprint if self.cache else ""
        results: dict[str, tuple[Token, ...]] = {}
        todo: list[str] = []
        for plan in plans:
            for _, chunk in plan:
                if chunk in results:
                    continue
                hit = RESULT_CACHE.get((fp, chunk)) if self.cache else None
                if hit is not None:
                    results[chunk] = hit
                else:
                    results[chunk] = ()
                    todo.append(chunk)
        return _Job(plans, results, todo, fp)

    def _finish(self, job: _Job, raw: Any) -> list[list[Token]]:
        results = job.results
        errors: dict[str, ChunkError] = {}
        if job.todo:
            analysed: list[list[Token] | ChunkError]
            if isinstance(raw, _PerChunk):
                analysed = raw
            else:
                try:
                    analysed = self._convert(job.todo, raw)
                    if len(analysed) != len(job.todo):
                        raise RuntimeError(f"engine returned {len(analysed)} results for {len(job.todo)} chunks")
                except Exception as e:
                    log.debug("%s: batch result unusable (%r); retrying one by one", self.name, e)
                    self._recover()
                    analysed = self._one_by_one(job.todo)
            for chunk, toks in zip(job.todo, analysed):
                if isinstance(toks, ChunkError):
                    errors[chunk] = toks
                    continue
                if self._post_merge and self._merge_probe.search(chunk):
                    toks = merge_entries(self.name, chunk, toks, self._post_merge)
                if self.cache:
                    toks = tuple(toks)
                    RESULT_CACHE.put((job.fp, chunk), toks)
                results[chunk] = toks  # type: ignore[assignment]  # never handed out: every text gets a copy
        out: list[list[Token]] = []
        for plan in job.plans:
            if errors:
                failed = [(offset, chunk) for offset, chunk in plan if chunk in errors]
                if failed:
                    out.append(self._failure(failed, errors))
                    continue
            if len(plan) == 1:  # most texts of a short-text corpus: one copy, no loop
                offset, chunk = plan[0]
                out.append(shift_tokens(results[chunk], offset) if offset else list(results[chunk]))
                continue
            toks: list[Token] = []
            for offset, chunk in plan:
                toks.extend(shift_tokens(results[chunk], offset) if offset else results[chunk])
            out.append(toks)
        return out

    def _failure(self, failed: list[tuple[int, str]], errors: dict[str, ChunkError]) -> FailedTokens:
        offset, chunk = failed[0]
        more = f" (and {len(failed) - 1} more chunk(s))" if len(failed) > 1 else ""
        detail = errors[chunk].detail
        reason = "timeout" if detail.startswith(TIMEOUT_PREFIX) else "engine_error"
        error = TokenizeFailure(f"{self.name} failed on the chunk at character {offset} ({chunk[:40]!r}){more}: "
                                f"{detail[:200]}", reason=reason)
        log.warning("%s", error)
        return FailedTokens(error)


@dataclass
class _Job:
    """One batch between preparation (split, cache lookup) and token building."""

    plans: list[list[tuple[int, str]]]
    results: dict[str, tuple[Token, ...]]
    todo: list[str]
    fp: str
