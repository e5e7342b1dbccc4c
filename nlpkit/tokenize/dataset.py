"""Tokenize a text dataset of the store into a versioned tokens dataset, incrementally.

Layout (chosen so each dataset has one schema and one meaning): one tokens dataset per
source dataset and backend, ``tokens_<dataset>_<backend>`` (e.g. ``tokens_korean_news_okt``).
Each version holds every current document of the source with columns

- ``id`` (string), ``text_sha256`` (of the tokenized text), ``fingerprint`` (tokenizer
  backend + options + dictionary sha256), ``n_tokens`` and
- ``tokens``: list of ``{form, tag, ptag, lemma, start, end}``.

A new version re-uses the rows of the previous one whose ``text_sha256`` and ``fingerprint``
still match and tokenizes only the rest; documents gone from the source are dropped. The
manifest's parameters record the tokenizer config, its ``fingerprint`` and ``dict_sha256``,
and the source version. Nothing new -> no new version (``TokenizeResult.written`` is False).

The steps are separate so a flow can fan batches out: :func:`plan_tokenize` ->
:func:`tokenize_texts` per batch (a module-level function of plain data, picklable for any
task runner) -> :func:`write_tokens`. :func:`tokenize_dataset` runs them in-process.

Rows are built column-wise (:func:`tokens_table`: one flat array per token field plus list
offsets, no dict per token; the same table ``tokens_to_arrow`` + ``Table.from_pylist`` give),
and :func:`write_tokens` streams them to one Parquet file of the version in row groups of
about ``_ROW_GROUP_TOKENS`` tokens (one Delta commit), so a run holds one row group of
Arrow rows, never the whole corpus as Python objects. The previous version's re-used rows are
read only when a new version is written.

Failures: a document the engine fails on, or one that exceeds the per-document time budget,
is a row of the version's ``rejects`` table (``reason`` ``engine_error`` or ``over_budget``,
``detail`` the message) and gets no tokens row, so the next run tries it again; every other
document is unaffected. The budget (``doc_budget_s``) is checked between engine calls of at
most ``_SLICE_CHARS`` characters on documents longer than ``_LONG_DOC_CHARS``, and each
slice's engine call gets the document's remaining budget (:meth:`BaseTokenizer.budget`): the
JVM taggers stop a call when it runs out, so such a document never overruns. Shorter
documents are tagged together in one batch; the JVM taggers stop any chunk over their
``time_limit_s`` (reason ``timeout``, e.g. Kkma on ``"가" * 40``), and the batch's time is
checked after it.
"""

from __future__ import annotations

import hashlib
import time
from contextlib import nullcontext
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from nlpkit.errors import DatasetError, DatasetNotFoundError, TokenizeFailure
from nlpkit.tokenize.core import FailedTokens
from nlpkit.tokenize.registry import get_tokenizer
from nlpkit.tokenize.text import clean, split_chunks
from nlpkit.tokenize.token_rows import TOKEN_TYPE, TOKENS_SCHEMA, read_tokens, tokens_table, tokens_to_arrow

__all__ = ["TOKEN_TYPE", "TOKENS_SCHEMA", "DEFAULT_DOC_BUDGET_S", "TokenBatch", "TokenizePlan", "TokenizeResult",
           "tokens_dataset_name", "plan_tokenize", "tokenize_texts", "tokenize_within", "tokenize_bounded", "write_tokens",
           "tokenize_dataset", "tokens_to_arrow", "tokens_table", "read_tokens"]

_REJECTS = pa.schema([("item", pa.string()), ("reason", pa.string()), ("detail", pa.string())])
#: Seconds one document may take (``Settings.tokenize.doc_budget_s``): a news article takes < 0.1 s.
DEFAULT_DOC_BUDGET_S = 60.0
_LONG_DOC_CHARS = 5_000  # longer documents are tagged alone, slice by slice, against the budget
_SLICE_CHARS = 2_000  # characters per engine call for a long document (budget check granularity)
_GROUP_DOCS = 512  # documents tagged together between budget checks (news: ~25 s on a busy machine)
#: Tokens per Parquet row group of a tokens dataset (batches are gathered up to this before a write):
#: ~25 batches of NSMC reviews per row group, while a run holds only ~10 MB of Arrow rows for it.
_ROW_GROUP_TOKENS = 250_000


