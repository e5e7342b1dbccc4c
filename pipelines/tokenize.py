"""Tokenize a text dataset of the store into ``tokens_<dataset>_<backend>``, incrementally.

Thin wiring of :mod:`nlpkit.tokenize.dataset`: plan (which documents are new or changed for
this backend+options+dictionary), fan batches out through the flow's task runner, write one
new version. Same library calls as ``nlpkit tokens dataset``. Documents the engine fails on
or that exceed ``tokenize.doc_budget_s`` (flows.yaml) are rejects of the version; the run goes on.
A run with no new or changed document writes nothing and is ``skipped: no new documents``.

Batches are large (``batch_size`` 8192 documents: a Prefect task costs ~0.2-0.4 CPU s of bookkeeping
on this machine, which at 256 documents per task was most of tokenizing NSMC) and at most
``_IN_FLIGHT`` are submitted ahead of the writer, so finished batches do not pile up in memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from nlpkit.settings import Settings
from nlpkit.tokenize.dataset import TokenBatch
from pipelines._runtime import RUN_HOOKS, publish, resolve

_IN_FLIGHT = 3  # batches submitted ahead of the one being written


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=[5])
def tokenize_batch(tokenizer: dict[str, Any], ids: list[str], texts: list[str], shas: list[str],
                   fingerprint: str, java_heap_mb: int, doc_budget_s: float | None) -> TokenBatch:
    """One batch of documents -> token rows and rejects (works in thread, process or dask workers)."""
    from nlpkit.tokenize.dataset import tokenize_texts
    from nlpkit.tokenize.jvm import configure_jvm

    configure_jvm(java_heap_mb)
    return tokenize_texts(tokenizer, ids, texts, shas, fingerprint, doc_budget_s=doc_budget_s)


@flow(name="tokenize", **RUN_HOOKS)
def tokenize_flow(
    dataset: str = "korean_news",
    tokenizer: str = "kiwi",
    user_dicts: list[str] | None = None,
    options: dict[str, Any] | None = None,
    text_column: str | list[str] = "text",
    id_column: str = "id",
    batch_size: int = 8192,
    data_dir: str | None = None,
    settings: Settings | str | None = None,
) -> dict[str, object]:
    """Tokenize the documents of ``dataset`` not yet tokenized with this tokenizer configuration."""
    from nlpkit.store import Store
    from nlpkit.tokenize.dataset import plan_tokenize, write_tokens

    cfg = resolve(settings, data_dir)
    st = Store(cfg.data_dir)
    options = dict(options or {})
    if cfg.tokenize.max_run_chars is not None:
        options.setdefault("max_run_chars", cfg.tokenize.max_run_chars)
    if tokenizer == "english" and cfg.nltk_data is not None:
        options.setdefault("nltk_data", str(cfg.nltk_data))
    dicts = [str(cfg.path(d)) for d in user_dicts or []]
    plan = plan_tokenize(st, dataset, tokenizer, user_dicts=dicts, options=options,
                         text_column=text_column, id_column=id_column)

    def results() -> Iterator[TokenBatch]:
        pending: deque[Any] = deque()
        for ids, texts, shas in plan.batches(batch_size):
            pending.append(tokenize_batch.submit(plan.tokenizer, ids, texts, shas, plan.fingerprint,
                                                 cfg.java_heap_mb, cfg.tokenize.doc_budget_s))
            if len(pending) > _IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    result = write_tokens(st, plan, results())
    if not result.written:  # nothing new or changed: the current version stays, nothing downstream to redo
        return publish("tokenize", {"dataset": result.out_name, "version": result.version, "rows": 0,
                                    "written": False, "tokenized": 0, "reused": result.reused,
                                    "skipped": "no new documents"})
    return publish("tokenize", {"dataset": result.out_name, "version": result.version, "written": result.written,
                                "tokenized": result.tokenized, "reused": result.reused, "dropped": result.dropped,
                                "rejected": result.rejected, "rows": result.tokenized,
                                "fingerprint": result.fingerprint})

