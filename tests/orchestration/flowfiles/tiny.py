"""Small real flows used by the orchestration tests (imported by entrypoint path, like pipelines/)."""

from __future__ import annotations

from prefect import flow, task

from nlpkit.datasets.importer import ImportOptions, import_corpus
from pipelines._runtime import RUN_HOOKS, store


@task
def _word_count(text: str) -> int:
    return len(text.split())


@flow(name="tiny-import", **RUN_HOOKS)
def tiny_import(path: str, name: str = "tiny") -> dict[str, int]:
    """Import a small JSONL corpus and count its words with a task fan-out."""
    info = import_corpus(store(), name, path, ImportOptions(text_col="text"))
    texts = store().read(name).column("text").to_pylist()
    counts = [f.result() for f in _word_count.map(texts)]
    return {"rows": info.rows, "words": sum(counts)}


@flow(name="tiny-fail", **RUN_HOOKS)
def tiny_fail(reason: str = "broken on purpose") -> None:
    raise RuntimeError(reason)


def not_a_flow() -> None:
    """A plain function: flows check must refuse it as an entrypoint."""