class TokenBatch(NamedTuple):
    """What :func:`tokenize_texts` returns: token rows and the documents rejected (item, reason, detail)."""

    rows: pa.Table
    rejects: list[dict[str, str]]


def tokens_dataset_name(dataset: str, backend: str) -> str:
    """``tokens_<dataset>_<backend>``."""
    return f"tokens_{dataset}_{backend}"


@dataclass
class TokenizePlan:
    """What one incremental run has to do."""

    dataset: str
    source_version: str
    out_name: str
    tokenizer: dict[str, Any]  # {"name", "user_dicts", "options"} for get_tokenizer
    fingerprint: str
    dict_sha256: str
    todo_ids: list[str] = field(default_factory=list)
    todo_texts: list[str] = field(default_factory=list)
    todo_shas: list[str] = field(default_factory=list)
    kept: pa.Table | None = None  # rows re-used from the previous version (read by write_tokens, when it writes)
    keep_rows: list[int] = field(default_factory=list)  # their row numbers in previous_version
    previous_version: str | None = None  # the tokens dataset version compared with
    dropped: int = 0  # previous rows whose document is gone or changed
    rejects: list[dict[str, str]] = field(default_factory=list)
    #: recorded in the manifest so a dependant rebuild re-tokenizes with the same columns
    text_column: str | list[str] = "text"
    id_column: str = "id"

    def batches(self, size: int) -> list[tuple[list[str], list[str], list[str]]]:
        """``(ids, texts, shas)`` slices of the work, in order."""
        return [(self.todo_ids[i:i + size], self.todo_texts[i:i + size], self.todo_shas[i:i + size])
                for i in range(0, len(self.todo_ids), size)]


@dataclass(frozen=True)
class TokenizeResult:
    """Outcome of one run; ``version`` is the tokens dataset version now current."""

    out_name: str
    version: str | None
    written: bool
    tokenized: int
    reused: int
    dropped: int
    rejected: int
    fingerprint: str


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def plan_tokenize(store: Any, dataset: str, tokenizer: str, *, user_dicts: Sequence[str | Path] = (),
                  options: Mapping[str, Any] | None = None, text_column: str | Sequence[str] = "text",
                  id_column: str = "id", out_name: str | None = None) -> TokenizePlan:
    """Compare the source's latest version with the tokens dataset and list the documents to tokenize.

    ``text_column`` may name several columns (joined with a newline, e.g. ``["title", "text"]``).
    """
    opts = dict(options or {})
    tok = get_tokenizer(tokenizer, user_dicts=tuple(str(p) for p in user_dicts), **opts)
    info = store.latest(dataset)
    cols = [text_column] if isinstance(text_column, str) else list(text_column)
    table = store.read(dataset, version=info.version)
    missing = [c for c in [*cols, id_column] if c not in table.column_names]
    if missing:
        raise DatasetError(f"dataset {dataset!r} {info.version} has no column(s) {missing}; "
                           f"columns: {', '.join(table.column_names)} (set text_column/id_column)")
    ids = [str(x) for x in table.column(id_column).to_pylist()]
    parts = [table.column(c).to_pylist() for c in cols]
    out = out_name or tokens_dataset_name(dataset, tokenizer)
    plan = TokenizePlan(dataset, info.version, out, {"name": tokenizer, "user_dicts": [str(p) for p in user_dicts],
                                                     "options": opts}, tok.fingerprint, getattr(tok, "dict_sha256", ""))
    plan.text_column = text_column if isinstance(text_column, str) else list(text_column)
    plan.id_column = id_column
    previous: dict[tuple[str, str], int] = {}
    prev_table = None
    try:
        plan.previous_version = store.latest(out).version
        prev_table = store.read(out, columns=["id", "text_sha256", "fingerprint"], version=plan.previous_version)
    except DatasetNotFoundError:
        pass
    if prev_table is not None:
        for i, (pid, psha, pfp) in enumerate(zip(*(prev_table.column(c).to_pylist()
                                                   for c in ("id", "text_sha256", "fingerprint")))):
            if pfp == plan.fingerprint:
                previous[(pid, psha)] = i
    keep_rows: list[int] = []
    seen: set[str] = set()
    for doc_id, *values in zip(ids, *parts):
        if doc_id in seen:
            plan.rejects.append({"item": doc_id, "reason": "duplicate_id", "detail": f"{id_column} repeats"})
            continue
        seen.add(doc_id)
        if any(v is not None and not isinstance(v, str) for v in values) or all(v is None for v in values):
            plan.rejects.append({"item": doc_id, "reason": "no_text",
                                 "detail": f"{'/'.join(cols)} missing or not text: {values!r:.80}"})
            continue
        text = "\n".join(v for v in values if v)
        sha = _sha(text)
        hit = previous.get((doc_id, sha))
        if hit is not None:
            keep_rows.append(hit)
        else:
            plan.todo_ids.append(doc_id)
            plan.todo_texts.append(text)
            plan.todo_shas.append(sha)
    if prev_table is not None:
        plan.dropped = prev_table.num_rows - len(keep_rows)
        plan.keep_rows = keep_rows
    return plan


