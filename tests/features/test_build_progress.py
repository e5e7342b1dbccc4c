"""`nlpkit features build` says what it is doing from its first second, one line per stage in a log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from nlpkit.datasets.importer import ImportOptions, import_corpus
from nlpkit.store import Store
from tests.cli_harness import ROOT
from tests.features.conftest import write_news_slice


def _seconds_to_import_the_cli(env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import nlpkit.cli"], env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def test_stage_lines_start_within_a_second_of_the_command(news_rows, tmp_path: Path):
    import_corpus(Store(tmp_path / "data"), "news", write_news_slice(news_rows, tmp_path / "n.jsonl", 3),
                  ImportOptions(label_col="label", id_col="id"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NLPKIT_DATA_DIR": str(tmp_path / "data")}
    env.pop("NLPKIT_FLOWS", None)
    startup = _seconds_to_import_the_cli(env)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-u", "-m", "nlpkit.cli", "features", "build", "news", "--no-report",
                             "--k", "3"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    lines: list[tuple[float, str]] = []
    for line in proc.stderr:
        lines.append((time.perf_counter() - t0, line.rstrip()))
    proc.wait(timeout=300)
    assert proc.returncode == 0, lines
    stages = [text for _, text in lines if text.startswith("features news:")]
    assert stages[0] == "features news: starting (loading scikit-learn and the tokenizer) ..."
    first = lines[0][0]
    assert first < startup + 1.0, f"first line after {first:.2f} s (importing the CLI alone: {startup:.2f} s)"
    order = [s.split(": ", 1)[1].removesuffix(" ...") for s in stages[1:]]
    assert order == ["read", "tokenize", "tfidf", "similar", "keywords", "projections", "clusters", "write"]
    assert lines[-1][0] - first > 1.0  # the stages did come while it worked, not all at the end
