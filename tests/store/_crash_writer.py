"""The writer that the kill -9 tests run: ``build`` in-process, or as a child that SIGKILLs itself at a step.

``python tests/store/_crash_writer.py ROOT STEP OCCURRENCE N`` sets ``nlpkit.store.datasets.crash_hook``
to kill the process the ``OCCURRENCE``-th time ``Store.write_version`` reaches ``STEP``, then builds.
Kept apart from the test module so that the child imports only the store (no CLI, no pytest).
"""

from __future__ import annotations

import os
import signal
import sys

import pyarrow as pa

from nlpkit.store import Store, datasets


def build(store: Store, n: int) -> None:
    """Version ``demo`` with ``n`` data files of 100 rows, ``n`` rejects and a 1,000-byte artifact."""
    with store.write_version("demo", parameters={"n": n}, source="crash test") as w:
        for _ in range(n):
            w.write(pa.table({"x": [n] * 100}))
        w.write(pa.table({"item": [str(n)] * n, "reason": ["r"] * n}), "rejects")
        (w.dir / "model.bin").write_bytes(bytes([n]) * 1000)


def _main(root: str, step: str, occurrence: int, n: int) -> None:
    seen: dict[str, int] = {}

    def hook(name: str) -> None:
        seen[name] = seen.get(name, 0) + 1
        if name == step and seen[name] == occurrence:
            os.kill(os.getpid(), signal.SIGKILL)

    datasets.crash_hook = hook
    build(Store(root), n)
    print("committed", flush=True)


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