def _kept(store: Any, plan: TokenizePlan) -> pa.Table | None:
    """The previous version's re-used rows (read once, and only when a new version is written)."""
    if plan.kept is None and plan.keep_rows:
        prev = store.read(plan.out_name, version=plan.previous_version)
        plan.kept = prev.take(pa.array(plan.keep_rows)).cast(TOKENS_SCHEMA)
    return plan.kept


def tokenize_within(tok: Any, text: str, budget_s: float | None) -> list[Any]:
    """``tok.tokenize(text)`` as a list, or a :class:`FailedTokens` when it fails or takes over ``budget_s``.

    The text's chunks (the same the tokenizer makes) go to the engine in slices of
    ``_SLICE_CHARS`` characters; the budget is checked between slices, so a document stops
    at most one slice after its budget ran out.
    """
    if not hasattr(tok, "max_chunk_chars"):  # rule-based backends (nlpkit.tokenize.simple): linear, no engine
        return list(tok.tokenize(text))
    started = time.monotonic()
    chunks = split_chunks(clean(text), tok.max_chunk_chars, tok.max_run_chars)
    out: list[Any] = []
    i = 0
    while i < len(chunks):
        j, size = i, 0
        while j < len(chunks) and (j == i or size + len(chunks[j][1]) <= _SLICE_CHARS):
            size += len(chunks[j][1])
            j += 1
        left = None if budget_s is None else max(budget_s - (time.monotonic() - started), 0.001)
        with _call_budget(tok, left):
            slice_toks = list(tok.tokenize_batch([c for _, c in chunks[i:j]]))
        for (offset, _), toks in zip(chunks[i:j], slice_toks):
            if isinstance(toks, FailedTokens):
                reason = "over_budget" if toks.error.reason == "timeout" and left is not None and \
                    time.monotonic() - started >= budget_s else toks.error.reason
                return FailedTokens(TokenizeFailure(f"{toks.error} (chunk at character {offset})", reason=reason))
            out.extend(t._replace(start=t.start + offset, end=t.end + offset) for t in toks)
        i = j
        elapsed = time.monotonic() - started
        if budget_s is not None and elapsed > budget_s and i < len(chunks):
            return FailedTokens(TokenizeFailure(
                f"{tok.name} took over {budget_s:g} s (stopped at character {chunks[i][0]} of {len(text)}; "
                "raise tokenize.doc_budget_s to allow it)", reason="over_budget"))
    elapsed = time.monotonic() - started
    if budget_s is not None and elapsed > budget_s:
        return FailedTokens(TokenizeFailure(f"{tok.name} took {elapsed:.1f} s, over the {budget_s:g} s budget "
                                            "(raise tokenize.doc_budget_s to allow it)", reason="over_budget"))
    return out


def _call_budget(tok: Any, seconds: float | None) -> Any:
    """``tok.budget(seconds)`` where the backend can stop a call (JVM taggers), else a no-op context."""
    budget = getattr(tok, "budget", None)
    return budget(seconds) if budget is not None else nullcontext()


