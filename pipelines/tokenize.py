"""Tokenize a text dataset of the store into ``tokens_<dataset>_<backend>``, incrementally.

Thin wiring of :mod:`nlpkit.tokenize.dataset`: plan (which documents are new or changed for
this backend+options+dictionary), fan batches out through the flow's task runner, write one
new version. Same library calls as ``nlpkit tokenize-dataset``. Documents the engine fails on
or that exceed ``tokenize.doc_budget_s`` (flows.yaml) are rejects of the version; the run goes on.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from nlpkit.tokenize.dataset import TokenBatch
from pipelines._runtime import RUN_HOOKS, settings, store


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=[5])
def tokenize_batch(tokenizer: dict[str, Any], ids: list[str], texts: list[str], shas: list[str],
                   fingerprint: str) -> TokenBatch:
    """One batch of documents -> token rows and rejects (works in thread, process or dask workers)."""
    from nlpkit.tokenize.dataset import tokenize_texts
    from nlpkit.tokenize.jvm import configure_jvm

    cfg = settings()
    configure_jvm(cfg.java_heap_mb)
    if tokenizer["name"] == "english" and cfg.nltk_data is not None:
        tokenizer = {**tokenizer, "options": {"nltk_data": str(cfg.nltk_data), **tokenizer.get("options", {})}}
    return tokenize_texts(tokenizer, ids, texts, shas, fingerprint, doc_budget_s=cfg.tokenize.doc_budget_s)


@flow(name="tokenize", **RUN_HOOKS)
def tokenize_flow(
    dataset: str = "korean_news",
    tokenizer: str = "kiwi",
    user_dicts: list[str] | None = None,
    options: dict[str, Any] | None = None,
    text_column: str | list[str] = "text",
    id_column: str = "id",
    batch_size: int = 256,
    data_dir: str | None = None,
) -> dict[str, object]:
    """Tokenize the documents of ``dataset`` not yet tokenized with this tokenizer configuration."""
    from nlpkit.tokenize.dataset import plan_tokenize, write_tokens

    st = store(data_dir)
    options = dict(options or {})
    if settings().tokenize.max_run_chars is not None:
        options.setdefault("max_run_chars", settings().tokenize.max_run_chars)
    plan = plan_tokenize(st, dataset, tokenizer, user_dicts=user_dicts or [], options=options,
                         text_column=text_column, id_column=id_column)
    futures = [tokenize_batch.submit(plan.tokenizer, ids, texts, shas, plan.fingerprint)
               for ids, texts, shas in plan.batches(batch_size)]
    result = write_tokens(st, plan, (f.result() for f in futures))
    return {"dataset": result.out_name, "version": result.version, "written": result.written,
            "tokenized": result.tokenized, "reused": result.reused, "dropped": result.dropped,
            "rejected": result.rejected, "rows": result.tokenized, "fingerprint": result.fingerprint}
