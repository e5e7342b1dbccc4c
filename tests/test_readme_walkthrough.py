"""The README's analyst walk-through is true: each command, on a store built as `make run` builds korean_press
(dataset -> kiwi tokens with the news dictionary -> features -> analyst tables), prints every Korean word the
README shows in its output."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nlpkit.store import Store

ROOT = Path(__file__).resolve().parents[1]
_HANGUL_OR_HANJA = re.compile(r"[가-힣\u4e00-\u9fff]+")


def walkthrough() -> list[tuple[list[str], list[str]]]:
    """(arguments after `nlpkit`, the output lines shown) of each `$ .venv/bin/nlpkit ...` in the walk-through."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("<!-- walkthrough:start -->", 1)[1].split("<!-- walkthrough:end -->", 1)[0]
    out: list[tuple[list[str], list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ .venv/bin/nlpkit "):
                out.append((shlex.split(line.removeprefix("$ .venv/bin/nlpkit ")), []))
            elif out:
                out[-1][1].append(line)
    return out


def test_the_walkthrough_is_parsed() -> None:
    steps = walkthrough()
    assert [s[0][:2] for s in steps] == [["features", "similar"], ["features", "related"], ["features", "stories"],
                                         ["features", "outlets"], ["features", "outlets"]]
    assert all(lines for _, lines in steps)


@pytest.fixture(scope="module")
def make_run_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    from nlpkit.datasets.registry import rebuild
    from nlpkit.features.analysis import build_analysis
    from nlpkit.features.build import BuildOptions, build_features
    from nlpkit.tokenize.dataset import tokenize_dataset
    from nlpkit.tokenize.userdict import DEFAULT_KO_DICT

    store = Store(tmp_path_factory.mktemp("walkthrough") / "data")
    rebuild(store, "korean_press", str(shared_data / "korean_press_tweets"))
    tokenize_dataset(store, "korean_press", "kiwi", user_dicts=[str(DEFAULT_KO_DICT)])  # tokenize-korean-press
    build_features(store, "korean_press", BuildOptions(tokenizer="kiwi"))               # features-korean-press
    build_analysis(store, "korean_press")                                                # analysis-korean-press
    return store


@pytest.mark.slow
@pytest.mark.parametrize("step", range(5))
def test_each_walkthrough_command_prints_what_the_readme_shows(make_run_store: Store, step: int) -> None:
    args, shown = walkthrough()[step]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NLPKIT_DATA_DIR": str(make_run_store.root), "COLUMNS": "220",
           "NLPKIT_NO_PROGRESS": "1"}
    res = subprocess.run([sys.executable, "-m", "nlpkit.cli", *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    printed = set(_HANGUL_OR_HANJA.findall(res.stdout))
    wanted = {w for line in shown for w in _HANGUL_OR_HANJA.findall(line)}
    numbers = {n for line in shown for n in re.findall(r"\d+\.\d+%?", line)}  # scores, shares
    assert wanted or numbers
    assert not wanted - printed, (sorted(wanted - printed), res.stdout[-3000:])
    missing = numbers - set(re.findall(r"\d+\.\d+%?", res.stdout))
    assert not missing, (sorted(missing), res.stdout[-3000:])