def tokenize_texts(tokenizer: Mapping[str, Any], ids: list[str], texts: list[str], shas: list[str],
                   fingerprint: str, *, doc_budget_s: float | None = DEFAULT_DOC_BUDGET_S) -> TokenBatch:
    """Tokenize one batch into rows of :data:`TOKENS_SCHEMA` plus rejects (runs in any worker: plain data).

    A document the engine fails on or that takes over ``doc_budget_s`` seconds (None: no
    budget) is a reject instead of a row; see the module docstring for what the budget guarantees.
    The batch is tagged ``_GROUP_DOCS`` documents at a time, each group's tokens turned into
    Arrow rows before the next, so a large batch (few flow tasks) neither holds its tokens as
    Python objects nor stretches the budget check.
    """
    tok = get_tokenizer(tokenizer["name"], user_dicts=tuple(tokenizer.get("user_dicts", ())),
                        **dict(tokenizer.get("options") or {}))
    if tok.fingerprint != fingerprint:
        raise DatasetError(f"tokenizer fingerprint changed during the run ({tok.fingerprint[:12]} != "
                           f"{fingerprint[:12]}): the dictionary file was edited; run again")
    warm_up = getattr(tok, "warm_up", None)
    if warm_up is not None:
        warm_up()  # loading the engine (JVM, models) is not a document's time
    tables: list[pa.Table] = []
    rejects: list[dict[str, str]] = []
    for g in range(0, len(texts), _GROUP_DOCS):
        group_ids, group_shas = ids[g:g + _GROUP_DOCS], shas[g:g + _GROUP_DOCS]
        results = _tokenize_group(tok, texts[g:g + _GROUP_DOCS], doc_budget_s)
        ok = [k for k, toks in enumerate(results) if not isinstance(toks, FailedTokens)]
        rejects += [{"item": group_ids[k], "reason": toks.error.reason, "detail": str(toks.error)}
                    for k, toks in enumerate(results) if isinstance(toks, FailedTokens)]
        tables.append(tokens_table([group_ids[k] for k in ok], [group_shas[k] for k in ok], fingerprint,
                                   [results[k] for k in ok]))
    rows = pa.concat_tables(tables) if tables else tokens_table([], [], fingerprint, [])
    return TokenBatch(rows, rejects)


def tokenize_bounded(tok: Any, texts: Iterable[str], budget_s: float | None,
                     group: int = 256) -> Iterator[list[Any]]:
    """``tok.tokenize_batch(texts)`` with the per-document budget of :func:`tokenize_within`: lazily,
    ``group`` texts at a time, one result per text in order (a :class:`FailedTokens` for a text that
    failed or ran over ``budget_s``). What ``nlpkit tokens text`` uses, so a 200k-character line stops
    at the budget instead of running for minutes."""
    it = iter(texts)
    while True:
        chunk = list(islice(it, group))
        if not chunk:
            return
        yield from _tokenize_group(tok, chunk, budget_s)


def _tokenize_group(tok: Any, texts: list[str], doc_budget_s: float | None) -> list[Any]:
    """Token lists (or :class:`FailedTokens`) of ``texts``: short ones in one engine batch, long ones alone."""
    results: list[Any] = [None] * len(texts)
    short = [i for i, t in enumerate(texts) if len(t) <= _LONG_DOC_CHARS]
    started = time.monotonic()
    for i, toks in zip(short, tok.tokenize_batch([texts[i] for i in short])):
        results[i] = toks
    elapsed = time.monotonic() - started
    if doc_budget_s is not None and elapsed > doc_budget_s and short:
        if len(short) == 1:
            results[short[0]] = FailedTokens(TokenizeFailure(
                f"{tok.name} took {elapsed:.1f} s, over the {doc_budget_s:g} s budget "
                "(raise tokenize.doc_budget_s to allow it)", reason="over_budget"))
        else:  # the batch took longer than one document may: find the documents that did, alone
            for i in short:
                results[i] = tokenize_within(tok, texts[i], doc_budget_s)
    for i, t in enumerate(texts):
        if len(t) > _LONG_DOC_CHARS:
            results[i] = tokenize_within(tok, t, doc_budget_s)
    return results


