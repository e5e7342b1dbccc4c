"""The store page's "Other tools" example (docs/store.md, moved there from the README), run as written against a
store nlpkit built."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from nlpkit.store import Store

ROOT = Path(__file__).resolve().parents[2]


def test_readme_pandas_example_reads_a_version(store: Store) -> None:
    for rows in (["a", "b"], ["a", "b", "c"]):
        with store.write_version("imdb") as w:
            w.write(pa.table({"text": rows, "label": [1] * len(rows)}))
    page = (ROOT / "docs" / "store.md").read_text("utf-8")
    code = re.search(r"```python\n(import pyarrow\.fs as fs\nfrom deltalake import DeltaTable\n.*?)```", page,
                     re.S)
    assert code, "docs/store.md lost its pandas example"
    script = code.group(1) + "\nprint(len(df), list(df.columns))\n"
    for _ in range(5):  # and it exits cleanly every time (the native filesystem avoids the exit abort)
        res = subprocess.run([sys.executable, "-c", script], cwd=store.root.parent, capture_output=True, text=True,
                             env={**os.environ}, timeout=60)
        assert res.returncode == 0, res.stderr
        assert res.stdout.split("\n")[0] == "2 ['text', 'label']"  # v1 had two rows
