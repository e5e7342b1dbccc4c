"""The features build that the overlap and kill -9 tests run in a child process.

``python tests/features/_features_writer.py ROOT DATASET K barrier MARKER`` builds ``DATASET`` with
``--k K`` and creates the file ``MARKER`` when the build reaches its write phase (then writes, taking
the dataset's writer lock like any build). ``... kill STEP`` SIGKILLs the process when the features
write reaches ``STEP`` (``files``, ``artifacts``, ``side_tables``, ``committed``: see
:data:`nlpkit.store.datasets.crash_hook`); earlier writes (tokens) are not interrupted.
Kept apart from the test module so that the child imports no pytest.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from nlpkit.features.build import (
    BuildOptions,
    step_clusters,
    step_keywords,
    step_projections,
    step_similarity,
    step_terms,
    step_tfidf,
    write_outputs,
)
from nlpkit.store import Store, datasets

#: Options small enough for a test; ``tokenizer``, ``k`` and ``max_docs`` are what the flow compares.
def options(k: int) -> BuildOptions:
    return BuildOptions(k=k, k_values=(2, 3, 4), pca_components=8)


def main(root: str, dataset: str, k: int, mode: str, arg: str) -> None:
    store = Store(root)
    opts = options(k)
    f = step_terms(store, dataset, opts)
    for step in (step_tfidf, step_similarity, step_keywords, step_projections, step_clusters):
        f = step(f, opts)
    if mode == "barrier":
        Path(arg).touch()
    else:
        def hook(name: str) -> None:
            if name == arg:
                os.kill(os.getpid(), signal.SIGKILL)

        datasets.crash_hook = hook
    write_outputs(store, f, opts)
    print("committed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