def write_tokens(store: Any, plan: TokenizePlan, batches: Iterable[TokenBatch]) -> TokenizeResult:
    """Write kept rows plus new ``batches`` as a new version (none when nothing changed).

    Documents the batches rejected go to the version's ``rejects`` table with the plan's own.
    Batches are gathered into row groups of about ``_ROW_GROUP_TOKENS`` tokens as they come
    (the batches of a 200k-document corpus are never all in memory).
    """
    if not plan.todo_ids and plan.dropped == 0 and plan.keep_rows:
        return TokenizeResult(plan.out_name, plan.previous_version, False, 0, len(plan.keep_rows), 0,
                              len(plan.rejects), plan.fingerprint)
    params = {"dataset": plan.dataset, "source_version": plan.source_version, "tokenizer": plan.tokenizer,
              "fingerprint": plan.fingerprint, "dict_sha256": plan.dict_sha256,
              "text_column": plan.text_column, "id_column": plan.id_column}
    tokenized = 0
    rejects = list(plan.rejects)
    kept_table = _kept(store, plan)
    with store.write_version(plan.out_name, parameters=params, source=f"{plan.dataset}@{plan.source_version}") as w:
        if kept_table is not None and kept_table.num_rows:
            w.write(kept_table)
            plan.kept = kept_table = None  # written: let it go
        failed = 0
        pending: list[pa.Table] = []
        pending_tokens = 0
        for batch in batches:
            if batch.rows.num_rows:
                pending.append(batch.rows)
                pending_tokens += pc.sum(batch.rows.column("n_tokens")).as_py() or 0
                if pending_tokens >= _ROW_GROUP_TOKENS:
                    w.write(pa.concat_tables(pending))
                    pending, pending_tokens = [], 0
            tokenized += batch.rows.num_rows
            failed += len(batch.rejects)
            rejects.extend(batch.rejects)
        if pending:
            w.write(pa.concat_tables(pending))
        if tokenized + failed != len(plan.todo_ids):
            raise DatasetError(f"{plan.out_name}: {tokenized} documents tokenized and {failed} rejected, "
                               f"{len(plan.todo_ids)} planned")
        kept = len(plan.keep_rows)
        if not kept and not tokenized:
            w.write(TOKENS_SCHEMA.empty_table())
        w.write(pa.Table.from_pylist(rejects, schema=_REJECTS), "rejects")
        w.counts.update(tokenized=tokenized, reused=kept, dropped=plan.dropped, rejected=len(rejects))
    version = store.latest(plan.out_name).version
    return TokenizeResult(plan.out_name, version, True, tokenized, kept, plan.dropped, len(rejects),
                          plan.fingerprint)


def tokenize_dataset(store: Any, dataset: str, tokenizer: str, *, user_dicts: Sequence[str | Path] = (),
                     options: Mapping[str, Any] | None = None, text_column: str | Sequence[str] = "text",
                     id_column: str = "id", out_name: str | None = None, batch_size: int = 512,
                     doc_budget_s: float | None = DEFAULT_DOC_BUDGET_S,
                     progress: Callable[[int], None] | None = None) -> TokenizeResult:
    """Tokenize the documents of ``dataset`` not yet tokenized with this backend+options+dictionary.

    Parameters
    ----------
    store : nlpkit.store.Store
    dataset : str
        Source dataset name (its latest version; columns ``id_column`` and ``text_column``).
    tokenizer : str
        Backend name (``kiwi``, ``okt``, ...); ``options`` and ``user_dicts`` go to ``get_tokenizer``.
    doc_budget_s : float or None
        Seconds one document may take; over it the document is a reject ``over_budget``.
    progress : callable, optional
        Called with the number of documents finished after each batch.

    Returns
    -------
    TokenizeResult
        ``out_name`` (``tokens_<dataset>_<backend>``) and its current version.

    Examples
    --------
    >>> res = tokenize_dataset(store, "korean_news", "kiwi",
    ...                        user_dicts=["dictionaries/ko/news.tsv"])  # doctest: +SKIP
    >>> store.read(res.out_name).column("tokens")[0][:2]                   # doctest: +SKIP
    """
    plan = plan_tokenize(store, dataset, tokenizer, user_dicts=user_dicts, options=options,
                         text_column=text_column, id_column=id_column, out_name=out_name)

    def run() -> Iterable[pa.Table]:
        for ids, texts, shas in plan.batches(batch_size):
            batch = tokenize_texts(plan.tokenizer, ids, texts, shas, plan.fingerprint, doc_budget_s=doc_budget_s)
            if progress is not None:
                progress(len(ids))
            yield batch

    return write_tokens(store, plan, run())
