"""Small real flows used by the orchestration tests (imported by entrypoint path, like pipelines/)."""

from __future__ import annotations

from prefect import flow, task

import os
import time

from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.settings import Settings
from nlpkit.store import Store
from pipelines._runtime import RUN_HOOKS, resolve


@task
def _word_count(text: str) -> int:
    return len(text.split())


@flow(name="tiny-import", **RUN_HOOKS)
def tiny_import(path: str, name: str = "tiny", settings: Settings | str | None = None) -> dict[str, int]:
    """Import a small JSONL corpus and count its words with a task fan-out."""
    cfg = resolve(settings)
    st = Store(cfg.data_dir)
    info = import_corpus(st, name, str(cfg.path(path)), ImportOptions(text_col="text"))
    texts = st.read(name).column("text").to_pylist()
    counts = [f.result() for f in _word_count.map(texts)]
    return {"rows": info.rows, "words": sum(counts)}


@task
def _where(data_dir: str) -> str:
    """Where a task would write: a task reading os.environ for settings would answer the env's data dir."""
    return data_dir


@flow(name="tiny-where", **RUN_HOOKS)
def tiny_where(settings: Settings | str | None = None) -> dict[str, object]:
    """Report the data dir and cwd the flow and its task saw (for the no-env/no-chdir tests)."""
    cfg = resolve(settings)
    return {"data_dir": _where(str(cfg.data_dir)), "cwd": os.getcwd(), "rows": 0}


@flow(name="tiny-nothing-new", **RUN_HOOKS)
def tiny_nothing_new(settings: Settings | str | None = None) -> dict[str, object]:
    """A flow that finds no new input."""
    return {"rows": 0, "skipped": "no new articles"}


@flow(name="tiny-sleep", **RUN_HOOKS)
def tiny_sleep(seconds: float = 60.0, settings: Settings | str | None = None) -> dict[str, object]:
    """Sleep (to be cancelled by SIGTERM); touches started.flag first so a test knows when."""
    cfg = resolve(settings)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    (cfg.data_dir / "started.flag").write_text("1")
    time.sleep(seconds)
    return {"rows": 0}


@flow(name="tiny-fail", **RUN_HOOKS)
def tiny_fail(reason: str = "broken on purpose") -> None:
    raise RuntimeError(reason)


def not_a_flow() -> None:
    """A plain function: flows check must refuse it as an entrypoint."""
